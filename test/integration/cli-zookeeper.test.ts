/**
 * The real CLI with ZooKeeper: `--master zk://` follows a master failover,
 * and `--ha` lets a standby scheduler take over from a killed leader, and
 * from a leader that hands over on SIGTERM.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { publishLeaderToZooKeeper } from '../../src/emulator/zk-publisher.js';
import { withCluster } from '../helpers/emulator.js';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ensureBuilt, runCli } from './cli-harness.js';

before(() => ensureBuilt());

describe('CLI with ZooKeeper', () => {
  it('--master zk:// finds the leader and re-subscribes to the new one after a failover', async (t) => {
    const zk = await withZooKeeper(t);
    const cluster = await withCluster(t, { masters: 2 });
    const publisher = await publishLeaderToZooKeeper(cluster, zk.url('/mesos'), { sessionTimeoutMs: 3000 });
    t.after(() => publisher.close());

    const cli = runCli(t, ['--master', zk.url('/mesos'), '--cmd', 'sleep 2', '--maxtasks', '1', '--rounds', '1', '--wait', '0']);
    await cli.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)), 'a running task');
    cluster.faults.electLeader(1);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    const subscribes = cluster.received.filter((r) => r.call.type === 'SUBSCRIBE');
    assert.ok(subscribes.length >= 2);
    assert.equal(subscribes[0]!.master, 0);
    assert.equal(subscribes.at(-1)!.master, 1);
    assert.equal(subscribes.at(-1)!.call.framework_id?.value, cluster.frameworks()[0]!.id);
    assert.ok(cli.messages().some((m) => m.startsWith('re-subscribed with framework id')));
    assert.equal(cluster.received.filter((r) => r.call.type === 'ACCEPT').length, 1, 'the task was not launched again');
    await publisher.close(); // before ZooKeeper stops (after-hooks run in the order they were added)
  });

  it('--ha: a standby carries on with the same framework when the leader is killed', async (t) => {
    const zk = await withZooKeeper(t);
    const cluster = await withCluster(t);
    const ha = zk.url('/schedulers/nightly');
    const args = ['--master', cluster.masters[0]!.hostPort, '--ha', ha, '--name', 'nightly', '--cmd', 'sleep 2', '--maxtasks', '1', '--rounds', '2', '--wait', '0'];

    const first = runCli(t, args);
    await first.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)), 'the leader running a task');
    const second = runCli(t, args);
    await second.waitFor((l) => String(l.msg).startsWith('standing by for leadership'), 'the standby waiting');
    first.child.kill('SIGKILL');
    await first.exited;

    const { code } = await second.exited;
    assert.equal(code, 0, second.messages().join('\n'));
    assert.ok(second.messages().includes('elected leader; starting the framework'));
    const frameworkIds = new Set(cluster.frameworks().map((f) => f.id));
    assert.equal(frameworkIds.size, 1, 'one framework throughout');
    const subscribes = cluster.received.filter((r) => r.call.type === 'SUBSCRIBE');
    assert.equal(subscribes.at(-1)!.call.framework_id?.value, [...frameworkIds][0]);
    const launched = cluster.received.filter((r) => r.call.type === 'ACCEPT')
      .flatMap((r) => r.call.accept!.operations!.flatMap((op) => op.launch?.task_infos ?? []));
    assert.equal(launched.length, 2, 'one task per round, none launched twice');
  });

  it('--ha: SIGTERM on the leader hands over: no TEARDOWN, no KILL, the standby carries on at once', async (t) => {
    const zk = await withZooKeeper(t);
    const cluster = await withCluster(t);
    const ha = zk.url('/schedulers/rolling');
    const args = ['--master', cluster.masters[0]!.hostPort, '--ha', ha, '--name', 'rolling', '--cmd', 'sleep 3', '--maxtasks', '1', '--rounds', '2', '--wait', '0'];

    const first = runCli(t, args);
    await first.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)), 'the leader running a task');
    const second = runCli(t, args);
    await second.waitFor((l) => String(l.msg).startsWith('standing by for leadership'), 'the standby waiting');
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;
    assert.equal(firstExit.code, 0, first.messages().join('\n'));
    await second.waitFor((l) => l.msg === 'elected leader; starting the framework', 'the standby elected');
    assert.equal(cluster.received.filter((r) => r.call.type === 'TEARDOWN').length, 0, 'the leader did not tear the framework down');
    assert.equal(cluster.received.filter((r) => r.call.type === 'KILL').length, 0, 'the running task was not killed');

    const { code } = await second.exited;
    assert.equal(code, 0, second.messages().join('\n'));
    assert.equal(new Set(cluster.frameworks().map((f) => f.id)).size, 1, 'one framework throughout');
    assert.ok(cluster.tasks().every((x) => x.state === 'TASK_FINISHED'), 'the handed-over task finished');
    const launched = cluster.received.filter((r) => r.call.type === 'ACCEPT')
      .flatMap((r) => r.call.accept!.operations!.flatMap((op) => op.launch?.task_infos ?? []));
    assert.equal(launched.length, 2, 'one task per round, none launched twice');
  });
});
