/**
 * `--jobs` with `--ha` on a real ZooKeeper: the state records a digest of the
 * jobs file; a standby that takes over from a killed leader with another
 * file says so in one line, drains the jobs it does not know (their `grace`,
 * then KILL; never killed at once as unknown tasks), carries on with the
 * jobs it knows and starts the new ones.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Cluster } from '../../src/emulator/index.js';
import { withCluster } from '../helpers/emulator.js';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function launchedIds(cluster: Cluster): string[] {
  return cluster.received.filter((r) => r.call.type === 'ACCEPT')
    .flatMap((r) => (r.call.accept?.operations ?? []).flatMap((op) => (op.launch?.task_infos ?? []).map((task) => task.task_id.value)));
}

describe('--jobs with --ha', () => {
  it('a standby with another jobs file says so once, drains the job it does not know with that job\'s grace, carries on with the others', { timeout: 90_000 }, async (t) => {
    const zk = await withZooKeeper(t);
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-jobs-ha-');
    // a's first round still runs when the leader is killed.
    const a = '  - { name: a, cmd: "sleep 6", maxtasks: 1, rounds: 2, wait: 0 }';
    const leaderFile = join(dir, 'leader.yaml');
    // b's grace (2s) is not the default one (30s) that a job the standby does not know would otherwise get.
    writeFileSync(leaderFile, ['jobs:', a, '  - { name: b, cmd: "sleep 600", maxtasks: 1, rounds: 1, grace: 2s }', ''].join('\n'));
    const standbyFile = join(dir, 'standby.yaml');
    writeFileSync(standbyFile, ['jobs:', a, '  - { name: c, cmd: "true", maxtasks: 1, rounds: 1 }', ''].join('\n'));
    const ha = zk.url('/schedulers/etl');
    const common = ['--master', cluster.masters[0]!.hostPort, '--ha', ha, '--name', 'etl'];

    const leader = runCli(t, [...common, '--jobs', leaderFile]);
    await leader.waitFor((l) => l.msg === 'elected leader; starting the framework', 'the leader elected');
    const standby = runCli(t, [...common, '--jobs', standbyFile]);
    await standby.waitFor((l) => String(l.msg).startsWith('standing by for leadership'), 'the standby waiting');
    await leader.waitFor((l) => /^task b-r1-t1-\S+ in state TASK_RUNNING$/.test(String(l.msg)), 'b running on the leader');
    await leader.waitFor((l) => /^task a-r1-t1-\S+ in state TASK_RUNNING$/.test(String(l.msg)), 'a running on the leader');
    const bTask = launchedIds(cluster).find((id) => id.startsWith('b-r1-t1-'))!;
    assert.deepEqual(cluster.tasks().map((x) => [x.taskId.replace(/-[^-]+$/, ''), x.state]).sort(), [['a-r1-t1', 'TASK_RUNNING'], ['b-r1-t1', 'TASK_RUNNING']], 'a and b run when the leader is killed');
    leader.child.kill('SIGKILL');
    await leader.exited;
    const launchedByLeader = launchedIds(cluster);

    // When the standby logged its election (pino's `time`): its jobs start after it, b's grace with them.
    const elected = await standby.waitFor((l) => l.msg === 'elected leader; starting the framework', 'the standby elected');
    const electedAt = Number(elected.time);
    assert.ok(Number.isFinite(electedAt), JSON.stringify(elected));
    const { code } = await standby.exited;
    const log = standby.messages().join('\n') + standby.stderr();
    assert.equal(code, 0, log);

    const differs = standby.messages().filter((m) => m.startsWith('the jobs file differs'));
    assert.equal(differs.length, 1, log);
    assert.match(differs[0]!, /^the jobs file differs from the one .+ was written with \(digest \S+, now \S+\): jobs it no longer lists are stopped \(their grace, then kill\): b, the others carry on$/);

    // b: its task was known (no unknown-task handling), killed after b's grace, and b was forgotten.
    assert.ok(!standby.messages().some((m) => m.startsWith(`update for unknown task ${bTask}`)), log);
    const kills = cluster.received.filter((r) => r.call.type === 'KILL');
    assert.deepEqual(kills.map((r) => r.call.kill?.task_id.value), [bTask], 'only b\'s task is killed');
    const waited = kills[0]!.at - electedAt;
    assert.ok(waited >= 1900, `killed ${waited} ms after the standby was elected: not at once, after b's grace of 2 s`);
    assert.ok(waited < 25_000, `killed ${waited} ms after the standby was elected: b's grace of 2 s, not the default 30 s`);
    assert.equal(cluster.tasks().find((x) => x.taskId === bTask)?.state, 'TASK_KILLED');
    assert.ok(standby.messages().includes('job b: removed: its tasks have ended, the job is forgotten'), log);

    // a carried on (its running task kept, nothing launched twice), c started and finished.
    const ids = launchedIds(cluster);
    assert.equal(new Set(ids).size, ids.length, 'no task id launched twice');
    assert.deepEqual(ids.filter((id) => id.startsWith('a-')).map((id) => id.replace(/-[^-]+$/, '')), ['a-r1-t1', 'a-r2-t1']);
    assert.ok(launchedByLeader.some((id) => id.startsWith('a-r1-t1-')) && !launchedByLeader.some((id) => id.startsWith('a-r2-')), 'a\'s second round is the standby\'s');
    assert.ok(ids.some((id) => id.startsWith('c-r1-t1-')) && !launchedByLeader.some((id) => id.startsWith('c-')), 'c started by the standby');
    assert.ok(!ids.slice(launchedByLeader.length).some((id) => id.startsWith('b-')), 'b started nothing on the standby');
    assert.equal(new Set(cluster.frameworks().map((f) => f.id)).size, 1, 'one framework throughout');
    assert.ok(cluster.tasks().filter((x) => !x.taskId.startsWith('b-')).every((x) => x.state === 'TASK_FINISHED'));
  });
});
