import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ZkStateStore } from '../../src/zk/state-store.js';
import { LeaderElection } from '../../src/zk/leader-election.js';
import { CreateMode } from '../../src/zk/client.js';
import { StateStoreError } from '../../src/state/store.js';
import type { PersistedState, PersistedTask } from '../../machines/contract.js';
import { deadline, openSession } from './util.js';

function state(over: Partial<PersistedState> = {}): PersistedState {
  return {
    version: 1,
    frameworkName: 'etl',
    frameworkId: 'fw-1',
    round: 1,
    completedRounds: 0,
    allFinished: true,
    phase: 'round',
    tasks: [{ taskId: 'etl-r-1-0', round: 1, index: 0, state: 'PENDING_LAUNCH' }],
    ...over,
  };
}

const isCode = (code: StateStoreError['code'], re?: RegExp) => (err: unknown): boolean =>
  err instanceof StateStoreError && err.code === code && (!re || re.test(err.message));

test('ZkStateStore against a real ZooKeeper', async (t) => {
  const zk = await withZooKeeper(t);
  const opts = { sessionTimeoutMs: 3000, spinDelayMs: 100 };
  const store = (t: { after(fn: () => unknown): void }, path: string, extra: object = {}): ZkStateStore => {
    const s = new ZkStateStore(zk.url(path), { ...opts, ...extra });
    t.after(() => s.close());
    return s;
  };

  await t.test('round trip; writes apply in call order', async (t) => {
    const a = store(t, '/sched/etl');
    assert.equal(a.node, '/sched/etl/state');
    assert.equal(await a.load('etl'), undefined);
    await a.save(state());
    const writes = [2, 3, 4, 5].map((round) => a.save(state({ round })));
    await a.flush();
    await Promise.all(writes);
    assert.deepEqual(await store(t, '/sched/etl').load('etl'), { state: state({ round: 5 }) });
  });

  await t.test('a writer that another instance took over from is refused (STATE_STALE), for good until it loads again', async (t) => {
    const old = store(t, '/sched/stale');
    await old.load('etl');
    await old.save(state({ round: 1 }));
    const next = store(t, '/sched/stale');
    assert.equal((await next.load('etl'))?.state.round, 1);
    await assert.rejects(old.save(state({ round: 99 })), isCode('STATE_STALE', /another instance wrote the state/));
    await next.save(state({ round: 2 }));
    await assert.rejects(old.save(state({ round: 98 })), isCode('STATE_STALE'));
    // Loading again re-claims: now the other one is stale.
    assert.equal((await old.load('etl'))?.state.round, 2);
    await old.save(state({ round: 10 }));
    await assert.rejects(next.save(state({ round: 3 })), isCode('STATE_STALE'));
    assert.equal((await store(t, '/sched/stale').load('etl'))?.state.round, 10);
  });

  await t.test('two first writers: the one that did not create the node is refused', async (t) => {
    const a = store(t, '/sched/first');
    const b = store(t, '/sched/first');
    assert.equal(await a.load('etl'), undefined);
    assert.equal(await b.load('etl'), undefined);
    await a.save(state({ round: 1 }));
    await assert.rejects(b.save(state({ round: 7 })), isCode('STATE_STALE', /created the state/));
  });

  await t.test('with an election: writes are fenced on the member node', async (t) => {
    const election = new LeaderElection(zk.url('/sched/ha'), opts);
    t.after(() => election.close());
    await election.waitForLeadership(deadline());
    const s = store(t, '/sched/ha', { election });
    await s.load('etl');
    await s.save(state({ round: 3 }));
    await election.resign();
    await assert.rejects(s.save(state({ round: 4 })), isCode('STATE_STALE', /no longer\) a member/));

    // The multi-op fence itself: a member node that vanishes while the session lives.
    const session = await openSession(t, zk.connectString);
    const member = await session.create('/sched/ha/member_fake_', undefined, CreateMode.EPHEMERAL_SEQUENTIAL);
    const fenced = store(t, '/sched/ha', { election: { session, memberPath: member } });
    assert.equal((await fenced.load('etl'))?.state.round, 3);
    await fenced.save(state({ round: 5 }));
    await session.remove(member);
    await assert.rejects(fenced.save(state({ round: 6 })), isCode('STATE_STALE', /leader-election node is gone/));
    assert.equal((await store(t, '/sched/ha').load('etl'))?.state.round, 5);
  });

  await t.test('corrupt or foreign state is reported and left untouched', async (t) => {
    const admin = await openSession(t, zk.connectString);
    await admin.mkdirp('/sched/bad');
    await admin.create('/sched/bad/state', Buffer.from('{not json'), CreateMode.PERSISTENT);
    const bad = store(t, '/sched/bad');
    await assert.rejects(bad.load('etl'), isCode('STATE_CORRUPT', /\/sched\/bad\/state.*not JSON.*deleteall/s));
    await assert.rejects(bad.save(state()), isCode('STATE_CORRUPT'));
    assert.equal((await admin.getData('/sched/bad/state')).data?.toString(), '{not json');

    await admin.mkdirp('/sched/foreign');
    const theirs = JSON.stringify(state({ frameworkName: 'billing' }));
    await admin.create('/sched/foreign/state', Buffer.from(theirs), CreateMode.PERSISTENT);
    const foreign = store(t, '/sched/foreign');
    await assert.rejects(foreign.load('etl'), isCode('STATE_FOREIGN', /'billing', not 'etl'/));
    await assert.rejects(store(t, '/sched/foreign').save(state()), isCode('STATE_FOREIGN'), 'save without load checks too');
    assert.equal((await admin.getData('/sched/foreign/state')).data?.toString(), theirs);
  });

  await t.test('100,000 tasks in flight: written in nodes under 1 MB, changes appended, recovered whole', async (t) => {
    const a = store(t, '/sched/big', { cluster: 'masters m1:5050', sessionTimeoutMs: 10_000 });
    assert.equal(await a.load('etl'), undefined);
    const tasks: PersistedTask[] = Array.from({ length: 100_000 }, (_, i) => ({
      taskId: `etl-9f86d081-1-${i}`, agentId: `0b05e6b3-9c6a-4478-81d7-72f500653184-S${i % 1000}`, round: 1, index: i, state: 'TASK_RUNNING',
    }));
    const big = state({ tasks, launchedInRound: 100_000 });
    await a.save(big);
    // A terminal update recorded as a change: appended, not a new snapshot.
    const ended = { ...tasks[7]!, state: 'TASK_FINISHED' as const };
    const { tasks: _t, ...header } = big;
    await a.commit([{ get state(): PersistedState { throw new Error('a delta needs no whole state'); }, delta: { header: { ...header, finishedInRound: 1 }, upsert: [ended], remove: [tasks[8]!.taskId] } }]);
    const admin = await openSession(t, zk.connectString);
    const children = await admin.getChildren('/sched/big/state');
    assert.ok(children.filter((c) => c.startsWith('snap-')).length >= 10, `the snapshot is in parts: ${children.length} nodes`);
    assert.equal(children.filter((c) => c.startsWith('journal-')).length, 1);
    for (const c of children) assert.ok((await admin.exists(`/sched/big/state/${c}`))!.dataLength < 1024 * 1024, c);
    const loaded = await store(t, '/sched/big').load('etl');
    assert.equal(loaded?.cluster, 'masters m1:5050');
    assert.equal(loaded?.state.tasks.length, 99_999);
    assert.equal(loaded?.state.finishedInRound, 1);
    assert.deepEqual(loaded?.state.tasks[7], ended);
    assert.ok(!loaded?.state.tasks.some((x) => x.taskId === tasks[8]!.taskId));
  });

  await t.test('a state of the old format (one node) is read and migrated once; the old writer is then refused', async (t) => {
    const admin = await openSession(t, zk.connectString);
    await admin.mkdirp('/sched/old');
    await admin.create('/sched/old/state', Buffer.from(JSON.stringify(state({ round: 4 }), null, 2)), CreateMode.PERSISTENT);
    const oldVersion = (await admin.exists('/sched/old/state'))!.version;
    const next = store(t, '/sched/old');
    assert.deepEqual(await next.load('etl'), { state: state({ round: 4 }) });
    const manifest = JSON.parse((await admin.getData('/sched/old/state')).data!.toString()) as { version: number; snapshot: string };
    assert.equal(manifest.version, 2, 'the node now holds a manifest');
    // The old leader writes with the version it knew: refused.
    await assert.rejects(admin.setData('/sched/old/state', Buffer.from(JSON.stringify(state({ round: 99 }))), oldVersion), (err: unknown) => (err as { code?: number }).code === -103);
    await next.save(state({ round: 5 }));
    assert.equal((await store(t, '/sched/old').load('etl'))?.state.round, 5);
    const again = JSON.parse((await admin.getData('/sched/old/state')).data!.toString()) as { version: number };
    assert.equal(again.version, 2);
  });

  await t.test('a write ZooKeeper does not complete within the timeout fails (STATE_IO) instead of waiting; retried after it is back, it lands', async (t) => {
    const s = store(t, '/sched/timeout', { timeoutMs: 1500 });
    await s.load('etl');
    await s.save(state({ round: 1 }));
    await zk.kill();
    try {
      await assert.rejects(s.save(state({ round: 2 })), isCode('STATE_IO', /did not complete within 1\.5 s \(--state-timeout\)/));
    } finally {
      await zk.start();
    }
    // As the runtime's state writer does: a write that times out while the
    // client is still reconnecting is tried again until it lands.
    let landed = false;
    for (let attempt = 0; attempt < 20 && !landed; attempt++) {
      try {
        await s.save(state({ round: 3 }));
        landed = true;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'STATE_IO') throw err;
      }
    }
    assert.ok(landed, 'the write lands once ZooKeeper is back');
    assert.equal((await store(t, '/sched/timeout').load('etl'))?.state.round, 3);
  });

  await t.test('the journal is compacted now and then: the nodes stay few, old snapshots and journal nodes are deleted', async (t) => {
    const a = store(t, '/sched/compact');
    await a.load('etl');
    let current = state({ tasks: [] });
    await a.save(current);
    const admin = await openSession(t, zk.connectString);
    let most = 0;
    for (let i = 0; i < 1100; i++) {
      const task: PersistedTask = { taskId: `etl-r1-${i % 50}`, round: 1, index: i % 50, state: i % 2 ? 'TASK_RUNNING' : 'PENDING_LAUNCH' };
      const { tasks, ...header } = current;
      current = { ...header, launchedInRound: i, tasks: [...tasks.filter((x) => x.taskId !== task.taskId), task] };
      await a.commit([{ state: current, delta: { header: { ...header, launchedInRound: i }, upsert: [task], remove: [] } }]);
      if (i % 100 === 99) most = Math.max(most, (await admin.getChildren('/sched/compact/state')).length);
    }
    assert.ok(most <= 1001, `at most ${most} nodes`);
    const children = await admin.getChildren('/sched/compact/state');
    const snapshots = new Set(children.filter((c) => c.startsWith('snap-')).map((c) => c.replace(/-\d+$/, '')));
    assert.equal(snapshots.size, 1, `one snapshot left: ${[...snapshots].join(', ')}`);
    const loaded = await store(t, '/sched/compact').load('etl');
    assert.equal(loaded?.state.launchedInRound, 1099);
    assert.deepEqual(new Set(loaded?.state.tasks.map((x) => JSON.stringify(x))), new Set(current.tasks.map((x) => JSON.stringify(x))));
  });
});
