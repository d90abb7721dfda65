import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ZkStateStore } from '../../src/zk/state-store.js';
import { LeaderElection } from '../../src/zk/leader-election.js';
import { CreateMode } from '../../src/zk/client.js';
import { StateStoreError } from '../../src/state/store.js';
import type { PersistedState } from '../../machines/contract.js';
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
    await assert.rejects(bad.load('etl'), isCode('STATE_CORRUPT', /\/sched\/bad\/state.*not JSON.*delete it/s));
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
});
