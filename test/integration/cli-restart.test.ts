/**
 * The real CLI killed in the middle of a round and started again with the same
 * state file: it re-subscribes with its framework id and carries on with the
 * tasks that kept running instead of launching them again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readStateFile } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli } from './cli-harness.js';

before(() => ensureBuilt());

describe('CLI restart', () => {
  it('carries on from the state file after being killed', async (t) => {
    const cluster = await withCluster(t);
    const dir = mkdtempSync(join(tmpdir(), 'cli-restart-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const stateFile = join(dir, 'state.json');
    const args = ['--master', cluster.masters[0]!.hostPort, '--state-file', stateFile, '--cmd', 'sleep 2', '--maxtasks', '2', '--rounds', '1', '--wait', '0'];

    const first = runCli(t, args, { stateFile: false });
    let running = 0;
    await first.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)) && ++running === 2, 'two running tasks');
    first.child.kill('SIGKILL');
    await first.exited;
    const frameworkId = cluster.frameworks()[0]!.id;
    const saved = (await readStateFile(stateFile, 'mesos-http-scheduler'))!.state;
    assert.equal(saved.frameworkId, frameworkId);
    assert.equal(saved.tasks.length, 2);

    const second = runCli(t, args, { stateFile: false });
    const { code } = await second.exited;
    assert.equal(code, 0, second.messages().join('\n'));
    const subscribes = cluster.received.filter((r) => r.call.type === 'SUBSCRIBE');
    assert.equal(subscribes.length, 2);
    assert.equal(subscribes[1]!.call.framework_id?.value, frameworkId);
    assert.equal(subscribes[1]!.call.subscribe!.framework_info.id?.value, frameworkId);
    const launchedTasks = cluster.received.filter((r) => r.call.type === 'ACCEPT')
      .flatMap((r) => r.call.accept!.operations!.flatMap((op) => op.launch?.task_infos ?? []));
    assert.equal(launchedTasks.length, 2, 'no task launched twice');
    assert.deepEqual(cluster.tasks().map((x) => x.state), ['TASK_FINISHED', 'TASK_FINISHED']);
    assert.ok(second.messages().some((m) => m.startsWith('carrying on from state file')));
  });
});
