/**
 * The task machine on its own, under a minimal parent that records what it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, createActor, sendTo, setup, SimulatedClock, spawnChild } from 'xstate';
import { taskMachine, type TaskEnded, type TaskEvent, type TaskInput, type TaskSilent } from '../../machines/task/task.machine.js';
import type { Call, TaskState, TaskStatus } from '../../src/mesos/types.js';
import type { Notification } from '../../machines/contract.js';

function harness(input: Partial<TaskInput> = {}) {
  const calls: Call[] = [];
  const notes: Notification[] = [];
  const task = taskMachine.provide({
    actions: {
      sendCall: (_, params) => { calls.push(params.call); },
      notify: (_, params) => { notes.push(params); },
    },
  });
  const parent = setup({
    types: { context: {} as { ended: TaskEnded[]; silent: number }, events: {} as TaskEvent | TaskEnded | TaskSilent },
    actors: { task },
  }).createMachine({
    context: { ended: [], silent: 0 },
    entry: spawnChild('task', { id: 't', input: { taskId: 't1', round: 1, index: 1, agentId: 'a1', state: 'LAUNCHED', launchTimeoutMs: 60_000, ...input } }),
    on: {
      'task.ended': { actions: assign({ ended: ({ context, event }) => [...context.ended, event as TaskEnded] }) },
      'task.silent': { actions: assign({ silent: ({ context }) => context.silent + 1 }) },
      'task.status': { actions: sendTo('t', ({ event }) => event) },
      'task.kill': { actions: sendTo('t', ({ event }) => event) },
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(parent, { clock }).start();
  const child = () => actor.getSnapshot().children['t'];
  return {
    actor, calls, notes, clock,
    silent: () => actor.getSnapshot().context.silent,
    status(state: TaskState, extra: Partial<TaskStatus> = {}) { actor.send({ type: 'task.status', status: { task_id: { value: 't1' }, state, agent_id: { value: 'a1' }, ...extra } }); },
    kill() { actor.send({ type: 'task.kill' }); },
    value: () => child()?.getSnapshot().value,
    childStatus: () => child()?.getSnapshot().status,
    ended: () => actor.getSnapshot().context.ended,
  };
}

test('launched → staging → starting → running → finished, reporting each state once', () => {
  const t = harness();
  assert.deepEqual(t.value(), { alive: 'launched' });
  t.status('TASK_STAGING');
  assert.deepEqual(t.value(), { alive: 'staging' });
  t.status('TASK_STAGING');
  t.status('TASK_STARTING');
  assert.deepEqual(t.value(), { alive: 'starting' });
  t.status('TASK_RUNNING');
  t.status('TASK_RUNNING');
  assert.deepEqual(t.value(), { alive: 'running' });
  t.status('TASK_FINISHED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED' });
  assert.deepEqual(t.notes.map((n) => (n.type === 'taskState' ? n.state : n.type)), ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.deepEqual(t.ended(), [{ type: 'task.ended', taskId: 't1', round: 1, state: 'TASK_FINISHED', ok: true, reason: 'REASON_COMMAND_EXECUTOR_FAILED' }]);
});

test('every non-success terminal state ends in failed; terminal states never change', () => {
  for (const state of ['TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN'] as TaskState[]) {
    const t = harness();
    t.status(state, { message: 'why' });
    assert.equal(t.ended().length, 1, state);
    assert.equal(t.ended()[0]?.ok, false);
    assert.equal(t.ended()[0]?.state, state);
    assert.equal(t.ended()[0]?.message, 'why');
    t.status('TASK_RUNNING');
    t.status('TASK_FINISHED');
    assert.equal(t.ended().length, 1, 'a final task ignores later updates');
  }
});

test('unreachable is recorded but the task is still awaited where it was', () => {
  const t = harness();
  t.status('TASK_RUNNING');
  t.status('TASK_UNREACHABLE');
  assert.deepEqual(t.value(), { alive: 'running' });
  assert.equal(t.ended().length, 0);
  t.status('TASK_RUNNING');
  t.status('TASK_FINISHED');
  assert.equal(t.ended()[0]?.ok, true);
});

test('kill: KILL with task and agent, re-sent on request, killing survives late non-terminal updates', () => {
  const t = harness();
  t.status('TASK_RUNNING', { agent_id: { value: 'a9' } });
  t.kill();
  assert.deepEqual(t.value(), { alive: 'killing' });
  assert.deepEqual(t.calls, [{ type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: { value: 'a9' } } }]);
  t.status('TASK_RUNNING');
  assert.deepEqual(t.value(), { alive: 'killing' });
  t.kill();
  assert.equal(t.calls.length, 2);
  t.status('TASK_KILLING');
  t.status('TASK_KILLED');
  assert.deepEqual(t.ended().map((e) => [e.state, e.ok]), [['TASK_KILLED', false]]);
});

test('restored tasks start in their last known state; PENDING_LAUNCH is pending', () => {
  assert.deepEqual(harness({ state: 'PENDING_LAUNCH' }).value(), { alive: 'pending' });
  assert.deepEqual(harness({ state: 'TASK_STAGING' }).value(), { alive: 'staging' });
  assert.deepEqual(harness({ state: 'TASK_STARTING' }).value(), { alive: 'starting' });
  assert.deepEqual(harness({ state: 'TASK_RUNNING' }).value(), { alive: 'running' });
  assert.deepEqual(harness({ state: 'TASK_KILLING' }).value(), { alive: 'killing' });
  const pending = harness({ state: 'PENDING_LAUNCH' });
  pending.status('TASK_LOST', { reason: 'REASON_RECONCILIATION' });
  assert.deepEqual(pending.ended().map((e) => [e.state, e.ok, e.reason]), [['TASK_LOST', false, 'REASON_RECONCILIATION']]);
  const killingNoAgent = harness({ state: 'PENDING_LAUNCH', agentId: undefined as never });
  killingNoAgent.kill();
  assert.deepEqual(killingNoAgent.calls, [{ type: 'KILL', kill: { task_id: { value: 't1' } } }]);
});

test('a launched task with no update for launchTimeoutMs asks for reconciliation, again each period, until heard of', () => {
  const t = harness();
  t.clock.increment(59_999);
  assert.equal(t.silent(), 0);
  t.clock.increment(1);
  assert.equal(t.silent(), 1);
  t.clock.increment(60_000);
  assert.equal(t.silent(), 2);
  t.status('TASK_STAGING');
  t.clock.increment(600_000);
  assert.equal(t.silent(), 2);
  const pending = harness({ state: 'PENDING_LAUNCH' });
  pending.clock.increment(60_000);
  assert.equal(pending.silent(), 1, 'a restored PENDING_LAUNCH task too');
});

test('terminal states are not final: the parent gets task.ended only (no per-task done event), and a kill afterwards does nothing', () => {
  for (const state of ['TASK_FINISHED', 'TASK_FAILED'] as TaskState[]) {
    const t = harness();
    t.status('TASK_RUNNING');
    t.status(state);
    assert.equal(t.ended().length, 1);
    assert.equal(t.childStatus(), 'active', 'a final child would send the job xstate.done.actor.<taskId> (memoised per event type by xstate)');
    t.kill();
    t.status('TASK_RUNNING');
    assert.deepEqual(t.calls, [], 'no KILL for an ended task');
    assert.equal(t.ended().length, 1);
    assert.deepEqual(t.value(), state === 'TASK_FINISHED' ? 'finished' : 'failed');
  }
});
