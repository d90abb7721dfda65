import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { LeaderElection, type LeadershipLost } from '../../src/zk/leader-election.js';
import { deadline, openSession } from './util.js';

/** Polls `cond` until true (fails after 20 s instead of hanging). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function settledFlag(p: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  void p.then(() => (flag.settled = true), () => (flag.settled = true));
  return flag;
}

test('LeaderElection against a real ZooKeeper', async (t) => {
  const zk = await withZooKeeper(t);
  const opts = { sessionTimeoutMs: 3000, spinDelayMs: 100 };
  const make = (t: { after(fn: () => unknown): void }, path: string, member?: Record<string, unknown>): LeaderElection => {
    const e = new LeaderElection(zk.url(path), { ...opts, ...(member ? { member } : {}) });
    t.after(() => e.close());
    return e;
  };

  await t.test('three members: exactly one leads, the others stand by; closing the leader elects the next', async (t) => {
    const a = make(t, '/ha/three', { name: 'a' });
    const b = make(t, '/ha/three', { name: 'b' });
    const c = make(t, '/ha/three', { name: 'c' });
    await a.waitForLeadership(deadline());
    const bLeads = b.waitForLeadership(deadline());
    const bFlag = settledFlag(bLeads);
    await until(() => b.state === 'member', 'b standing by');
    const cLeads = c.waitForLeadership(deadline());
    const cFlag = settledFlag(cLeads);
    await until(() => c.state === 'member', 'c standing by');

    const members = await a.members();
    assert.deepEqual(members.map((m) => m.info?.['name']), ['a', 'b', 'c']);
    assert.equal(members[0]?.node, a.memberPath);
    assert.equal(members[0]?.info?.pid, process.pid);
    assert.equal(typeof members[0]?.info?.hostname, 'string');
    assert.deepEqual([a.isLeader, b.isLeader, c.isLeader], [true, false, false]);
    assert.equal(bFlag.settled || cFlag.settled, false);

    await a.close(); // the leader's session ends: its ephemeral node goes
    await bLeads;
    assert.deepEqual([b.isLeader, c.isLeader], [true, false]);
    assert.equal(cFlag.settled, false);
    assert.deepEqual((await b.members()).map((m) => m.info?.['name']), ['b', 'c']);
  });

  await t.test('resign hands over at once, without calling the lost listeners; the resigned one can rejoin', async (t) => {
    const a = make(t, '/ha/resign', { name: 'a' });
    const b = make(t, '/ha/resign', { name: 'b' });
    const lost: LeadershipLost[] = [];
    a.onLeadershipLost((l) => lost.push(l));
    await a.waitForLeadership(deadline());
    const bLeads = b.waitForLeadership(deadline());
    await until(() => b.state === 'member', 'b standing by');
    await a.resign();
    assert.equal(a.isLeader, false);
    assert.equal(a.state, 'idle');
    await bLeads;
    assert.equal(b.isLeader, true);
    assert.deepEqual(lost, []);

    const aAgain = a.waitForLeadership(deadline());
    const flag = settledFlag(aAgain);
    await until(() => a.state === 'member', 'a standing by again');
    assert.deepEqual((await b.members()).map((m) => m.info?.['name']), ['b', 'a']);
    await b.resign();
    await aAgain;
    assert.equal(flag.settled, true);
    assert.equal(a.isLeader, true);
  });

  await t.test('a deleted member node ends leadership (lost: node-deleted)', async (t) => {
    const a = make(t, '/ha/deleted');
    const lost = new Promise<LeadershipLost>((resolve) => a.onLeadershipLost(resolve));
    await a.waitForLeadership(deadline());
    const node = a.memberPath;
    assert.ok(node);
    const admin = await openSession(t, zk.connectString);
    await admin.remove(node);
    assert.equal((await lost).reason, 'node-deleted');
    assert.equal(a.isLeader, false);
  });

  await t.test('aborting waitForLeadership rejects with the reason', async (t) => {
    const a = make(t, '/ha/abort');
    const b = make(t, '/ha/abort');
    await a.waitForLeadership(deadline());
    const ac = new AbortController();
    const pending = b.waitForLeadership(ac.signal);
    await until(() => b.state === 'member', 'b standing by');
    ac.abort(new Error('stop waiting'));
    await assert.rejects(pending, /stop waiting/);
    assert.equal(b.isLeader, false);
  });

  await t.test('a short ZooKeeper restart keeps the leader leading (same session) and the standby standing by', async (t) => {
    const a = new LeaderElection(zk.url('/ha/restart'), { sessionTimeoutMs: 8000, spinDelayMs: 100 });
    const b = new LeaderElection(zk.url('/ha/restart'), { sessionTimeoutMs: 8000, spinDelayMs: 100 });
    t.after(() => a.close());
    t.after(() => b.close());
    const lost: LeadershipLost[] = [];
    a.onLeadershipLost((l) => lost.push(l));
    await a.waitForLeadership(deadline());
    const bLeads = b.waitForLeadership(deadline(60_000));
    await until(() => b.state === 'member', 'b standing by');
    await zk.restart();
    await until(() => a.session?.isConnected === true && b.session?.isConnected === true, 'both reconnected');
    assert.deepEqual(lost, []);
    assert.deepEqual([a.isLeader, b.isLeader], [true, false]);
    await a.resign();
    await bLeads;
    assert.equal(b.isLeader, true);
  });

  await t.test('ZooKeeper unreachable past the session timeout: the leader is told at once, and leads again after ZooKeeper returns', async (t) => {
    const a = new LeaderElection(zk.url('/ha/outage'), { sessionTimeoutMs: 2000, spinDelayMs: 100 });
    t.after(() => a.close());
    const lost = new Promise<LeadershipLost>((resolve) => a.onLeadershipLost(resolve));
    await a.waitForLeadership(deadline());
    await zk.kill();
    const why = await lost;
    assert.ok(why.reason === 'connection-lost' || why.reason === 'session-expired', why.reason);
    assert.equal(a.isLeader, false);
    await zk.start();
    await a.waitForLeadership(deadline(30_000));
    assert.equal(a.isLeader, true);
  });
});
