/**
 * Model-based tests of task stepping with xstate/graph: the task machine is
 * the model; every state it can reach (by shortest path, from a fresh launch
 * and from restored states) is replayed on the real framework and job
 * machines (fake effects, SimulatedClock), where the task is data stepped by
 * the job. At every step the job's snapshot of the task must match the
 * model's, and a task the model ends must be gone from the job, counted as
 * the model's outcome says (finished, failed, or taken back unlaunched), with
 * the delta of its removal persisted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type AnyEventObject } from 'xstate';
import { TestModel } from 'xstate/graph';
import { taskMachine, type TaskInput, type TaskOutcome } from '../../machines/task/task.machine.js';
import type { PersistedState } from '../../machines/contract.js';
import type { Call, TaskState } from '../../src/mesos/types.js';
import { assertDeltasAddUp, createHarness, type Harness } from '../machines/harness.js';

type Snap = { value: unknown; status: string; output?: TaskOutcome; context: { state: string; sweep: number } };

const TASK_ID = 'etl-r1-t1-abc';
const SWEEP_MS = 60_000;
const GRACE_MS = 10_000;
const STATES: TaskState[] = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_LOST'];

/** Every event a task can get; sweeps are those that find it silent (the second since its creation on). */
function modelEvents(): AnyEventObject[] {
  return [
    ...STATES.map((state) => ({ type: 'task.status', status: { task_id: { value: TASK_ID }, state, agent_id: { value: 'agent-1' } } })),
    { type: 'task.kill' },
    { type: 'task.sweep', sweep: 2 },
    { type: 'task.unsent' },
  ];
}

function model(input: TaskInput) {
  return new TestModel(taskMachine, {
    input,
    events: () => modelEvents() as never,
    serializeState: (snap: unknown) => {
      const s = snap as Snap;
      return JSON.stringify({ value: s.value, state: s.context.state });
    },
    serializeEvent: (event: AnyEventObject) => JSON.stringify(event),
  } as never);
}

interface System {
  h: Harness;
  accept?: Call;
  killed: boolean;
}

function start(input: TaskInput): System {
  const common = { job: { maxTasks: 1, rounds: 2, waitSeconds: 1000, graceSeconds: GRACE_MS / 1000 }, timing: { launchTimeoutMs: SWEEP_MS, killWaitMs: 1e9, implicitReconcileMs: 1e9, reviveRepeatMs: 1e9 } };
  if (input.state === 'LAUNCHED') {
    const h = createHarness(common).start();
    h.subscribed();
    h.offers(h.offer('agent-1', 1, 512));
    assert.deepEqual(h.launchedTaskIds(), [TASK_ID]);
    const accept = h.calls('ACCEPT')[0];
    return { h, killed: false, ...(accept ? { accept } : {}) };
  }
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
    launchedInRound: 1, finishedInRound: 0, failedInRound: 0,
    tasks: [{ taskId: TASK_ID, agentId: 'agent-1', round: 1, index: 1, state: input.state }],
  };
  const h = createHarness({ ...common, restored }).start();
  h.subscribed();
  return { h, killed: false };
}

/** Replays one model event on the real machines. */
function execute(sys: System, event: AnyEventObject): void {
  const { h } = sys;
  switch (event.type) {
    case 'task.status':
      h.update(h.status(TASK_ID, (event['status'] as { state: TaskState }).state));
      return;
    case 'task.kill':
      if (!sys.killed) {
        // A stop: after the grace the job kills every task.
        sys.killed = true;
        h.send({ type: 'framework.stop' });
        h.advance(GRACE_MS);
      } else {
        // Killing already: a re-subscription makes the job kill again (KILL is not reliable).
        h.lost();
        h.advance(h.actor.getSnapshot().context.retryInMs);
        h.subscribed();
      }
      return;
    case 'task.sweep': {
      // Sweeps until the job's count is at least two past the task's creation, and one more.
      const task = h.jobSnapshot().context.active.get(TASK_ID);
      const created = task?.context.sweep ?? 0;
      // Heartbeats keep the subscription up meanwhile.
      do {
        h.emit({ type: 'mesos.heartbeat' });
        h.advance(SWEEP_MS);
        h.emit({ type: 'mesos.heartbeat' });
      } while (h.jobSnapshot().context.sweeps < created + 2);
      return;
    }
    case 'task.unsent':
      if (sys.accept !== undefined) h.send({ type: 'call.unsent', call: sys.accept, reason: 'not sent' });
      return;
    default:
      throw new Error(`no replay for ${event.type}`);
  }
}

