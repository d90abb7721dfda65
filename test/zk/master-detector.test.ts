import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ZkLeaderSource } from '../../src/zk/master-detector.js';
import { createMasterContender, withdrawMasterContender } from '../../src/zk/master-contender.js';
import { CreateMode, ZkCode } from '../../src/zk/client.js';
import { deadline, masterInfo, openSession, testLogger } from './util.js';

test('ZkLeaderSource against a real ZooKeeper', async (t) => {
  const zk = await withZooKeeper(t);

  await t.test('picks the lowest json.info_ node, ignores other children, follows a change at once', async (t) => {
    const masters = await openSession(t, zk.connectString);
    await masters.mkdirp('/mesos/log_replicas');
    await masters.create('/mesos/info_', Buffer.from([8, 1, 16, 2]), CreateMode.EPHEMERAL_SEQUENTIAL); // pre-0.24 binary form
    const first = await createMasterContender(masters, '/mesos', masterInfo('m1', 5051));
    const second = await createMasterContender(masters, '/mesos', masterInfo('m2', 5052));
    await masters.create('/mesos/unrelated_', Buffer.from('x'), CreateMode.EPHEMERAL_SEQUENTIAL);

    const logger = testLogger();
    const source = new ZkLeaderSource(zk.url('/mesos'), logger ? { logger } : {});
    t.after(() => source.close());
    assert.equal(source.description, zk.url('/mesos'));
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:5051']);
    assert.equal(source.current()?.node, first);
    assert.equal(source.current()?.info.id, 'm1');

    const changed = source.changed(deadline());
    await withdrawMasterContender(masters, first);
    await changed;
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:5052']);
    assert.equal(source.current()?.node, second);

    // A later contender with a higher sequence does not take over.
    await createMasterContender(masters, '/mesos', masterInfo('m3', 5053));
    const changedAgain = source.changed(deadline());
    await withdrawMasterContender(masters, second);
    await changedAgain;
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:5053']);
  });

  await t.test('waits while there is no leader (not even the path), then finds one', async (t) => {
    const source = new ZkLeaderSource(zk.url('/empty/cluster'), { scheme: 'https', preferIp: true });
    t.after(() => source.close());
    const pending = source.candidates(deadline());
    let settled = false;
    void pending.then(() => (settled = true), () => (settled = true));
    const masters = await openSession(t, zk.connectString);
    await masters.mkdirp('/empty/cluster/log_replicas');
    assert.equal(settled, false, 'no json.info_ node yet: still waiting');
    await createMasterContender(masters, '/empty/cluster', masterInfo('m1', 6000));
    assert.deepEqual(await pending, ['https://127.0.0.1:6000']);
  });

  await t.test('changed() called while no leader is known takes the first leader as its baseline', async (t) => {
    const source = new ZkLeaderSource(zk.url('/baseline'));
    t.after(() => source.close());
    let resolved = false;
    const changed = source.changed(deadline()).then(() => (resolved = true));
    const masters = await openSession(t, zk.connectString);
    const first = await createMasterContender(masters, '/baseline', masterInfo('m1', 7101));
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:7101']);
    await createMasterContender(masters, '/baseline', masterInfo('m2', 7102));
    await masters.exists('/baseline'); // a round trip: the detector has seen the children change
    assert.equal(resolved, false, 'learning the first leader is not a change');
    await withdrawMasterContender(masters, first);
    await changed;
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:7102']);
  });

  await t.test('the leader going away resolves changed(); candidates() then waits for the next', async (t) => {
    const masters = await openSession(t, zk.connectString);
    const node = await createMasterContender(masters, '/gone', masterInfo('m1', 7001));
    const source = new ZkLeaderSource(zk.url('/gone'));
    t.after(() => source.close());
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:7001']);
    const changed = source.changed(deadline());
    await withdrawMasterContender(masters, node);
    await changed;
    assert.equal(source.current(), undefined);
    const next = source.candidates(deadline());
    await createMasterContender(masters, '/gone', masterInfo('m2', 7002));
    assert.deepEqual(await next, ['http://localhost:7002']);
  });

  await t.test('a leader whose session closes is replaced (ephemeral node)', async (t) => {
    const m1 = await openSession(t, zk.connectString);
    const m2 = await openSession(t, zk.connectString);
    await createMasterContender(m1, '/eph', masterInfo('m1', 8001));
    await createMasterContender(m2, '/eph', masterInfo('m2', 8002));
    const source = new ZkLeaderSource(zk.url('/eph'));
    t.after(() => source.close());
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:8001']);
    const changed = source.changed(deadline());
    await m1.close();
    await changed;
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:8002']);
  });

  await t.test('digest credentials: nodes are world-readable, only the creator may change them', async (t) => {
    const { ZkSession } = await import('../../src/zk/client.js');
    const { parseZkUrl } = await import('../../src/zk/url.js');
    const authed = new ZkSession(parseZkUrl(`zk://mesos:secret@${zk.connectString}/`), { sessionTimeoutMs: 3000 });
    t.after(() => authed.close());
    const node = await createMasterContender(authed, '/secured', masterInfo('m1', 5151));
    const source = new ZkLeaderSource(zk.url('/secured'));
    t.after(() => source.close());
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:5151'], 'readable without credentials');
    const anonymous = await openSession(t, zk.connectString);
    await assert.rejects(anonymous.remove(node), (err: unknown) => (err as { code?: number }).code === ZkCode.NO_AUTH);
    await withdrawMasterContender(authed, node);
  });

  await t.test('aborting candidates() rejects with the reason', async (t) => {
    const source = new ZkLeaderSource(zk.url('/nobody/here'));
    t.after(() => source.close());
    const ac = new AbortController();
    const pending = source.candidates(ac.signal);
    ac.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
  });

  await t.test('survives a ZooKeeper restart and keeps following', async (t) => {
    const masters = await openSession(t, zk.connectString, 6000);
    const first = await createMasterContender(masters, '/restart', masterInfo('m1', 9001));
    await createMasterContender(masters, '/restart', masterInfo('m2', 9002));
    const source = new ZkLeaderSource(zk.url('/restart'), { sessionTimeoutMs: 6000, spinDelayMs: 100 });
    t.after(() => source.close());
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:9001']);

    await zk.restart();
    await masters.connected(deadline());
    const changed = source.changed(deadline());
    await withdrawMasterContender(masters, first);
    await changed;
    assert.deepEqual(await source.candidates(deadline()), ['http://localhost:9002']);
  });
});

test('ZkLeaderSource: ZooKeeper unreachable past the session timeout means no leader, until it answers again', async (t) => {
  const zk = await withZooKeeper(t);
  const masters = await openSession(t, zk.connectString, 10_000);
  await createMasterContender(masters, '/outage', masterInfo('m1', 9101));
  const source = new ZkLeaderSource(zk.url('/outage'), { sessionTimeoutMs: 2000, spinDelayMs: 100 });
  t.after(() => source.close());
  assert.deepEqual(await source.candidates(deadline()), ['http://localhost:9101']);

  const changed = source.changed(deadline());
  await zk.kill();
  await changed;
  assert.equal(source.current(), undefined);
  const back = source.candidates(deadline(30_000));
  await zk.start();
  assert.deepEqual(await back, ['http://localhost:9101']);
});
