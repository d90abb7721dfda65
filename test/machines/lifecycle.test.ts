/**
 * Stopping: graceful stop (drain, grace, kill, TEARDOWN), stop now, HA
 * handover, and TEARDOWN when the job ends while disconnected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, finishAll } from './harness.js';

function startRound(maxTasks = 2) {
  const h = createHarness({ job: { maxTasks, rounds: 3, graceSeconds: 10 }, timing: { killWaitMs: 20_000, teardownWaitMs: 30_000 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 8, 8192));
  for (const id of h.launchedTaskIds()) h.update(h.status(id, 'TASK_RUNNING'));
  return h;
}

test('stop: no more launches, running tasks may finish within the grace, then TEARDOWN; exit 0 when all finished', () => {
  const h = startRound();
  h.send({ type: 'framework.stop' });
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribed' }, lifecycle: 'draining' } });
  h.offers(h.offer('agent-2', 8, 8192));
  assert.equal(h.launchedTaskIds().length, 2, 'nothing launched while draining');
  assert.deepEqual(h.calls('DECLINE').at(-1)?.decline?.offer_ids, [{ value: 'offer-2' }]);
  h.advance(9_000);
  finishAll(h);
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls('KILL').length, 0);
  assert.equal(h.calls().at(-1)?.type, 'TEARDOWN');
  assert.deepEqual(h.actor.getSnapshot().output, { exitCode: 0, reason: 'stopped', message: '0 round(s) completed, every task finished' });
});

test('stop: after the grace the rest is killed, awaited, then TEARDOWN; killed tasks make exit 1', () => {
  const h = startRound();
  h.send({ type: 'framework.stop' });
  const [a, b] = h.launchedTaskIds() as [string, string];
  h.update(h.status(a, 'TASK_FINISHED'));
  h.advance(9_999);
  assert.equal(h.calls('KILL').length, 0);
  h.advance(1);
  assert.deepEqual(h.calls('KILL'), [{ type: 'KILL', kill: { task_id: { value: b }, agent_id: { value: 'agent-1' } } }]);
  h.update(h.status(b, 'TASK_KILLING'));
  h.update(h.status(b, 'TASK_RUNNING')); // a late running update does not undo killing
  assert.equal(h.value() !== 'stopped', true);
  h.update(h.status(b, 'TASK_KILLED'));
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls().at(-1)?.type, 'TEARDOWN');
  assert.equal(h.actor.getSnapshot().output?.exitCode, 1);
});

test('stop: KILLs are re-sent after a re-subscription, and the wait for killed tasks is bounded', () => {
  const h = startRound();
  h.send({ type: 'framework.stop' });
  h.advance(10_000);
  assert.equal(h.calls('KILL').length, 2);
  h.lost();
  h.advance(500);
  h.subscribed();
  assert.equal(h.calls('KILL').length, 4, 'KILL again on the new subscription');
  h.advance(19_499);
  assert.notEqual(h.value(), 'stopped');
  h.advance(1);
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls().at(-1)?.type, 'TEARDOWN');
});

test('stop while in cooldown or before the first subscription ends at once', () => {
  const h = createHarness({ job: { maxTasks: 1, rounds: 3 } }).start();
  h.subscribed();
  h.offers(h.offer());
  finishAll(h);
  h.send({ type: 'framework.stop' });
  assert.equal(h.value(), 'stopped');
  assert.deepEqual(h.calls('TEARDOWN'), [{ type: 'TEARDOWN' }]);
  assert.equal(h.actor.getSnapshot().output?.exitCode, 0);

  // Never registered: nothing to tear down, no subscription needed.
  const early = createHarness().start();
  early.send({ type: 'framework.stop' });
  assert.equal(early.value(), 'stopped');
  assert.deepEqual(early.calls(), []);
  assert.equal(early.actor.getSnapshot().output?.exitCode, 0);
});

test('stop before the first subscription of a restored framework: TEARDOWN once subscribed', () => {
  const restored = { version: 1 as const, frameworkName: 'etl', frameworkId: 'fw-old', round: 0, completedRounds: 0, allFinished: true, phase: 'round' as const, tasks: [] };
  const h = createHarness({ restored }).start();
  h.send({ type: 'framework.stop' });
  // Registered at Mesos but not subscribed: waits (bounded) for a subscription to send TEARDOWN.
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'tearingDown' } });
  h.subscribed('fw-old');
  assert.equal(h.value(), 'stopped');
  assert.deepEqual(h.calls().map((c) => c.type), ['TEARDOWN']);
});

test('stop now: KILL everything at once, TEARDOWN, exit non-zero', () => {
  const h = startRound(3);
  h.send({ type: 'framework.stopNow' });
  assert.equal(h.value(), 'stopped');
  const types = h.calls().map((c) => c.type);
  assert.deepEqual(types.slice(-4), ['KILL', 'KILL', 'KILL', 'TEARDOWN']);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), h.launchedTaskIds());
  assert.equal(h.actor.getSnapshot().output?.exitCode, 130);
  assert.equal(h.actor.getSnapshot().output?.reason, 'stopped');
});

test('stop now while draining, and while disconnected (no waiting for a master)', () => {
  const h = startRound();
  h.send({ type: 'framework.stop' });
  h.send({ type: 'framework.stopNow' });
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls('TEARDOWN').length, 1);

  const d = startRound();
  d.lost();
  d.send({ type: 'framework.stopNow' });
  assert.equal(d.value(), 'stopped');
  assert.equal(d.actor.getSnapshot().output?.exitCode, 130);
});

test('handover: persist, no KILL, no TEARDOWN, exit 0', () => {
  const h = startRound();
  h.clearLog();
  h.send({ type: 'framework.handover' });
  assert.equal(h.value(), 'handedOver');
  assert.deepEqual(h.calls(), []);
  const state = h.lastPersisted();
  assert.equal(state?.frameworkId, 'fw-1');
  assert.deepEqual(state?.tasks.map((t) => t.state), ['TASK_RUNNING', 'TASK_RUNNING']);
  assert.deepEqual(h.actor.getSnapshot().output, { exitCode: 0, reason: 'handover', message: 'handed over to a standby scheduler; tasks keep running' });
  assert.equal(h.sub.disposed, true);
});

test('the job ends while disconnected: TEARDOWN waits for the next subscription', () => {
  const h = startRound(1);
  h.lost();
  h.send({ type: 'framework.stop' });
  h.advance(10_000); // grace over: KILL (dropped by the runtime while disconnected)
  h.advance(20_000); // kill wait over: the job gives up on the task
  // Re-subscribing meanwhile (the attempt is still pending).
  assert.deepEqual(h.value(), { operating: { connection: { session: 'subscribing' }, lifecycle: 'tearingDown' } });
  assert.equal(h.calls('TEARDOWN').length, 0);
  h.advance(15_000);
  h.subscribed();
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls().at(-1)?.type, 'TEARDOWN');
  assert.equal(h.actor.getSnapshot().output?.exitCode, 1, 'a task was abandoned, not seen finished');
});

test('the job completes while disconnected and no master comes back: exit after teardownWait without TEARDOWN', () => {
  const h = createHarness({ job: { maxTasks: 1, rounds: 1 }, timing: { teardownWaitMs: 30_000 } }).start();
  h.subscribed();
  h.offers(h.offer());
  h.send({ type: 'framework.stop' });
  h.lost();
  // The task's end arrives... it cannot: we are disconnected. Grace (10 s) and kill wait (30 s) run out.
  for (let i = 0; i < 200 && h.actor.getSnapshot().status !== 'done'; i++) {
    h.advance(1_000);
    h.lost('MESOS_NO_LEADER');
  }
  assert.equal(h.value(), 'stopped');
  assert.equal(h.calls('TEARDOWN').length, 0);
  assert.equal(h.actor.getSnapshot().output?.exitCode, 1);
  assert.match(h.actor.getSnapshot().output?.message ?? '', /TEARDOWN not sent/);
});
