/**
 * The master's latency recorder through the admin endpoint (GET/POST
 * /emulator/latency...), as the bench reads it: offer holds by event size and
 * answer, update-to-ACK times, counters, probes and ending every task. Values
 * of times are not asserted, only that they are recorded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { LatencySummary } from '../../src/emulator/latency-recorder.js';
import type { Event } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acknowledge, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall } from './wire-client.js';

async function admin<T>(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await request(`${url}/emulator/${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.statusCode, json: (await res.body.json()) as T };
}

test('the recorder times offers held until ACCEPT or DECLINE, and updates until their ACK', async (t) => {
  const c = await withCluster(t, { agents: 2, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('rec', { failover_timeout: 60 }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  const offers = (await sub.next('OFFERS')).offers!.offers!;
  assert.equal(offers.length, 2);
  const fw = { value: sub.frameworkId };
  assert.equal((await launch(url, sub, [offers[0]!], [commandTask('t1', offers[0]!, 'true')], 3600)).status, 202);
  await post(url, { type: 'DECLINE', framework_id: fw, decline: { offer_ids: [offers[1]!.id], filters: { refuse_seconds: 3600 } } }, { streamId: sub.streamId });
  const isUpdate = (state: string) => (e: Event) => e.type === 'UPDATE' && e.update!.status.state === state;
  await acknowledge(url, sub, (await sub.next(isUpdate('TASK_STARTING'))).update!.status);
  await acknowledge(url, sub, (await sub.next(isUpdate('TASK_RUNNING'))).update!.status);

  const { status, json: s } = await admin<LatencySummary>(url, 'GET', 'latency');
  assert.equal(status, 200);
  assert.equal(s.events['OFFERS'], 1);
  assert.equal(s.calls['ACCEPT'], 1);
  assert.equal(s.calls['DECLINE'], 1);
  assert.equal(s.tasksLaunched, 1);
  assert.equal(s.holds['2']?.ACCEPT?.count, 1, 'the accepted offer, in an event of two offers');
  assert.equal(s.holds['2']?.DECLINE?.count, 1, 'the declined offer');
  assert.ok(s.holds['2']!.ACCEPT!.p99 >= 0);
  assert.equal(s.offerEvents.count, 1, 'the event was answered in full');
  assert.equal(s.updateToAck.other.count, 2, 'STARTING and RUNNING acknowledged');
  assert.equal(s.updateToAck.terminal.count, 0);
  assert.equal(s.callConnections >= 1, true);
  assert.equal(s.subscriptions.length, 1);
  assert.ok(s.firstOffersMs !== null && s.lastAcceptMs !== null && s.lastAcceptMs >= s.firstOffersMs);

  const tasks = await admin<{ byState: Record<string, number>; awaitingAck: number }>(url, 'GET', 'latency/tasks');
  assert.deepEqual(tasks.json, { byState: { TASK_RUNNING: 1 }, awaitingAck: 0 });

  assert.equal((await admin(url, 'POST', 'latency/reset', {})).status, 200);
  const fresh = (await admin<LatencySummary>(url, 'GET', 'latency')).json;
  assert.deepEqual(fresh.calls, {});
  assert.equal(fresh.tasksLaunched, 0);
});

test('probes make timed status updates and task ends one at a time; end-all kills the rest', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('probe', { failover_timeout: 60 }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  const [offer] = (await sub.next('OFFERS')).offers!.offers!;
  autoAcknowledge(url, sub);
  await launch(url, sub, [offer!], ['a', 'b', 'c'].map((id) => commandTask(id, offer!, 'true', {}, 0.1, 8)), 3600);
  await eventually(async () => {
    const n = (await admin<{ byState: Record<string, number>; awaitingAck: number }>(url, 'GET', 'latency/tasks')).json;
    return n.byState['TASK_RUNNING'] === 3 && n.awaitingAck === 0 ? true : undefined;
  }, 5000, 'three running tasks, every update acknowledged');

  const updates = await admin<{ samples: number[]; timedOut: boolean }>(url, 'POST', 'latency/probe', { kind: 'update', count: 2 });
  assert.equal(updates.status, 200);
  assert.equal(updates.json.samples.length, 2);
  assert.equal(updates.json.timedOut, false);
  assert.equal(sub.events.filter((e) => e.type === 'UPDATE' && e.update!.status.message === 'probe').length, 2, 'an extra TASK_RUNNING per probe');

  const ends = await admin<{ samples: number[] }>(url, 'POST', 'latency/probe', { kind: 'end', count: 1 });
  assert.equal(ends.json.samples.length, 1);
  assert.equal(c.tasks().filter((x) => x.state === 'TASK_KILLED').length, 1);

  assert.deepEqual((await admin(url, 'POST', 'latency/end-all', {})).json, { ended: 2 });
  await eventually(() => (c.tasks().every((x) => x.state === 'TASK_KILLED') ? true : undefined), 5000, 'every task killed');

  const bad = await admin<{ error: string }>(url, 'POST', 'latency/probe', { kind: 'sideways', count: 1 });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /'kind' must be 'update' or 'end'/);
});
