/**
 * The connection life of the framework machine: subscribe, failover with
 * backoff, stale generations, heartbeat watchdog, master ERROR events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromCallback, SimulatedClock, type EventObject } from 'xstate';
import { buildFrameworkMachine } from '../../machines/index.js';
import type { Notification, SubscriptionInput } from '../../machines/contract.js';
import { baseJob, createHarness } from './harness.js';

test('starts subscribing as a new framework, then subscribed: notifies and revives for round 1', () => {
  const h = createHarness().start();
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'running' } });
  assert.equal(h.subscriptions.length, 1);
  assert.equal(h.sub.input.generation, 1);
  assert.equal(h.sub.input.frameworkId, undefined);
  assert.deepEqual(h.sub.input.suppressedRoles, []);
  assert.equal(h.sub.input.frameworkInfo.id, undefined);
  assert.deepEqual(h.calls(), [], 'no call before SUBSCRIBED');

  h.subscribed('fw-1');
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribed' }, lifecycle: 'running' } });
  assert.deepEqual(h.notes('subscribed'), [{ type: 'subscribed', frameworkId: 'fw-1', master: 'm1:5050', resubscribe: false }]);
  assert.deepEqual(h.calls().map((c) => c.type), ['REVIVE']);
  assert.equal(h.persisted()[0]?.frameworkId, 'fw-1', 'framework id persisted as soon as SUBSCRIBED arrives');
  assert.deepEqual(h.notes('roundStarted'), [{ type: 'roundStarted', round: 1, tasks: 2 }]);
});

test('stream lost: failover with a backoff delay, then re-subscribe with the SAME framework id', () => {
  const h = createHarness().start();
  h.subscribed('fw-1');
  const first = h.sub;
  h.lost('STREAM_ENDED', 'eof');
  assert.deepEqual(h.value(), { operating: { connection: 'failover', lifecycle: 'running' } });
  assert.equal(first.disposed, true, 'the old stream is aborted');
  const [disc] = h.notes('disconnected');
  assert.equal(disc?.reason, 'STREAM_ENDED');
  assert.equal(disc?.message, 'eof');
  assert.ok(disc?.retryInMs !== undefined && disc.retryInMs > 400 && disc.retryInMs <= 500, `first retry ${disc?.retryInMs}`);

  h.advance((disc?.retryInMs ?? 0) - 1);
  assert.equal(h.subscriptions.length, 1, 'not before the delay');
  h.advance(1);
  assert.equal(h.subscriptions.length, 2);
  assert.equal(h.sub.input.generation, 2);
  assert.equal(h.sub.input.frameworkId, 'fw-1');
  h.subscribed('fw-1');
  assert.deepEqual(h.notes('subscribed').map((n) => n.resubscribe), [false, true]);
});

test('backoff doubles per failed attempt up to the 15 s cap, resets after SUBSCRIBED, and is reproducible by seed', () => {
  const run = (seed: number) => {
    const h = createHarness({ seed }).start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      h.lost('MESOS_NO_LEADER', '503 No leader elected');
      const d = h.notes('disconnected').at(-1)?.retryInMs ?? -1;
      delays.push(d);
      h.advance(d);
    }
    h.subscribed('fw-1');
    h.lost();
    delays.push(h.notes('disconnected').at(-1)?.retryInMs ?? -1);
    return { delays, h };
  };
  const { delays, h } = run(1);
  const bases = [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 500];
  delays.forEach((d, i) => {
    const base = bases[i] ?? 0;
    assert.ok(d <= base && d >= base * 0.8, `attempt ${i}: ${d} not in [${base * 0.8}, ${base}]`);
  });
  assert.equal(h.subscriptions.length, 9, 'kept retrying through the 503 period');
  h.advance(500);
  assert.equal(h.sub.input.frameworkId, 'fw-1');
  assert.deepEqual(run(1).delays, delays, 'same seed, same delays');
  assert.notDeepEqual(run(2).delays, delays, 'another seed, other jitter');
});

test('events and call failures of an older generation are ignored', () => {
  const h = createHarness().start();
  h.subscribed('fw-1');
  const old = h.sub;
  h.lost();
  h.advance(500);
  assert.equal(h.generation, 2);
  // Late events from the abandoned stream:
  old.sendBack({ type: 'conn.subscribed', generation: 1, streamId: 's', master: 'old:5050', frameworkId: 'fw-1', heartbeatIntervalSeconds: 15 });
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'running' } });
  old.sendBack({ type: 'conn.lost', generation: 1, error: { code: 'STREAM_ENDED', message: 'x' } });
  h.actor.send({ type: 'call.failed', generation: 1, error: { code: 'MESOS_UNSUBSCRIBED', message: '403' } });
  old.sendBack({ type: 'mesos.error', generation: 1, message: 'Framework failed over' });
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'running' } });
  h.subscribed('fw-1');
  const before = h.log.length;
  old.sendBack({ type: 'mesos.offers', generation: 1, offers: [h.offer()], receivedAt: 0 });
  old.sendBack({ type: 'mesos.update', generation: 1, status: h.status('x', 'TASK_RUNNING') });
  assert.equal(h.log.length, before, 'stale offers/updates cause no call, no notification');
  assert.equal(h.notes('disconnected').length, 1);
});

test('call.failed of the current generation (403, stale stream, 307, 503) fails over', () => {
  const h = createHarness().start();
  h.subscribed();
  h.actor.send({ type: 'call.failed', generation: h.generation, error: { code: 'MESOS_UNSUBSCRIBED', message: 'Framework is not subscribed', status: 403 } });
  assert.deepEqual(h.value(), { operating: { connection: 'failover', lifecycle: 'running' } });
  assert.equal(h.notes('disconnected')[0]?.reason, 'MESOS_UNSUBSCRIBED');
});

test('heartbeat watchdog: any event restarts it; 5 silent intervals fail over with HEARTBEAT_TIMEOUT', () => {
  const h = createHarness().start();
  h.subscribed('fw-1', 15);
  h.advance(74_999);
  h.emit({ type: 'mesos.heartbeat' });
  h.advance(74_999);
  h.offers(h.offer('a', 0.01, 1)); // an offer counts as liveness too
  h.advance(74_999);
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribed' }, lifecycle: 'running' } });
  h.advance(1);
  assert.deepEqual(h.value(), { operating: { connection: 'failover', lifecycle: 'running' } });
  assert.equal(h.notes('disconnected')[0]?.reason, 'HEARTBEAT_TIMEOUT');
});

test('watchdog follows the interval from SUBSCRIBED and timing.missedHeartbeats', () => {
  const h = createHarness({ timing: { missedHeartbeats: 2 } }).start();
  h.subscribed('fw-1', 3);
  h.advance(5_999);
  assert.equal(h.notes('disconnected').length, 0);
  h.advance(1);
  assert.equal(h.notes('disconnected')[0]?.reason, 'HEARTBEAT_TIMEOUT');
});

test('a SUBSCRIBE with no answer at all is abandoned after as long as a silent stream', () => {
  const h = createHarness().start();
  h.advance(74_999);
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'running' } });
  h.advance(1);
  assert.deepEqual(h.value(), { operating: { connection: 'failover', lifecycle: 'running' } });
  assert.equal(h.notes('disconnected')[0]?.reason, 'SUBSCRIBE_TIMEOUT');
  assert.equal(h.subscriptions[0]?.disposed, true);
  h.advance(500);
  assert.equal(h.subscriptions.length, 2);
});

test('leader change is reported', () => {
  const h = createHarness().start();
  h.emit({ type: 'conn.leader', master: 'm2:5050' });
  assert.deepEqual(h.notes('leaderChanged'), [{ type: 'leaderChanged', master: 'm2:5050' }]);
});

test('"Framework has been removed": forget the id, lose the tasks, subscribe as a new framework and carry on', () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 2 } }).start();
  h.subscribed('fw-1');
  h.offers(h.offer('agent-1', 2, 1024));
  const ids = h.launchedTaskIds();
  assert.equal(ids.length, 2);
  h.update(h.status(ids[0] ?? '', 'TASK_RUNNING'));
  h.lost();
  h.advance(500);
  h.emit({ type: 'mesos.error', message: 'Framework has been removed' });
  assert.deepEqual(h.notes('frameworkRemoved'), [{ type: 'frameworkRemoved', frameworkId: 'fw-1', message: 'Framework has been removed' }]);
  assert.equal(h.sub.input.frameworkId, undefined, 'subscribes again as a new framework');
  assert.equal(h.sub.input.generation, 3);
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'running' } });
  // Its tasks were killed by Mesos: they count as failed and the round ends.
  assert.deepEqual(h.notes('taskEnded').map((n) => [n.state, n.ok, n.reason]), [['TASK_LOST', false, 'REASON_FRAMEWORK_REMOVED'], ['TASK_LOST', false, 'REASON_FRAMEWORK_REMOVED']]);
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 1, finished: 0, failed: 2 }]);
  assert.equal(h.lastPersisted()?.frameworkId, undefined);
  h.subscribed('fw-2');
  assert.equal(h.lastPersisted()?.frameworkId, 'fw-2');
  assert.deepEqual(h.notes('subscribed').at(-1), { type: 'subscribed', frameworkId: 'fw-2', master: 'm1:5050', resubscribe: false });
  h.lost();
  h.advance(500);
  assert.equal(h.sub.input.frameworkId, 'fw-2', 'from now on the new id is kept');
});

test('"Framework failed over" on the current stream: another scheduler has our id — fatal, no TEARDOWN', async () => {
  const h = createHarness().start();
  h.subscribed('fw-1');
  h.emit({ type: 'mesos.error', message: 'Framework failed over' });
  assert.equal(h.status_(), 'done');
  assert.equal(h.value(), 'fatal');
  const out = h.actor.getSnapshot().output;
  assert.equal(out?.exitCode, 3);
  assert.equal(out?.reason, 'fatal');
  assert.match(out?.message ?? '', /fw-1/);
  assert.equal(h.calls('TEARDOWN').length, 0);
  assert.equal(h.calls('KILL').length, 0);
  assert.equal(h.notes('fatal').length, 1);
  assert.equal(h.sub.disposed, true);
});

test('"Framework has been removed" for a framework without id cannot be a removal: fatal, no resubscribe loop', () => {
  const h = createHarness().start();
  h.emit({ type: 'mesos.error', message: 'Framework has been removed' });
  assert.equal(h.value(), 'fatal');
  assert.equal(h.subscriptions.length, 1);
});

test('other ERROR (role or user refused, not authorized) is fatal with the master\'s message', () => {
  const h = createHarness().start();
  h.emit({ type: 'mesos.error', message: 'Role \'etl\' is not present in the master\'s --roles' });
  assert.equal(h.value(), 'fatal');
  assert.match(h.actor.getSnapshot().output?.message ?? '', /is not present in the master's --roles/);
  assert.deepEqual(h.notes('fatal').map((n) => n.message), [h.actor.getSnapshot().output?.message]);
});

test('unrecoverable connection errors (401, 403 on SUBSCRIBE, protocol) are fatal; 503/307/reset are retried', () => {
  const retried = createHarness().start();
  for (const code of ['MESOS_NO_LEADER', 'MESOS_NOT_LEADER', 'MESOS_UNAVAILABLE']) {
    retried.lost(code);
    assert.deepEqual(retried.value(), { operating: { connection: 'failover', lifecycle: 'running' } }, code);
    retried.advance(60_000);
  }
  const h = createHarness().start();
  h.lost('MESOS_UNAUTHORIZED', '401 Unauthorized');
  assert.equal(h.value(), 'fatal');
  assert.equal(h.actor.getSnapshot().output?.exitCode, 3);
  assert.match(h.actor.getSnapshot().output?.message ?? '', /401 Unauthorized/);
});

test('a failing subscription actor is treated as a lost connection, not a crash', () => {
  let attempts = 0;
  const subscription = fromCallback<EventObject, SubscriptionInput>(() => {
    attempts += 1;
    if (attempts === 1) throw new Error('boom');
    return undefined;
  });
  const notes: Notification[] = [];
  const machine = buildFrameworkMachine({ subscription, sendCall: () => {}, persist: () => {}, notify: (n) => { notes.push(n); } });
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input: { frameworkInfo: { user: 'u', name: 'n' }, job: baseJob, seed: 1 }, clock }).start();
  assert.deepEqual(actor.getSnapshot().value, { operating: { connection: 'failover', lifecycle: 'running' } });
  const disc = notes.find((n) => n.type === 'disconnected');
  assert.equal(disc?.type === 'disconnected' ? disc.reason : '', 'SUBSCRIPTION_ACTOR_FAILED');
  clock.increment(500);
  assert.equal(attempts, 2);
  assert.equal(actor.getSnapshot().status, 'active');
});

test('one framework id across many failovers', () => {
  const h = createHarness().start();
  h.subscribed('fw-1');
  for (let i = 0; i < 20; i++) {
    if (i % 3 === 0) h.actor.send({ type: 'call.failed', generation: h.generation, error: { code: 'MESOS_STALE_STREAM', message: '400' } });
    else if (i % 3 === 1) h.advance(75_000);
    else h.lost();
    h.advance(15_000);
    assert.equal(h.sub.input.frameworkId, 'fw-1');
    h.subscribed('fw-1');
  }
  assert.equal(new Set(h.subscriptions.map((s) => s.input.frameworkId ?? 'none')).size, 2, 'none (first) and fw-1');
  assert.equal(new Set(h.subscriptions.map((s) => s.input.generation)).size, h.subscriptions.length, 'a new generation per attempt');
  assert.equal(h.subscriptions.filter((s) => !s.disposed).length, 1, 'one live stream');
});

test('a crash of the job machine ends the framework as fatal (no TEARDOWN), not silently', () => {
  const broken = fromCallback<EventObject, unknown>(() => { throw new Error('bug in job'); });
  const h = createHarness({ jobLogic: broken }).start();
  assert.equal(h.value(), 'fatal');
  assert.match(h.actor.getSnapshot().output?.message ?? '', /bug in job/);
  assert.equal(h.calls('TEARDOWN').length, 0);
});
