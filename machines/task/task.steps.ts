/**
 * Tasks as data: a task is its task machine snapshot, created and stepped by
 * the pure functions here, which return the next snapshot and what the step
 * asks for (calls, notifications, silence) for the job to carry out.
 *
 * This is what xstate's `initialTransition()` / `transition()` do: run the
 * machine's own `getInitialSnapshot` / `transition` with an inert actor scope
 * whose action executor collects the actions instead of running them. Those
 * helpers build a throwaway actor and actor system for every call, which is
 * most of their cost (about 50 of 70 µs per step measured); the scope here is
 * built once. Nothing in the task machine uses the scope's actor or system
 * (no spawn, no delays, no sending), so sharing it changes no result.
 */
import { createActor, type SnapshotFrom } from 'xstate';
import type { Notification, SendCallParams } from '../contract.js';
import { initialTaskContext, taskMachine, type TaskEvent, type TaskInput, type TaskLifecycleState, type TaskOutcome } from './task.machine.js';

export type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

/**
 * The job reports the steps of a round's first tasks (index 1 … this) to the
 * inspector (Effects.inspectTask), so a round of 100,000 tasks does not flood
 * the browser.
 */
export const INSPECTED_TASKS_PER_ROUND = 200;

/** What one step of a task asks the job to do. */
export interface TaskStep {
  snapshot: TaskSnapshot;
  calls: SendCallParams[];
  notes: Notification[];
  /** The task reported that nothing was heard of it since an earlier sweep. */
  silent: boolean;
  /** Set when the task reached an end state in this step. */
  outcome?: TaskOutcome;
}

interface CollectedAction {
  type: string;
  params?: unknown;
}

const collected: CollectedAction[] = [];
const scopeActor = createActor(taskMachine, { input: { taskId: '', round: 0, index: 0, state: 'PENDING_LAUNCH', sweep: 0 } });
const scope = {
  self: scopeActor,
  system: scopeActor.system,
  id: '',
  sessionId: '',
  defer: () => {},
  logger: () => {},
  stopChild: () => {},
  emit: () => {},
  actionExecutor: (action: CollectedAction) => { collected.push(action); },
};
type Scope = Parameters<typeof taskMachine.transition>[2];

function result(snapshot: TaskSnapshot): TaskStep {
  const step: TaskStep = { snapshot, calls: [], notes: [], silent: false };
  for (const action of collected) {
    if (action.type === 'sendCall') step.calls.push(action.params as SendCallParams);
    else if (action.type === 'notify') step.notes.push(action.params as Notification);
    else if (action.type === 'reportSilence') step.silent = true;
  }
  collected.length = 0;
  if (snapshot.status === 'done') step.outcome = snapshot.output as TaskOutcome;
  return step;
}

/**
 * xstate's initial snapshot of an active task, by the state its input names.
 * Where `spawned` routes a task depends only on that state (its guards read
 * nothing else), the route has no actions, and the snapshot's other parts
 * (active nodes, value, tags, no children) are never changed in place (a
 * transition makes a new snapshot): so a new task's snapshot is the cached
 * one with its own context, without running the machine (a fifth of a short
 * run's CPU in the task machine went to getInitialSnapshot). Final routes
 * (a restored task that had ended) are not cached: their output depends on
 * the context.
 */
const initialSnapshots = new Map<TaskLifecycleState, TaskSnapshot>();

/** A new or restored task, in the state its input says. */
export function startTask(input: TaskInput): TaskStep {
  const cached = initialSnapshots.get(input.state);
  if (cached !== undefined) {
    return { snapshot: { ...cached, context: initialTaskContext(input) }, calls: [], notes: [], silent: false };
  }
  collected.length = 0;
  const step = result(taskMachine.getInitialSnapshot(scope as unknown as Scope, input));
  if (step.snapshot.status === 'active' && step.calls.length === 0 && step.notes.length === 0 && !step.silent) {
    initialSnapshots.set(input.state, step.snapshot);
  }
  return step;
}

/** One event for one task. */
export function stepTask(snapshot: TaskSnapshot, event: TaskEvent): TaskStep {
  collected.length = 0;
  return result(taskMachine.transition(snapshot, event, scope as unknown as Scope));
}

/** No word from Mesos yet (launched, or written ahead and restored): the tasks a sweep looks at. */
export function isAwaitingFirstWord(snapshot: TaskSnapshot): boolean {
  const state = snapshot.context.state;
  return state === 'LAUNCHED' || state === 'PENDING_LAUNCH';
}
