/**
 * The state belongs to one cluster. The embedded master's state dies with it
 * (a SIGKILLed `--master local` run leaves nothing the next one inherits); a
 * state written for other masters is refused with one line and exit 2, unless
 * `--reset-state`, which logs the tasks the old state had in flight.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readStateFile } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function scratch(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t, 'cli-cluster-');
  return dir;
}

describe('cluster identity of the state', () => {
  it('a --master local run killed with SIGKILL leaves nothing to the next --master local run', async (t) => {
    const env = { XDG_STATE_HOME: scratch(t) };
    const common = ['--master', 'local', '--local-cpus', '2', '--local-mem', '1024', '--maxtasks', '2', '--rounds', '1', '--wait', '0'];
    const first = runCli(t, [...common, '--cmd', 'sleep 3'], { stateFile: false, env });
    let running = 0;
    await first.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)) && ++running === 2, 'two running tasks');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = runCli(t, [...common, '--cmd', 'true'], { stateFile: false, env });
    const { code } = await second.exited;
    const messages = second.messages();
    assert.equal(code, 0, messages.join('\n'));
    assert.ok(!messages.some((m) => m.startsWith('carrying on from')), 'no state inherited');
    assert.equal(messages.filter((m) => /^finished task /.test(m)).length, 2, 'its own two tasks ran');
    assert.ok(!messages.some((m) => /TASK_LOST|unknown task/i.test(m)), messages.join('\n'));
  });

  it('a state of other masters is refused with one line and exit 2; --reset-state starts afresh and names the tasks it forgets', async (t) => {
    const a = await withCluster(t);
    const b = await withCluster(t);
    const dir = scratch(t);
    const stateFile = join(dir, 'state.json');
    const job = ['--state-file', stateFile, '--cmd', 'sleep 30', '--maxtasks', '2', '--wait', '0'];
    const first = runCli(t, ['--master', a.masters[0]!.hostPort, ...job], { stateFile: false });
    let running = 0;
    await first.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)) && ++running === 2, 'two running tasks');
    first.child.kill('SIGKILL');
    await first.exited;
    const old = (await readStateFile(stateFile, 'mesos-http-scheduler'))!;
    assert.equal(old.cluster, `masters ${a.masters[0]!.hostPort}`);
    const inFlight = old.state.tasks.map((x) => x.taskId).sort();
    assert.equal(inFlight.length, 2);

    const refused = runCli(t, ['--master', b.masters[0]!.hostPort, ...job, '--rounds', '1'], { stateFile: false });
    const { code } = await refused.exited;
    assert.equal(code, 2);
    const lines = refused.stderr().trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr());
    assert.ok(lines[0]!.includes(stateFile) && lines[0]!.includes(`masters ${a.masters[0]!.hostPort}`) && lines[0]!.includes(`masters ${b.masters[0]!.hostPort}`) && lines[0]!.includes('--reset-state'), lines[0]);
    assert.equal(b.received.length, 0, 'nothing contacted the other master');
    assert.deepEqual((await readStateFile(stateFile, 'mesos-http-scheduler'))?.state, old.state, 'left untouched');

    const reset = runCli(t, ['--master', b.masters[0]!.hostPort, ...job, '--cmd', 'true', '--rounds', '1', '--reset-state'], { stateFile: false });
    const done = await reset.exited;
    assert.equal(done.code, 0, reset.messages().join('\n'));
    const forgot = reset.lines.find((l) => /^--reset-state: forgetting/.test(String(l.msg)));
    assert.ok(forgot, reset.messages().join('\n'));
    assert.deepEqual([...(forgot['taskIds'] as string[])].sort(), inFlight);
    for (const id of inFlight) assert.ok(String(forgot.msg).includes(id));
    assert.ok(!reset.messages().some((m) => m.startsWith('carrying on from')));
  });
});
