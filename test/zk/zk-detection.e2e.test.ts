/**
 * End to end: the emulated cluster publishes its leader to a real ZooKeeper
 * (src/emulator/zk-publisher.ts) and ZkLeaderSource follows master failovers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { withCluster } from '../helpers/emulator.js';
import { publishLeaderToZooKeeper } from '../../src/emulator/zk-publisher.js';
import { ZkLeaderSource } from '../../src/zk/master-detector.js';
import { deadline } from './util.js';

async function leaderPidAt(base: string): Promise<string | undefined> {
  const res = await fetch(`${base}/master/state`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { leader?: string }).leader;
}

test('zk:// detection follows the emulated cluster through failovers', async (t) => {
  const zk = await withZooKeeper(t);
  const cluster = await withCluster(t, { masters: 2, agents: 0, mode: 'simulated' });
  const publisher = await publishLeaderToZooKeeper(cluster, zk.url('/mesos'), { sessionTimeoutMs: 3000 });
  t.after(() => publisher.close());
  const source = new ZkLeaderSource(zk.url('/mesos'), { sessionTimeoutMs: 3000 });
  t.after(() => source.close());

  const [m0, m1] = cluster.masters;
  assert.ok(m0 && m1);
  assert.deepEqual(await source.candidates(deadline()), [m0.url]);
  assert.equal(source.current()?.info.id, m0.id);
  assert.equal(await leaderPidAt(m0.url), cluster.masterInfo(0).pid, 'the detected URL is the leading master');

  const changed = source.changed(deadline());
  cluster.faults.electLeader(1);
  await changed;
  assert.deepEqual(await source.candidates(deadline()), [m1.url]);
  assert.equal(source.current()?.info.id, m1.id);
  assert.equal(await leaderPidAt(m1.url), cluster.masterInfo(1).pid);

  // No leader: candidates() waits until one is elected again.
  const gone = source.changed(deadline());
  cluster.faults.electLeader(undefined);
  await gone;
  assert.equal(source.current(), undefined);
  const next = source.candidates(deadline());
  cluster.faults.electLeader(0);
  assert.deepEqual(await next, [m0.url]);

  const withdrawn = source.changed(deadline());
  await publisher.close();
  await withdrawn;
  assert.equal(source.current(), undefined, 'closing the publisher withdraws the node');
});
