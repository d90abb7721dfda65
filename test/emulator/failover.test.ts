/**
 * Framework failover (disconnect, re-subscribe, failover_timeout, second
 * subscriber, TEARDOWN) and leader failover, over plain HTTP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

async function open(t: { after: (fn: () => void) => void }, url: string, call = subscribeCall('fw', { failover_timeout: 60 })): Promise<Subscription> {
  const sub = await Subscription.open(url, call);
  t.after(() => sub.close());
  return sub;
}

test('a second SUBSCRIBE with the same id fails the first stream over', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const first = await open(t, url);
  await first.next('SUBSCRIBED');
  const id = { value: first.frameworkId };
  const second = await open(t, url, subscribeCall('fw', { id, failover_timeout: 60 }));
  const sub2 = await second.next('SUBSCRIBED');
  assert.equal(sub2.subscribed!.framework_id.value, id.value);
  const err = await first.next('ERROR');
  assert.equal(err.error!.message, 'Framework failed over');
  await first.closed();
  assert.notEqual(second.streamId, first.streamId);
  // The old stream id is no longer valid, the new one is.
  assert.equal((await post(url, { type: 'REVIVE', framework_id: id }, { streamId: first.streamId })).status, 400);
  assert.equal((await post(url, { type: 'REVIVE', framework_id: id }, { streamId: second.streamId })).status, 202);
});

test('a disconnected framework keeps its tasks until failover_timeout; re-subscribing takes them back', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const first = await open(t, url);
  const offer = (await first.next('OFFERS')).offers!.offers![0]!;
  await launch(url, first, [offer], [commandTask('keep', offer, 'sleep 1000')]);
  await updateOf(first, 'keep', 'TASK_STARTING'); // not acknowledged: must be re-sent after re-subscription
  first.close();
  await eventually(() => (c.frameworks()[0]?.connected === false ? true : undefined));
  assert.equal(c.frameworks()[0]!.removed, false);
  const again = await open(t, url, subscribeCall('fw', { id: { value: first.frameworkId }, failover_timeout: 60 }));
  await again.next('SUBSCRIBED');
  const resent = (await updateOf(again, 'keep', 'TASK_STARTING')).update!.status;
  await acknowledge(url, again, resent);
  await updateOf(again, 'keep', 'TASK_RUNNING');
  assert.equal(c.tasks()[0]!.state, 'TASK_RUNNING');
});

test('after failover_timeout the framework is removed, its tasks killed, and its id refused', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url, subscribeCall('fw', { failover_timeout: 0.05 }));
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(url, sub, [offer], [commandTask('doomed', offer, 'sleep 1000')]);
  await updateOf(sub, 'doomed', 'TASK_STARTING');
  sub.close();
  await eventually(() => (c.frameworks()[0]?.removed ? true : undefined));
  assert.equal(c.tasks()[0]!.state, 'TASK_KILLED');
  const later = await open(t, url, subscribeCall('fw', { id: { value: sub.frameworkId } }));
  assert.equal(later.status, 200);
  const err = await later.next('ERROR');
  assert.equal(err.error!.message, 'Framework has been removed');
  await later.closed();
});

test('TEARDOWN removes the framework at once and closes its stream', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  await sub.next('SUBSCRIBED');
  assert.equal((await post(url, { type: 'TEARDOWN', framework_id: { value: sub.frameworkId } }, { streamId: sub.streamId })).status, 202);
  await sub.closed();
  assert.equal(c.frameworks()[0]!.removed, true);
});

test('a new leader knows frameworks and tasks; the old leader redirects and its streams end', async (t) => {
  const c = await withCluster(t, { masters: 3, agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const changes: Array<number | undefined> = [];
  c.on('leaderChanged', (i: number | undefined) => changes.push(i));
  const oldUrl = c.leaderUrl()!;
  const sub = await open(t, oldUrl);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(oldUrl, sub, [offer], [commandTask('survivor', offer, 'sleep 1000')]);
  await acknowledge(oldUrl, sub, (await updateOf(sub, 'survivor', 'TASK_STARTING')).update!.status);
  await acknowledge(oldUrl, sub, (await updateOf(sub, 'survivor', 'TASK_RUNNING')).update!.status);

  c.faults.electLeader(2);
  await sub.closed();
  assert.ok(sub.endError, 'the old leader cut the stream (no last chunk)');
  assert.deepEqual(changes, [2]);
  const newUrl = c.leaderUrl()!;
  assert.equal(newUrl, c.masters[2]!.url);
  // Once restarted, the old leader answers as a non-leader.
  const redirected = await eventually(async () => {
    try { return await post(oldUrl, subscribeCall('fw', { id: { value: sub.frameworkId } })); } catch { return undefined; }
  });
  assert.equal(redirected.status, 307);
  assert.equal(redirected.headers.location, `//${c.masters[2]!.hostPort}/api/v1/scheduler`);

  const again = await open(t, newUrl, subscribeCall('fw', { id: { value: sub.frameworkId }, failover_timeout: 60 }));
  const subscribed = await again.next('SUBSCRIBED');
  assert.deepEqual(subscribed.subscribed!.master_info, c.masterInfo(2));
  await post(newUrl, { type: 'RECONCILE', framework_id: { value: sub.frameworkId }, reconcile: { tasks: [{ task_id: { value: 'survivor' } }] } }, { streamId: again.streamId });
  const status = (await updateOf(again, 'survivor')).update!.status;
  assert.equal(status.state, 'TASK_RUNNING');
  assert.equal(status.reason, 'REASON_RECONCILIATION');
  // Offers on the new leader carry its id.
  const offer2 = (await again.next('OFFERS')).offers!.offers![0]!;
  assert.ok(offer2.id.value.startsWith(c.masterInfo(2).id));
});

test('the old leader exits: its stream is reset mid-body, its port refuses connections for the restart time, then it redirects', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 1, masterRestartMs: 60_000 });
  const oldUrl = c.leaderUrl()!;
  const sub = await open(t, oldUrl);
  await sub.next('OFFERS');
  const before = sub.records.length;
  c.faults.electLeader(1);
  await sub.closed();
  assert.match(String(sub.endError?.message ?? sub.endError), /other side closed|ECONNRESET|terminated|socket/i);
  assert.equal(sub.records.length, before, 'no ERROR or other last event: the connection is just gone');
  const refused = await post(oldUrl, subscribeCall('fw')).then(() => undefined, (err: Error & { code?: string }) => err);
  assert.equal(refused?.code, 'ECONNREFUSED');
  // The framework is disconnected but not removed; the new leader takes it back.
  const again = await open(t, c.leaderUrl()!, subscribeCall('fw', { id: { value: sub.frameworkId }, failover_timeout: 60 }));
  assert.equal((await again.next('SUBSCRIBED')).subscribed!.framework_id.value, sub.frameworkId);
});

test('the restarted old leader answers 307 to the new leader, or 503 without one', async (t) => {
  const c = await withCluster(t, { masters: 3, agents: 0, masterRestartMs: 100 });
  const m0 = c.masters[0]!.url;
  c.faults.electLeader(1);
  const redirected = await eventually(async () => { try { return await post(m0, subscribeCall('fw')); } catch { return undefined; } });
  assert.equal(redirected.status, 307);
  assert.equal(redirected.headers.location, `//${c.masters[1]!.hostPort}/api/v1/scheduler`);
  c.faults.electLeader(undefined);
  const m1 = c.masters[1]!.url;
  const none = await eventually(async () => { try { return await post(m1, subscribeCall('fw')); } catch { return undefined; } });
  assert.equal(none.status, 503);
});

test('the end-streams fault ends each stream cleanly with the last chunk and keeps the leader', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  await sub.next('SUBSCRIBED');
  const res = await post(url, '', { path: '/emulator/faults/end-streams' });
  assert.equal(res.status, 200);
  await sub.closed();
  assert.equal(sub.endError, undefined);
  assert.equal(c.leaderIndex(), 0);
  await eventually(() => (c.frameworks()[0]?.connected === false ? true : undefined));
});

test('with agentReregisterDelayMs, a new leader does not answer for tasks until their agent re-registers', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 1, mode: 'simulated', simulatedTaskMs: 60_000, agentReregisterDelayMs: 300 });
  const url0 = c.leaderUrl()!;
  const sub = await open(t, url0);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(url0, sub, [offer], [commandTask('kept', offer, 'sleep 1000')]);
  await acknowledge(url0, sub, (await updateOf(sub, 'kept', 'TASK_STARTING')).update!.status);
  await acknowledge(url0, sub, (await updateOf(sub, 'kept', 'TASK_RUNNING')).update!.status);
  c.faults.electLeader(1);
  const url1 = c.leaderUrl()!;
  const again = await open(t, url1, subscribeCall('fw', { id: { value: sub.frameworkId }, failover_timeout: 60 }));
  await again.next('SUBSCRIBED');
  const fw = { value: sub.frameworkId };
  const reconcile = () => post(url1, { type: 'RECONCILE', framework_id: fw, reconcile: { tasks: [{ task_id: { value: 'kept' }, agent_id: offer.agent_id }] } }, { streamId: again.streamId });
  await reconcile();
  // Keep asking (as the reconciliation algorithm does) until the agent is back: the first answer is the task's real state.
  const answer = await eventually(async () => {
    const found = again.events.find((e) => e.type === 'UPDATE');
    if (found) return found;
    await reconcile();
    await new Promise((r) => setTimeout(r, 50));
    return undefined;
  });
  assert.equal(answer.update!.status.state, 'TASK_RUNNING');
});

test('while agents are recovering, reconciliation about their tasks gets no answer and they make no offers', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 1, mode: 'simulated', simulatedTaskMs: 60_000, agentReregisterDelayMs: 60_000 });
  const url0 = c.leaderUrl()!;
  const sub = await open(t, url0);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(url0, sub, [offer], [commandTask('hidden', offer, 'sleep 1000')]);
  await updateOf(sub, 'hidden', 'TASK_STARTING');
  c.faults.electLeader(1);
  const url1 = c.leaderUrl()!;
  const again = await open(t, url1, subscribeCall('fw', { id: { value: sub.frameworkId }, failover_timeout: 60 }));
  await again.next('SUBSCRIBED');
  const fw = { value: sub.frameworkId };
  const call = (body: object) => post(url1, { framework_id: fw, ...body } as never, { streamId: again.streamId });
  assert.equal((await call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'hidden' }, agent_id: offer.agent_id }] } })).status, 202);
  assert.equal((await call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'other' } }] } })).status, 202);
  assert.equal((await call({ type: 'RECONCILE', reconcile: {} })).status, 202);
  // Answers would be on the stream before the 202s; TEARDOWN then ends the stream.
  await call({ type: 'TEARDOWN' });
  await again.closed();
  assert.deepEqual(again.events.filter((e) => e.type === 'UPDATE' || e.type === 'OFFERS'), []);
});
