/**
 * Offers, filters, launch validation, status update delivery and
 * acknowledgement, reconciliation and kill, against the emulator over HTTP.
 * Tasks are simulated here (local processes are tested in local-process.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Offer } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acknowledge, after, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

async function subscribed(t: { after: (fn: () => void) => void }, url: string, extra = {}): Promise<Subscription> {
  const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60, ...extra }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  return sub;
}

async function offers(sub: Subscription, from = 0): Promise<Offer[]> {
  const e = await sub.next('OFFERS', { from });
  return e.offers!.offers!;
}

test('one OFFERS event carries one offer per agent with its free resources', async (t) => {
  const c = await withCluster(t, { agents: 3, mode: 'simulated' });
  const sub = await subscribed(t, c.leaderUrl()!);
  const list = await offers(sub);
  assert.equal(list.length, 3);
  assert.equal(new Set(list.map((o) => o.agent_id.value)).size, 3);
  for (const o of list) {
    assert.equal(o.framework_id.value, sub.frameworkId);
    assert.equal(o.hostname, '127.0.0.1');
    assert.deepEqual(o.url, { scheme: 'http', address: { hostname: '127.0.0.1', ip: '127.0.0.1', port: 5051 }, path: '/slave(1)' }, 'the agent URL, as the master sets it');
    assert.deepEqual(o.resources!.find((r) => r.name === 'cpus')!.scalar, { value: 4 });
    assert.equal(o.allocation_info, undefined, 'no allocation_info without MULTI_ROLE');
  }
  assert.equal(c.frameworks()[0]!.outstandingOffers, 3);
});

test('DECLINE with refuse_seconds filters the agent; REVIVE clears filters; SUPPRESS stops offers', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await subscribed(t, url);
  const [offer] = await offers(sub);
  const fw = { value: sub.frameworkId };
  assert.equal((await post(url, { type: 'DECLINE', framework_id: fw, decline: { offer_ids: [offer!.id], filters: { refuse_seconds: 3600 } } }, { streamId: sub.streamId })).status, 202);
  await eventually(() => (c.frameworks()[0]!.outstandingOffers === 0 ? true : undefined));
  const mark = sub.events.length;
  // Several allocation runs pass without an offer (the filter holds), then REVIVE brings one.
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sub.events.slice(mark).filter((e) => e.type === 'OFFERS').length, 0);
  await post(url, { type: 'REVIVE', framework_id: fw }, { streamId: sub.streamId });
  const [again] = await offers(sub, mark);
  assert.notEqual(again!.id.value, offer!.id.value);

  await post(url, { type: 'SUPPRESS', framework_id: fw }, { streamId: sub.streamId });
  await eventually(() => (c.frameworks()[0]!.suppressed ? true : undefined));
  await post(url, { type: 'DECLINE', framework_id: fw, decline: { offer_ids: [again!.id], filters: { refuse_seconds: 0 } } }, { streamId: sub.streamId });
  const mark2 = sub.events.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sub.events.slice(mark2).filter((e) => e.type === 'OFFERS').length, 0, 'suppressed: no offers');
  await post(url, { type: 'REVIVE', framework_id: fw }, { streamId: sub.streamId });
  await offers(sub, mark2);
});

test('ACCEPT launches tasks; updates carry a uuid, are resent until ACKed, and the next waits for the ACK', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 30, agentRetryMs: 50 });
  const url = c.leaderUrl()!;
  const sub = await subscribed(t, url);
  const [offer] = await offers(sub);
  assert.equal((await launch(url, sub, [offer!], [commandTask('t1', offer!, 'true')])).status, 202);
  const starting = await updateOf(sub, 't1', 'TASK_STARTING');
  const s = starting.update!.status;
  assert.equal(Buffer.from(s.uuid!, 'base64').length, 16);
  assert.equal(s.source, 'SOURCE_EXECUTOR');
  assert.equal(s.agent_id!.value, offer!.agent_id.value);
  assert.equal(s.executor_id!.value, 't1');
  // Not acknowledged: the same update comes again (same uuid), and TASK_RUNNING is held back.
  const resent = await sub.next((e) => e.type === 'UPDATE' && e.update!.status.uuid === s.uuid, { from: after(sub, starting) });
  assert.equal(resent.update!.status.state, 'TASK_STARTING');
  assert.equal(sub.events.filter((e) => e.update?.status.state === 'TASK_RUNNING').length, 0);
  assert.equal((await acknowledge(url, sub, s)).status, 202);
  const running = await updateOf(sub, 't1', 'TASK_RUNNING');
  await acknowledge(url, sub, running.update!.status);
  const finished = await updateOf(sub, 't1', 'TASK_FINISHED');
  assert.equal(finished.update!.status.message, 'Command exited with status 0');
  await acknowledge(url, sub, finished.update!.status);
  const task = await eventually(() => c.tasks().find((x) => x.taskId === 't1' && x.endedAt !== undefined));
  assert.equal(task.state, 'TASK_FINISHED');
  // The resources came back and are offered again (as soon as the master learned the latest state).
  const later = await offers(sub, after(sub, starting));
  assert.deepEqual(later[0]!.resources!.find((r) => r.name === 'cpus')!.scalar, { value: 4 });
});

test('invalid launches: TASK_LOST for a stale offer (TASK_DROPPED if partition-aware), TASK_ERROR for a bad task', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await subscribed(t, url);
  const [offer] = await offers(sub);
  await launch(url, sub, [offer!], [commandTask('a', offer!, 'true')]);
  await launch(url, sub, [offer!], [commandTask('b', offer!, 'true')]);
  const lost = (await updateOf(sub, 'b')).update!.status;
  assert.equal(lost.state, 'TASK_LOST');
  assert.equal(lost.reason, 'REASON_INVALID_OFFERS');
  assert.equal(lost.source, 'SOURCE_MASTER');
  assert.equal(lost.uuid, undefined);
  assert.match(lost.message!, /^Task launched with invalid offers: Offer .* is no longer valid$/);

  const o2 = (await sub.next((e) => e.type === 'OFFERS' && e.offers!.offers![0]!.id.value !== offer!.id.value)).offers!.offers![0];
  const tooBig = commandTask('big', o2!, 'true', {}, 64);
  const dup = commandTask('a', o2!, 'true');
  const noCmd = { ...commandTask('nocmd', o2!, 'true') };
  delete (noCmd as { command?: unknown }).command;
  await launch(url, sub, [o2!], [tooBig, dup, noCmd]);
  const big = (await updateOf(sub, 'big')).update!.status;
  assert.equal(big.state, 'TASK_ERROR');
  assert.equal(big.reason, 'REASON_TASK_INVALID');
  assert.match(big.message!, /more than available/);
  const dupStatus = await sub.next((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'a' && e.update!.status.state === 'TASK_ERROR');
  assert.equal(dupStatus.update!.status.message, 'Task has duplicate ID: a');
  assert.match((await updateOf(sub, 'nocmd')).update!.status.message!, /at least one \(but not both\) of CommandInfo or ExecutorInfo/);

  const pa = await Subscription.open(url, subscribeCall('pa', { capabilities: [{ type: 'PARTITION_AWARE' }] }));
  t.after(() => pa.close());
  await pa.next('SUBSCRIBED');
  await launch(url, pa, [{ ...offer!, id: { value: 'no-such-offer' } }], [commandTask('p1', offer!, 'true')]);
  assert.equal((await updateOf(pa, 'p1')).update!.status.state, 'TASK_DROPPED');
});

test('RECONCILE: implicit and explicit answers without uuid; KILL of an unknown task is reconciled', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await subscribed(t, url);
  const [offer] = await offers(sub);
  await launch(url, sub, [offer!], [commandTask('r1', offer!, 'sleep 100')]);
  const starting = await updateOf(sub, 'r1', 'TASK_STARTING');
  await acknowledge(url, sub, starting.update!.status);
  const running = await updateOf(sub, 'r1', 'TASK_RUNNING');
  await acknowledge(url, sub, running.update!.status);
  const fw = { value: sub.frameworkId };

  let mark = sub.events.length;
  await post(url, { type: 'RECONCILE', framework_id: fw, reconcile: {} }, { streamId: sub.streamId });
  const implicit = (await updateOf(sub, 'r1', undefined, mark)).update!.status;
  assert.equal(implicit.state, 'TASK_RUNNING');
  assert.equal(implicit.reason, 'REASON_RECONCILIATION');
  assert.equal(implicit.source, 'SOURCE_MASTER');
  assert.equal(implicit.message, 'Reconciliation: Latest task state');
  assert.equal(implicit.uuid, undefined);

  mark = sub.events.length;
  await post(url, {
    type: 'RECONCILE', framework_id: fw,
    reconcile: { tasks: [{ task_id: { value: 'r1' } }, { task_id: { value: 'ghost' }, agent_id: offer!.agent_id }, { task_id: { value: 'nowhere' } }] },
  }, { streamId: sub.streamId });
  assert.equal((await updateOf(sub, 'r1', undefined, mark)).update!.status.state, 'TASK_RUNNING');
  const ghost = (await updateOf(sub, 'ghost', undefined, mark)).update!.status;
  assert.equal(ghost.state, 'TASK_LOST');
  assert.equal(ghost.message, 'Reconciliation: Task is unknown to the agent');
  assert.equal((await updateOf(sub, 'nowhere', undefined, mark)).update!.status.message, 'Reconciliation: Task is unknown');

  mark = sub.events.length;
  await post(url, { type: 'KILL', framework_id: fw, kill: { task_id: { value: 'ghost2' }, agent_id: offer!.agent_id } }, { streamId: sub.streamId });
  const killedUnknown = (await updateOf(sub, 'ghost2', undefined, mark)).update!.status;
  assert.equal(killedUnknown.state, 'TASK_LOST');
  assert.equal(killedUnknown.reason, 'REASON_RECONCILIATION');

  await post(url, { type: 'KILL', framework_id: fw, kill: { task_id: { value: 'r1' } } }, { streamId: sub.streamId });
  const killed = (await updateOf(sub, 'r1', 'TASK_KILLED', mark)).update!.status;
  assert.ok(killed.uuid, 'agent updates carry a uuid');
  await acknowledge(url, sub, killed);
  await eventually(() => (c.tasks()[0]?.state === 'TASK_KILLED' ? true : undefined));
});

test('TASK_KILLING_STATE frameworks see TASK_KILLING before TASK_KILLED; MULTI_ROLE offers carry allocation_info', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await subscribed(t, url, { roles: ['etl'], capabilities: [{ type: 'TASK_KILLING_STATE' }, { type: 'MULTI_ROLE' }] });
  const [offer] = await offers(sub);
  assert.deepEqual(offer!.allocation_info, { role: 'etl' });
  assert.deepEqual(offer!.resources![0]!.allocation_info, { role: 'etl' });
  await launch(url, sub, [offer!], [commandTask('k1', offer!, 'sleep 100')]);
  for (const state of ['TASK_STARTING', 'TASK_RUNNING']) await acknowledge(url, sub, (await updateOf(sub, 'k1', state)).update!.status);
  await post(url, { type: 'KILL', framework_id: { value: sub.frameworkId }, kill: { task_id: { value: 'k1' } } }, { streamId: sub.streamId });
  const killing = (await updateOf(sub, 'k1', 'TASK_KILLING')).update!.status;
  await acknowledge(url, sub, killing);
  await updateOf(sub, 'k1', 'TASK_KILLED');
});
