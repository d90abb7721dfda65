import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createActor } from 'xstate';
import { Signals } from '../../src/runtime/signals.js';
import { describeActors } from '../../src/observability/machine-states.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createStateView } from '../../src/observability/state-view.js';
import { startStatusServer } from '../../src/observability/status-server.js';
import { demoMachine } from './fixtures.js';
import { parsePrometheusText } from './prometheus-text.js';

async function start(t: TestContext, options: { now?: () => number; getMachineStates?: () => Record<string, unknown> } = {}) {
  const signals = new Signals();
  const metrics = createMetrics(signals, { jobs: () => ['etl'] });
  const view = createStateView(signals, options.now ? { now: options.now } : {});
  const server = await startStatusServer({
    port: 0,
    metrics,
    view,
    ...(options.getMachineStates ? { getMachineStates: options.getMachineStates } : {}),
  });
  t.after(async () => {
    await server.close();
    metrics.stop();
    view.stop();
  });
  return { signals, server };
}

async function scrape(url: string) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

test('binds to 127.0.0.1 by default', async (t) => {
  const { server } = await start(t);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('/health is 503 until subscribed, 200 while subscribed, 503 after disconnect and while the state store fails', async (t) => {
  const { signals, server } = await start(t);
  const health = async () => {
    const res = await fetch(`${server.url}/health`);
    return { status: res.status, body: (await res.json()) as { subscribed: boolean } };
  };
  const storeOk = { ok: true, failingSince: null, error: null };
  assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', subscribed: false, store: storeOk } });
  signals.emit('subscribed', { frameworkId: 'fw-1', master: '127.0.0.1:5050', resubscribe: false });
  assert.deepEqual(await health(), { status: 200, body: { status: 'ok', subscribed: true, store: storeOk } });
  signals.emit('disconnected', { reason: 'HEARTBEAT_TIMEOUT', message: 'no heartbeat' });
  assert.equal((await health()).status, 503);
  signals.emit('subscribed', { frameworkId: 'fw-1', master: '127.0.0.1:5051', resubscribe: true, reconnectMs: 800 });
  assert.equal((await health()).status, 200);
  signals.emit('storeHealth', { ok: false, failingSince: Date.UTC(2026, 0, 1), error: 'ENOSPC: no space left on device' });
  assert.deepEqual(await health(), {
    status: 503,
    body: { status: 'unavailable', subscribed: true, store: { ok: false, failingSince: '2026-01-01T00:00:00.000Z', error: 'ENOSPC: no space left on device' } },
  });
  signals.emit('storeHealth', { ok: true });
  assert.deepEqual(await health(), { status: 200, body: { status: 'ok', subscribed: true, store: storeOk } });
});

test('/metrics counts what the signals report', async (t) => {
  const { signals, server } = await start(t);
  const before = await scrape(server.url);
  assert.equal(before.value('mesos_scheduler_offers_received_total'), 0);
  assert.equal(before.value('mesos_scheduler_tasks_launched_total', { job: 'etl' }), 0, 'each job\'s counters exist from the start');
  assert.equal(before.types.get('mesos_scheduler_offer_hold_seconds'), 'histogram');
  assert.equal(before.types.get('mesos_scheduler_resubscribe_seconds'), 'histogram');

  signals.emit('subscribed', { frameworkId: 'fw-1', master: 'm1:5050', resubscribe: false });
  signals.emit('roundStarted', { round: 1, tasks: 3 });
  signals.emit('offersReceived', { count: 3 });
  signals.emit('offerAccepted', { offerId: 'o1', heldMs: 12, tasks: 2 });
  signals.emit('offerDeclined', { offerId: 'o2', heldMs: 4 });
  signals.emit('offerDeclined', { offerId: 'o3', heldMs: 6 });
  for (const id of ['etl-r1-t1-x', 'etl-r1-t2-x', 'etl-r1-t3-x']) signals.emit('taskLaunched', { taskId: id, round: 1, agentId: 'a1' });
  signals.emit('taskState', { taskId: 'etl-r1-t1-x', round: 1, state: 'TASK_RUNNING' });
  signals.emit('taskEnded', { taskId: 'etl-r1-t1-x', round: 1, state: 'TASK_FINISHED', ok: true });
  signals.emit('taskEnded', { taskId: 'etl-r1-t2-x', round: 1, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', ok: false });
  signals.emit('taskEnded', { taskId: 'etl-r1-t3-x', round: 1, state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED', ok: false });
  signals.emit('acknowledged', { taskId: 'etl-r1-t1-x', state: 'TASK_FINISHED' });
  signals.emit('acknowledged', { taskId: 'etl-r1-t2-x', state: 'TASK_FAILED' });
  signals.emit('roundFinished', { round: 1, finished: 1, failed: 2 });
  signals.emit('disconnected', { reason: 'STREAM_ENDED', message: 'master went away' });
  signals.emit('leaderChanged', { master: 'm2:5050' });
  signals.emit('subscribed', { frameworkId: 'fw-1', master: 'm2:5050', resubscribe: true, reconnectMs: 1500 });
  signals.emit('offerRescinded', { offerId: 'o4' });
  signals.emit('reconcile', { tasks: 2, attempt: 1, implicit: false });
  signals.emit('reconcile', { tasks: 0, attempt: 1, implicit: true });
  signals.emit('unknownTask', { taskId: 'stray', state: 'TASK_RUNNING' });
  signals.emit('event', { type: 'HEARTBEAT', at: 1_700_000_000_000 });
  signals.emit('event', { type: 'HEARTBEAT', at: 1_700_000_015_000 });

  const after = await scrape(server.url);
  assert.equal(after.value('mesos_scheduler_offers_received_total'), 3);
  assert.equal(after.value('mesos_scheduler_offers_accepted_total'), 1);
  assert.equal(after.value('mesos_scheduler_offers_declined_total'), 2);
  assert.equal(after.value('mesos_scheduler_offer_hold_seconds_count', { outcome: 'accepted' }), 1);
  assert.equal(after.value('mesos_scheduler_offer_hold_seconds_count', { outcome: 'declined' }), 2);
  assert.equal(after.value('mesos_scheduler_offer_hold_seconds_sum', { outcome: 'declined' }), 0.01);
  assert.equal(after.value('mesos_scheduler_offer_hold_seconds_bucket', { outcome: 'accepted', le: '0.01' }), 0);
  assert.equal(after.value('mesos_scheduler_offer_hold_seconds_bucket', { outcome: 'accepted', le: '0.05' }), 1);
  assert.equal(after.value('mesos_scheduler_tasks_launched_total', { job: 'etl' }), 3);
  assert.equal(after.value('mesos_scheduler_tasks_finished_total', { job: 'etl' }), 1);
  assert.equal(after.value('mesos_scheduler_tasks_failed_total', { job: 'etl', state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED' }), 1);
  assert.equal(after.value('mesos_scheduler_tasks_failed_total', { job: 'etl', state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED' }), 1);
  assert.equal(after.value('mesos_scheduler_task_status_updates_total', { job: 'etl', state: 'TASK_RUNNING' }), 1);
  assert.equal(after.value('mesos_scheduler_acknowledgements_total', { job: 'etl', state: 'TASK_FINISHED' }), 1);
  assert.equal(after.value('mesos_scheduler_acknowledgements_total', { job: 'etl', state: 'TASK_FAILED' }), 1);
  assert.equal(after.value('mesos_scheduler_rounds_started_total', { job: 'etl' }), 1);
  assert.equal(after.value('mesos_scheduler_rounds_completed_total', { job: 'etl' }), 1);
  assert.equal(after.value('mesos_scheduler_round', { job: 'etl' }), 1);
  assert.equal(after.value('mesos_scheduler_disconnects_total', { reason: 'STREAM_ENDED' }), 1);
  assert.equal(after.value('mesos_scheduler_reconnects_total'), 1);
  assert.equal(after.value('mesos_scheduler_leader_changes_total'), 1);
  assert.equal(after.value('mesos_scheduler_subscribed'), 1);
  assert.equal(after.value('mesos_scheduler_resubscribe_seconds_count'), 1);
  assert.equal(after.value('mesos_scheduler_resubscribe_seconds_sum'), 1.5);
  assert.equal(after.value('mesos_scheduler_offers_rescinded_total'), 1);
  assert.equal(after.value('mesos_scheduler_reconciliations_total', { kind: 'explicit' }), 1);
  assert.equal(after.value('mesos_scheduler_reconciliations_total', { kind: 'implicit' }), 1);
  assert.equal(after.value('mesos_scheduler_unknown_task_updates_total'), 1);
  assert.equal(after.value('mesos_scheduler_events_received_total', { type: 'HEARTBEAT' }), 2);
  assert.equal(after.value('mesos_scheduler_last_event_timestamp_seconds'), 1_700_000_015);
  for (const quantile of ['0.5', '0.9', '0.99']) {
    const lag = after.value('mesos_scheduler_event_loop_lag_seconds', { quantile });
    assert.ok(lag !== undefined && lag >= 0, `event-loop lag quantile ${quantile}`);
  }
  assert.ok((after.value('mesos_scheduler_event_loop_lag_max_seconds') ?? -1) >= 0);
  // Only our own metrics: a private registry, nothing from prom-client's global one.
  assert.ok(after.samples.every((s) => s.name.startsWith('mesos_scheduler_')));
});

test('/state shows the framework, the machines, the round and its tasks', async (t) => {
  let clock = Date.parse('2026-01-02T03:04:05.000Z');
  const actor = createActor(demoMachine).start();
  t.after(() => actor.stop());
  const { signals, server } = await start(t, { now: () => clock, getMachineStates: () => describeActors({ framework: actor }) });
  const state = async () => {
    const res = await fetch(`${server.url}/state`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    return (await res.json()) as Record<string, any>;
  };

  const initial = await state();
  assert.deepEqual(initial['framework'], {
    id: null,
    master: null,
    subscribed: false,
    subscribedAt: null,
    lastDisconnect: null,
    lastEvent: null,
    offersSuppressed: false,
    fatal: null,
  });
  assert.equal(initial['job'].phase, 'starting');
  assert.deepEqual(initial['machines'], { framework: { value: 'idle', status: 'active' } });

  signals.emit('subscribed', { frameworkId: 'fw-7', master: '127.0.0.1:5050', resubscribe: false });
  signals.emit('event', { type: 'SUBSCRIBED', at: clock });
  signals.emit('roundStarted', { round: 1, tasks: 2 });
  signals.emit('taskLaunched', { taskId: 'job-r1-0', round: 1, agentId: 'agent-1' });
  signals.emit('taskLaunched', { taskId: 'job-r1-1', round: 1, agentId: 'agent-2' });
  clock += 1000;
  signals.emit('taskState', { taskId: 'job-r1-0', round: 1, state: 'TASK_RUNNING' });
  clock += 1000;
  signals.emit('taskEnded', { taskId: 'job-r1-0', round: 1, state: 'TASK_FINISHED', ok: true });

  const during = await state();
  assert.equal(during['framework'].id, 'fw-7');
  assert.equal(during['framework'].master, '127.0.0.1:5050');
  assert.equal(during['framework'].subscribed, true);
  assert.deepEqual(during['framework'].lastEvent, { type: 'SUBSCRIBED', at: '2026-01-02T03:04:05.000Z' });
  assert.deepEqual(during['machines'], { framework: { value: 'idle', status: 'active' } });
  assert.equal(during['job'].round, 1);
  assert.equal(during['job'].phase, 'round');
  assert.equal(during['job'].tasksPerRound, 2);
  assert.deepEqual(during['tasks'], [
    {
      taskId: 'job-r1-0',
      round: 1,
      state: 'TASK_FINISHED',
      agentId: 'agent-1',
      ok: true,
      launchedAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:07.000Z',
      endedAt: '2026-01-02T03:04:07.000Z',
    },
    {
      taskId: 'job-r1-1',
      round: 1,
      state: 'TASK_STAGING',
      agentId: 'agent-2',
      launchedAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:05.000Z',
    },
  ]);

  signals.emit('taskEnded', { taskId: 'job-r1-1', round: 1, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', ok: false });
  signals.emit('roundFinished', { round: 1, finished: 1, failed: 1 });
  signals.emit('cooldown', { round: 1, until: clock + 30_000 });
  clock += 10_000;
  const cooling = await state();
  assert.equal(cooling['job'].phase, 'cooldown');
  assert.equal(cooling['job'].cooldownSecondsLeft, 20);
  assert.deepEqual(cooling['job'].lastRound, { round: 1, finished: 1, failed: 1 });
  assert.equal(cooling['counters'].tasksFinished, 1);
  assert.equal(cooling['counters'].tasksFailed, 1);

  // A new round keeps only its own tasks; late news of the old round is ignored.
  signals.emit('roundStarted', { round: 2, tasks: 2 });
  signals.emit('taskLaunched', { taskId: 'job-r2-0', round: 2, agentId: 'agent-1' });
  signals.emit('taskState', { taskId: 'job-r1-1', round: 1, state: 'TASK_FAILED' });
  const next = await state();
  assert.equal(next['job'].round, 2);
  assert.equal(next['job'].phase, 'round');
  assert.equal(next['job'].cooldownSecondsLeft, null);
  assert.deepEqual(
    next['tasks'].map((task: { taskId: string }) => task.taskId),
    ['job-r2-0'],
  );
  assert.equal(next['counters'].tasksLaunched, 3);
});

test('unknown paths are 404, other methods 405', async (t) => {
  const { server } = await start(t);
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  assert.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405);
});
