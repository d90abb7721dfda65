/**
 * The task machine on its own, stepped as the job steps it: as data, with the
 * pure startTask / stepTask (machines/task/task.steps.ts), checking the
 * snapshots and what each step asks for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, transition } from 'xstate';
import { taskMachine, type TaskEvent, type TaskInput } from '../../machines/task/task.machine.js';
import { startTask, stepTask, type TaskSnapshot, type TaskStep } from '../../machines/task/task.steps.js';
import type { Call, TaskState, TaskStatus } from '../../src/mesos/types.js';
import type { Notification } from '../../machines/contract.js';

function task(input: Partial<TaskInput> = {}) {
  const calls: Call[] = [];
  const notes: Notification[] = [];
  const steps: TaskStep[] = [];
  let snapshot: TaskSnapshot | undefined;
  const take = (step: TaskStep): TaskStep => {
    calls.push(...step.calls.map((c) => c.call));
    notes.push(...step.notes);
    steps.push(step);
    snapshot = step.snapshot;
    return step;
  };
  take(startTask({ taskId: 't1', round: 1, index: 1, agentId: 'a1', state: 'LAUNCHED', sweep: 0, ...input }));
  const current = (): TaskSnapshot => snapshot as TaskSnapshot;
  return {
    calls, notes,
    get snapshot() { return current(); },
    value: () => current().value,
    status(state: TaskState, extra: Partial<TaskStatus> = {}) {
      if (current().status === 'done') return undefined;
      return take(stepTask(current(), { type: 'task.status', status: { task_id: { value: 't1' }, state, agent_id: { value: 'a1' }, ...extra } }));
    },
    kill() { return current().status === 'done' ? undefined : take(stepTask(current(), { type: 'task.kill' })); },
    sweep(sweep: number) { return take(stepTask(current(), { type: 'task.sweep', sweep })); },
    unsent() { return take(stepTask(current(), { type: 'task.unsent' })); },
    outcomes: () => steps.flatMap((s) => (s.outcome === undefined ? [] : [s.outcome])),
  };
}

test('launched → staging → starting → running → finished, reporting each state once', () => {
  const t = task();
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
  assert.equal(t.value(), 'finished');
  assert.equal(t.snapshot.status, 'done', 'end states are final');
  assert.deepEqual(t.outcomes(), [{ state: 'TASK_FINISHED', ok: true, reached: true, reason: 'REASON_COMMAND_EXECUTOR_FAILED' }]);
});

test('every non-success terminal state ends in failed; the end is final', () => {
  for (const state of ['TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'] as TaskState[]) {
    const t = task();
    t.status(state, { message: 'why', source: 'SOURCE_AGENT' });
    assert.equal(t.value(), 'failed', state);
    assert.deepEqual(t.notes.at(-1), { type: 'taskState', taskId: 't1', round: 1, state, source: 'SOURCE_AGENT', message: 'why' }, 'the note says who reported it');
    assert.deepEqual(t.outcomes(), [{ state, ok: false, reached: true, message: 'why' }]);
    const after = stepTask(t.snapshot, { type: 'task.status', status: { task_id: { value: 't1' }, state: 'TASK_FINISHED' } });
    assert.equal(after.snapshot.value, 'failed', 'a final task ignores later updates');
    assert.deepEqual(after.notes, []);
    assert.deepEqual(stepTask(t.snapshot, { type: 'task.kill' }).calls, [], 'no KILL for an ended task');
  }
});

test('unreachable and unknown (not terminal in Mesos) are recorded; the task is still awaited where it was', () => {
  for (const state of ['TASK_UNREACHABLE', 'TASK_UNKNOWN'] as TaskState[]) {
    const t = task();
    t.status('TASK_RUNNING');
    t.status(state);
    assert.deepEqual(t.value(), { alive: 'running' });
    assert.equal(t.snapshot.context.state, state);
    assert.deepEqual(t.outcomes(), []);
    t.status('TASK_RUNNING');
    t.status('TASK_FINISHED');
    assert.equal(t.outcomes()[0]?.ok, true);
  }
});

test('kill: KILL with task and agent, re-sent on request, killing survives late non-terminal updates', () => {
  const t = task();
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
  assert.deepEqual(t.outcomes().map((o) => [o.state, o.ok]), [['TASK_KILLED', false]]);
});

test('restored tasks start in their last known state; PENDING_LAUNCH is pending', () => {
  assert.deepEqual(task({ state: 'PENDING_LAUNCH' }).value(), { alive: 'pending' });
  assert.deepEqual(task({ state: 'TASK_STAGING' }).value(), { alive: 'staging' });
  assert.deepEqual(task({ state: 'TASK_STARTING' }).value(), { alive: 'starting' });
  assert.deepEqual(task({ state: 'TASK_RUNNING' }).value(), { alive: 'running' });
  assert.deepEqual(task({ state: 'TASK_UNREACHABLE' }).value(), { alive: 'running' });
  assert.deepEqual(task({ state: 'TASK_KILLING' }).value(), { alive: 'killing' });
  assert.deepEqual(task({ state: 'TASK_UNKNOWN' }).value(), { alive: 'pending' });
  const pending = task({ state: 'PENDING_LAUNCH' });
  pending.status('TASK_LOST', { reason: 'REASON_RECONCILIATION' });
  assert.deepEqual(pending.outcomes().map((o) => [o.state, o.ok, o.reason]), [['TASK_LOST', false, 'REASON_RECONCILIATION']]);
  const killingNoAgent = task({ state: 'PENDING_LAUNCH', agentId: undefined as never });
  killingNoAgent.kill();
  assert.deepEqual(killingNoAgent.calls, [{ type: 'KILL', kill: { task_id: { value: 't1' } } }]);
});

test('silence: a task not heard of reports it from the second sweep after its launch on, until heard of', () => {
  const t = task({ sweep: 5 });
  assert.equal(t.sweep(6).silent, false, 'launched since the last sweep: maybe only just');
  assert.equal(t.sweep(7).silent, true, 'a whole sweep period without a word');
  assert.equal(t.sweep(8).silent, true, 'again each sweep');
  assert.deepEqual(t.value(), { alive: 'launched' }, 'a sweep changes nothing');
  t.status('TASK_STAGING');
  assert.equal(t.sweep(9).silent, false);
  assert.equal(task({ state: 'PENDING_LAUNCH', sweep: 0 }).sweep(2).silent, true, 'a restored PENDING_LAUNCH task too');
  assert.equal(task({ state: 'TASK_RUNNING', sweep: 0 }).sweep(2).silent, false);
});

test('an ACCEPT that never reached the master: a launched task ends unlaunched (not reached, not ok); one heard of is untouched', () => {
  const t = task();
  t.unsent();
  assert.equal(t.value(), 'unlaunched');
  assert.deepEqual(t.outcomes(), [{ state: 'LAUNCHED', ok: false, reached: false }]);
  assert.deepEqual(t.notes, []);
  const heard = task();
  heard.status('TASK_STAGING');
  heard.unsent();
  assert.deepEqual(heard.value(), { alive: 'staging' });
  assert.deepEqual(heard.outcomes(), []);
  const restored = task({ state: 'PENDING_LAUNCH' });
  restored.unsent();
  assert.deepEqual(restored.value(), { alive: 'pending' }, 'a restored task is not this process\'s ACCEPT');
});

test('the steps are xstate\'s own transition(): same snapshots and actions', () => {
  const input: TaskInput = { taskId: 't1', round: 1, index: 1, agentId: 'a1', state: 'LAUNCHED', sweep: 0 };
  const [initial] = initialTransition(taskMachine, input);
  const mine = startTask(input).snapshot;
  assert.deepEqual(mine.value, initial.value);
  assert.deepEqual(mine.context, initial.context);
  const running = { type: 'task.status' as const, status: { task_id: { value: 't1' }, state: 'TASK_RUNNING' as const, agent_id: { value: 'a1' } } };
  const [next, actions] = transition(taskMachine, initial, running);
  const step = stepTask(mine, running);
  assert.deepEqual(step.snapshot.value, next.value);
  assert.deepEqual(step.snapshot.context, next.context);
  assert.deepEqual(step.notes, actions.filter((a) => a.type === 'notify').map((a) => a.params));
});

test('a new task\'s snapshot is xstate\'s own initial snapshot, first and every later time, in every state a task starts or is restored in', () => {
  const states: TaskInput['state'][] = [
    'LAUNCHED', 'PENDING_LAUNCH', 'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_UNREACHABLE', 'TASK_KILLING',
    'TASK_FINISHED', 'TASK_FAILED', 'TASK_LOST', 'TASK_UNKNOWN',
  ];
  const events: TaskEvent[] = [
    { type: 'task.status', status: { task_id: { value: 'x' }, state: 'TASK_RUNNING', agent_id: { value: 'a2' } } },
    { type: 'task.status', status: { task_id: { value: 'x' }, state: 'TASK_FAILED', reason: 'REASON_X', message: 'm' } },
    { type: 'task.kill', graceSeconds: 3 },
    { type: 'task.sweep', sweep: 9 },
    { type: 'task.unsent' },
  ];
  for (const state of states) {
    // Three tasks per state, with and without an agent: the later ones come from the cache.
    for (const [i, agentId] of [[1, 'a1'], [2, undefined], [3, 'a3']] as const) {
      const input: TaskInput = { taskId: `t-${state}-${i}`, round: i, index: i, state, sweep: i, ...(agentId !== undefined ? { agentId } : {}) };
      const [initial, initialActions]: [TaskSnapshot, Array<{ type: string }>] = initialTransition(taskMachine, input);
      const mine = startTask(input);
      const what = `${state}, task ${i}`;
      assert.deepEqual(mine.snapshot.value, initial.value, what);
      assert.deepEqual(mine.snapshot.context, initial.context, what);
      assert.equal(mine.snapshot.status, initial.status, what);
      assert.deepEqual(mine.snapshot.output, initial.output, what);
      assert.deepEqual([...mine.snapshot.tags], [...initial.tags], what);
      assert.deepEqual(mine.calls, [], what);
      assert.deepEqual(mine.notes, [], what);
      assert.equal(initialActions.filter((a) => ['sendCall', 'notify', 'reportSilence'].includes(a.type)).length, 0, what);
      if (initial.status !== 'active') continue;
      for (const event of events) {
        const [next, actions]: [TaskSnapshot, Array<{ type: string; params?: unknown }>] = transition(taskMachine, initial, event);
        const step = stepTask(mine.snapshot, event);
        const after = `${what}, then ${event.type}`;
        assert.deepEqual(step.snapshot.value, next.value, after);
        assert.deepEqual(step.snapshot.context, next.context, after);
        assert.equal(step.snapshot.status, next.status, after);
        assert.deepEqual(step.snapshot.output, next.output, after);
        assert.deepEqual(step.calls, actions.filter((a) => a.type === 'sendCall').map((a) => a.params), after);
        assert.deepEqual(step.notes, actions.filter((a) => a.type === 'notify').map((a) => a.params), after);
        assert.equal(step.silent, actions.some((a) => a.type === 'reportSilence'), after);
      }
    }
  }
});
