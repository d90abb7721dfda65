/**
 * Fault injection: what a scheduler sees when agents are lost or restart,
 * offers are rescinded, connections drop, heartbeats stop, a record is
 * malformed, responses are slow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

async function open(t: { after: (fn: () => void) => void }, url: string, extra = {}): Promise<Subscription> {
  const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60, ...extra }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  return sub;
}

test('losing an agent: TASK_LOST (TASK_UNREACHABLE if partition-aware), RESCIND of its offers, FAILURE', async (t) => {
  const c = await withCluster(t, { agents: 2, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const plain = await open(t, url);
  const aware = await open(t, url, { capabilities: [{ type: 'PARTITION_AWARE' }] });
  autoAcknowledge(url, plain);
  autoAcknowledge(url, aware);
  const [o1, o2] = (await plain.next('OFFERS')).offers!.offers!;
  // Launch on the first agent, keep the offer of the second one outstanding.
  await launch(url, plain, [o1!], [commandTask('p', o1!, 'sleep 1000')], 0);
  await updateOf(plain, 'p', 'TASK_RUNNING');
  const oa = (await aware.next((e) => e.type === 'OFFERS' && e.offers!.offers!.some((o) => o.agent_id.value === o1!.agent_id.value))).offers!.offers!
    .find((o) => o.agent_id.value === o1!.agent_id.value)!;
  await launch(url, aware, [oa], [commandTask('a', oa, 'sleep 1000')]);
  await updateOf(aware, 'a', 'TASK_RUNNING');

  const mark = plain.events.length;
  c.faults.loseAgent(o1!.agent_id.value);
  const lost = (await updateOf(plain, 'p', 'TASK_LOST', mark)).update!.status;
  assert.equal(lost.reason, 'REASON_AGENT_REMOVED');
  assert.equal(lost.source, 'SOURCE_MASTER');
  assert.equal(lost.uuid, undefined);
  const unreachable = (await updateOf(aware, 'a', 'TASK_UNREACHABLE')).update!.status;
  assert.ok(unreachable.unreachable_time!.nanoseconds > 0);
  const failure = await plain.next('FAILURE', { from: mark });
  assert.equal(failure.failure!.agent_id!.value, o1!.agent_id.value);
  await aware.next('FAILURE');
  assert.ok(o2);

  // Explicit reconciliation of a task on the unreachable agent.
  const m2 = aware.events.length;
  await post(url, { type: 'RECONCILE', framework_id: { value: aware.frameworkId }, reconcile: { tasks: [{ task_id: { value: 'a' }, agent_id: o1!.agent_id }] } }, { streamId: aware.streamId });
  assert.equal((await updateOf(aware, 'a', undefined, m2)).update!.status.message, 'Reconciliation: Task is unreachable');
});

test('rescindOffers sends RESCIND; a later ACCEPT of that offer loses its tasks', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const o = (await sub.next('OFFERS')).offers!.offers![0]!;
  c.faults.rescindOffers();
  const rescind = await sub.next('RESCIND');
  assert.equal(rescind.rescind!.offer_id.value, o.id.value);
  await launch(url, sub, [o], [commandTask('late', o, 'true')]);
  assert.equal((await updateOf(sub, 'late')).update!.status.state, 'TASK_LOST');
});

test('offerTimeoutMs rescinds offers nobody answers', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', offerTimeoutMs: 50 });
  const sub = await open(t, c.leaderUrl()!);
  const o = (await sub.next('OFFERS')).offers!.offers![0]!;
  assert.equal((await sub.next('RESCIND')).rescind!.offer_id.value, o.id.value);
});

test('restarting an agent: non-checkpointing tasks are lost, checkpointing ones survive', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const volatile = await open(t, url);
  const durable = await open(t, url, { checkpoint: true });
  autoAcknowledge(url, volatile);
  autoAcknowledge(url, durable);
  const ov = (await volatile.next('OFFERS')).offers!.offers![0]!;
  await launch(url, volatile, [ov], [commandTask('v', ov, 'sleep 1000', {}, 1)], 0);
  const od = (await durable.next('OFFERS')).offers!.offers![0]!;
  await launch(url, durable, [od], [commandTask('d', od, 'sleep 1000', {}, 1)]);
  await updateOf(volatile, 'v', 'TASK_RUNNING');
  await updateOf(durable, 'd', 'TASK_RUNNING');
  c.faults.restartAgent(ov.agent_id.value);
  const lost = (await updateOf(volatile, 'v', 'TASK_LOST')).update!.status;
  assert.equal(lost.message, 'Reconciliation: task unknown to the agent');
  assert.ok(lost.uuid);
  assert.equal(c.tasks().find((x) => x.taskId === 'd')!.state, 'TASK_RUNNING');
});

test('stream faults: stopped heartbeats, a malformed record, dropped connections', async (t) => {
  const c = await withCluster(t, { agents: 0, heartbeatIntervalSeconds: 0.02 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  await sub.next('HEARTBEAT');
  c.faults.stopHeartbeats();
  await new Promise((r) => setTimeout(r, 30)); // a heartbeat may have been in flight
  const mark = sub.events.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sub.events.length, mark, 'no heartbeats while stopped');
  assert.equal(sub.ended, false, 'the stream stays open');
  c.faults.resumeHeartbeats();
  await sub.next('HEARTBEAT', { from: mark });

  c.faults.sendMalformedRecord();
  await sub.closed(); // our reader gives up on bytes that are not RecordIO
  assert.equal(sub.endError?.name, 'RecordIOError');

  const sub2 = await open(t, url, { id: { value: sub.frameworkId } });
  c.faults.dropConnections();
  await sub2.closed();
  await eventually(() => (c.frameworks()[0]?.connected === false ? true : undefined));
});

test('delayed responses still arrive; unavailable masters answer 503 until the time is up', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  c.faults.delayResponses(50);
  const res = await request(`${url}/api/v1/scheduler`, { method: 'GET' });
  await res.body.dump();
  assert.equal(res.statusCode, 405);
  c.faults.delayResponses(0);
  c.faults.unavailableFor(100);
  assert.equal((await post(url, subscribeCall())).status, 503);
  const ok = await eventually(async () => {
    const sub = await Subscription.open(url, subscribeCall());
    if (sub.status === 200) return sub;
    return undefined;
  });
  t.after(() => ok.close());
  await ok.next('SUBSCRIBED');
});