function agree(sys: System, snap: Snap, restoredTasks: string[]): void {
  const { h } = sys;
  assert.deepEqual(h.errors, []);
  // A stopped job whose last task ended is over, and the framework with it.
  const job = h.actor.getSnapshot().children['job'] === undefined ? undefined : h.jobSnapshot().context;
  const task = job?.active.get(TASK_ID);
  if (snap.status === 'done') {
    assert.equal(task, undefined, 'an ended task is dropped');
    const outcome = snap.output as TaskOutcome;
    const ended = h.notes('taskEnded');
    if (!outcome.reached) {
      assert.deepEqual(h.notes('taskUnlaunched').map((n) => n.taskId), [TASK_ID]);
      assert.deepEqual(ended, [], 'never reached: not a failure');
      assert.equal(job?.launchedInRound, 0, 'taken back from the round');
    } else {
      assert.deepEqual(ended.map((n) => [n.taskId, n.state, n.ok]), [[TASK_ID, outcome.state, outcome.ok]]);
    }
    assert.deepEqual(h.deltas().filter((d) => d.remove.includes(TASK_ID)).length, 1, 'its removal is persisted once');
  } else {
    assert.ok(task !== undefined, 'a task in flight is kept');
    assert.deepEqual(task.value, snap.value);
    assert.equal(task.context.state, snap.context.state);
  }
  assertDeltasAddUp(h, restoredTasks);
}

const STARTS: { name: string; input: TaskInput; restored: string[] }[] = [
  { name: 'launched', input: { taskId: TASK_ID, round: 1, index: 1, agentId: 'agent-1', state: 'LAUNCHED', sweep: 0 }, restored: [] },
  ...(['PENDING_LAUNCH', 'TASK_RUNNING', 'TASK_KILLING'] as const).map((state) => ({
    name: `restored ${state}`, input: { taskId: TASK_ID, round: 1, index: 1, agentId: 'agent-1', state, sweep: 0 } as TaskInput, restored: [TASK_ID],
  })),
];

for (const { name, input, restored } of STARTS) {
  describe(`task stepping in the job, every state the task machine reaches from ${name}`, () => {
    const paths = model(input).getShortestPaths();
    test('the model reaches the end states', () => {
      const values = new Set(paths.map((p) => JSON.stringify((p.state as unknown as Snap).value)));
      for (const end of ['"finished"', '"failed"']) assert.ok(values.has(end), `${end} in ${[...values].join(' ')}`);
      if (input.state === 'LAUNCHED') assert.ok(values.has('"unlaunched"'));
    });
    for (const path of paths) {
      const steps = path.steps.filter((s) => (s.event.type as string) !== 'xstate.init').map((s) => s.event.type === 'task.status' ? (s.event['status'] as { state: string }).state : s.event.type);
      test(`${JSON.stringify((path.state as unknown as Snap).value).replace(/"/g, '')} via ${steps.join(' → ') || 'start'}`, async () => {
        const sys = start(input);
        await path.test({
          states: { '*': (snap) => agree(sys, snap as unknown as Snap, restored) },
          events: Object.fromEntries(['task.status', 'task.kill', 'task.sweep', 'task.unsent'].map((type) => [type, (step: { event: AnyEventObject }) => execute(sys, step.event)])),
        });
      });
    }
  });
}
