/**
 * Carrying on from a persisted state (restart or HA takeover).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from './harness.js';
import type { PersistedState } from '../../machines/contract.js';

const midRound: PersistedState = {
  version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 4, completedRounds: 3, allFinished: true, phase: 'round',
  launchedInRound: 3, finishedInRound: 1, failedInRound: 0,
  tasks: [
    { taskId: 'etl-r4-t2-old', agentId: 'agent-1', round: 4, index: 2, state: 'TASK_RUNNING' },
    { taskId: 'etl-r4-t3-old', agentId: 'agent-2', round: 4, index: 3, state: 'PENDING_LAUNCH' },
  ],
};

test('restored round: re-subscribes with the stored id and reconciles every known task, PENDING_LAUNCH included', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 5 }, restored: midRound }).start();
  assert.equal(h.sub.input.frameworkId, 'fw-old');
  assert.deepEqual(h.sub.input.suppressedRoles, []);
  h.subscribed('fw-old');
  assert.deepEqual(h.notes('subscribed')[0]?.resubscribe, true);
  assert.deepEqual(h.calls('RECONCILE'), [{
    type: 'RECONCILE',
    reconcile: { tasks: [{ task_id: { value: 'etl-r4-t2-old' }, agent_id: { value: 'agent-1' } }, { task_id: { value: 'etl-r4-t3-old' }, agent_id: { value: 'agent-2' } }] },
  }]);
  assert.equal(h.notes('roundStarted').length, 0, 'the round is resumed, not restarted');
  assert.equal(h.calls('REVIVE').length, 0, 'all 3 tasks of the round were launched: nothing wanted');
  // The PENDING_LAUNCH task never reached Mesos: the master says so, it is a failure.
  h.update(h.status('etl-r4-t3-old', 'TASK_LOST', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', agent_id: { value: 'agent-2' } }, false));
  h.update(h.status('etl-r4-t2-old', 'TASK_RUNNING', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  h.offers(h.offer('agent-3', 8, 8192));
  assert.equal(h.calls('ACCEPT').length, 0, 'never relaunched within that round');
  h.update(h.status('etl-r4-t2-old', 'TASK_FINISHED'));
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 4, finished: 2, failed: 1 }]);
  h.advance(60_000);
  assert.deepEqual(h.notes('roundStarted'), [{ type: 'roundStarted', round: 5, tasks: 3 }]);
  h.offers(h.offer('agent-3', 8, 8192));
  assert.deepEqual(h.launchedTaskIds(), ['etl-r5-t1-abc', 'etl-r5-t2-abc', 'etl-r5-t3-abc']);
});

test('restored round with tasks still to launch: launches only the rest, with new indices', () => {
  const restored: PersistedState = { ...midRound, launchedInRound: 2, finishedInRound: 1, tasks: [midRound.tasks[0]!] };
  const h = createHarness({ job: { maxTasks: 3, rounds: 5 }, restored }).start();
  h.subscribed('fw-old');
  assert.equal(h.calls('REVIVE').length, 1);
  h.offers(h.offer('agent-3', 8, 8192));
  assert.deepEqual(h.launchedTaskIds(), ['etl-r4-t3-abc']);
  assert.deepEqual(h.lastPersisted()?.tasks.map((t) => t.taskId), ['etl-r4-t2-old', 'etl-r4-t3-abc']);
});

test('restored state without counters (older file): every listed task counts as launched; terminal ones are counted now', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 2, completedRounds: 1, allFinished: true, phase: 'round',
    tasks: [
      { taskId: 't1', agentId: 'a', round: 2, index: 1, state: 'TASK_FAILED' },
      { taskId: 't2', agentId: 'a', round: 2, index: 2, state: 'TASK_STAGING' },
    ],
  };
  const h = createHarness({ job: { maxTasks: 2, rounds: 2 }, restored }).start();
  h.subscribed('fw-old');
  assert.deepEqual(h.calls('RECONCILE')[0]?.reconcile?.tasks?.map((t) => t.task_id.value), ['t2']);
  h.update(h.status('t2', 'TASK_FINISHED', { agent_id: { value: 'a' } }));
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 2, finished: 1, failed: 1 }]);
  assert.equal(h.value(), 'completed');
  assert.equal(h.actor.getSnapshot().output?.exitCode, 1);
});

test('restored cooldown: subscribes suppressed and waits only what is left of the cooldown', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 2, completedRounds: 2, allFinished: true, phase: 'cooldown', tasks: [],
    cooldownUntil: 1_000_000 + 20_000,
  };
  const h = createHarness({ job: { maxTasks: 1, rounds: 4, waitSeconds: 60 }, restored, now: 1_000_000 }).start();
  assert.deepEqual(h.sub.input.suppressedRoles, ['*']);
  h.subscribed('fw-old');
  assert.deepEqual(h.notes('cooldown'), [{ type: 'cooldown', round: 2, seconds: 20 }]);
  assert.equal(h.calls('RECONCILE').length, 0);
  h.advance(19_999);
  assert.equal(h.notes('roundStarted').length, 0);
  h.advance(1);
  assert.deepEqual(h.notes('roundStarted'), [{ type: 'roundStarted', round: 3, tasks: 1 }]);
});

test('restored cooldown without a clock runs the full cooldown', () => {
  const restored: PersistedState = { version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 1, completedRounds: 1, allFinished: true, phase: 'cooldown', tasks: [] };
  const h = createHarness({ job: { maxTasks: 1, rounds: 4, waitSeconds: 60 }, restored }).start();
  h.subscribed('fw-old');
  h.advance(59_999);
  assert.equal(h.notes('roundStarted').length, 0);
  h.advance(1);
  assert.equal(h.notes('roundStarted').length, 1);
});

test('restored after the last round: TEARDOWN on subscribing (the previous run died before it)', () => {
  const restored: PersistedState = { version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 2, completedRounds: 2, allFinished: false, phase: 'cooldown', tasks: [] };
  const h = createHarness({ job: { rounds: 2 }, restored }).start();
  h.subscribed('fw-old');
  assert.equal(h.value(), 'completed');
  assert.deepEqual(h.calls(), [{ type: 'TEARDOWN' }]);
  assert.equal(h.actor.getSnapshot().output?.exitCode, 1);
});

test('restored with the framework removed meanwhile: tasks lost, new framework, carries on', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 5 }, restored: midRound }).start();
  h.emit({ type: 'mesos.error', message: 'Framework has been removed' });
  assert.equal(h.sub.input.frameworkId, undefined);
  assert.deepEqual(h.notes('taskEnded').map((n) => n.state), ['TASK_LOST', 'TASK_LOST']);
  h.subscribed('fw-new');
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 4, finished: 1, failed: 2 }]);
  assert.equal(h.lastPersisted()?.frameworkId, 'fw-new');
});
