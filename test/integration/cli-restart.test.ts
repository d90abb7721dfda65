/**
 * The real CLI killed in the middle of a round and started again with the same
 * state file: it re-subscribes with its framework id and carries on with the
 * tasks that kept running instead of launching them again; a job paused
 * through the control API is still paused after it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readStateFile } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';
import { setTimeout as sleep } from 'node:timers/promises';

before(() => ensureBuilt());

describe('CLI restart', () => {
  it('carries on from the state file after being killed', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-restart-');
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

  it('a pause survives SIGKILL and restart: no round starts until resumed', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-restart-pause-');
    const stateFile = join(dir, 'state.json');
    // A cooldown of 1 s: unpaused, round 2 would start a second after round 1.
    const args = ['--master', cluster.masters[0]!.hostPort, '--state-file', stateFile, '--name', 'etl', '--cmd', 'true', '--maxtasks', '1', '--wait', '1', '--http-port', '0'];
    const baseOf = async (cli: ReturnType<typeof runCli>) => String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const post = async (base: string, action: string) => {
      const res = await fetch(`${base}/api/jobs/etl/${action}`, { method: 'POST' });
      assert.equal(res.status, 200, await res.clone().text());
      return await res.json() as { changed: boolean; state: { phase: string; paused: boolean } };
    };
    const job = async (base: string) => await (await fetch(`${base}/api/jobs/etl`)).json() as { state: string; paused: boolean };

    const first = runCli(t, args, { stateFile: false });
    const firstBase = await baseOf(first);
    await first.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');
    const paused = await post(firstBase, 'pause');
    assert.deepEqual([paused.changed, paused.state.paused], [true, true]);
    // The pause is on disk before the answer can matter: wait for it, then kill.
    for (let i = 0; (await readStateFile(stateFile, 'etl'))?.state.paused !== true; i++) {
      assert.ok(i < 100, 'the paused flag is written to the state file');
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const roundsBefore = cluster.received.filter((r) => r.call.type === 'ACCEPT').length;

    const second = runCli(t, args, { stateFile: false });
    const secondBase = await baseOf(second);
    await second.waitFor((l) => /^re-subscribed with framework id/.test(String(l.msg)), 're-subscribed');
    // Longer than the 1 s cooldown (not a timing assertion: it only gives a wrong round time to start).
    await sleep(2500);
    assert.deepEqual(await job(secondBase).then((j) => [j.state, j.paused]), ['paused', true]);
    assert.ok(!second.messages().some((m) => /^round 2: launching/.test(m)), second.messages().join('\n'));
    assert.equal(cluster.received.filter((r) => r.call.type === 'ACCEPT').length, roundsBefore, 'nothing launched while paused');

    const resumed = await post(secondBase, 'resume');
    assert.deepEqual([resumed.changed, resumed.state.paused], [true, false]);
    await second.waitFor((l) => /^round 2 done/.test(String(l.msg)), 'round 2 after resume');
    assert.equal((await readStateFile(stateFile, 'etl'))?.state.paused, undefined, 'resume is written too');
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
