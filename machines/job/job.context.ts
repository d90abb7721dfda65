/**
 * Context, input, events and output of the job machine, and the pure helpers
 * that derive the persisted state from the context and the context from a
 * restored state.
 */
import { Map as ImmutableMap } from 'immutable';
import type { JobConfig, PersistedState, PersistedTask, PersistParams, SubscriptionEvent, Timing } from '../contract.js';
import { isSuccessState, isTerminalState } from '../policy/task-status.js';
import type { TaskEnded, TaskSilent } from '../task/task.machine.js';

export interface JobInput {
  config: JobConfig;
  timing: Timing;
  /** Role offers are revived/suppressed for (FrameworkInfo.role, '*' by default). */
  role: string;
  restored?: PersistedState;
  /** Wall clock at start (ms), to shorten a restored cooldown. */
  now?: number;
}

/** A task of the current round that has not ended yet. */
export type ActiveTask = PersistedTask;

/**
 * The tasks in flight by task id: a persistent (immutable) map, so recording
 * one task's update or end makes a new map in O(log n) that shares the rest
 * with the old one. A plain object would have to be copied whole on every
 * update (the context is never mutated), which is O(tasks in flight) per
 * status update.
 */
export type ActiveTasks = ImmutableMap<string, ActiveTask>;

export const noActiveTasks: ActiveTasks = ImmutableMap();

/**
 * The id of a task's actor: its place in the round (`1` … `N`), not its task
 * id (which is in the actor's context). xstate keeps a machine's children in a
 * plain object keyed by actor id and copies it on every spawn and stop. V8
 * stores array-index keys as elements, which it copies far faster than named
 * properties (about 20 times at 1,000 tasks in flight), and keys that repeat
 * round after round leave nothing behind, where a new named key per task would
 * leave a hidden class for every task ever run.
 */
export function taskActorId(index: number): string {
  return String(index);
}

export interface JobContext {
  config: JobConfig;
  timing: Timing;
  role: string;
  frameworkId?: string;
  connected: boolean;
  /** Current round, 1-based; 0 before the first. */
  round: number;
  completedRounds: number;
  /** Every task that ended so far ended TASK_FINISHED. */
  allFinished: boolean;
  launchedInRound: number;
  finishedInRound: number;
  failedInRound: number;
  /** Non-terminal tasks of the current round, by task id (at most maxTasks). */
  active: ActiveTasks;
  /** 'cooldown' between rounds (for the persisted state). */
  phase: 'round' | 'cooldown';
  /** We asked Mesos to stop sending offers (SUPPRESS) and not revived since. */
  suppressed: boolean;
  /** Length of the next cooldown (shorter when restored mid-cooldown). */
  cooldownMs: number;
  /** Explicit reconciliation: tasks without an update since it started. */
  reconcileRemaining: Record<string, true>;
  reconcileAttempt: number;
  reconcileDelayMs: number;
  /** Where a restored state resumes on the first subscription; cleared once used. */
  resume?: 'round' | 'cooldown';
  result?: JobOutput;
}

export interface JobOutput {
  reason: 'completed' | 'stopped' | 'aborted' | 'handover';
  /** Every task that ended ended TASK_FINISHED. */
  allFinished: boolean;
  completedRounds: number;
  /** Tasks still alive (not seen ending) when the job stopped. */
  unfinished: number;
}

type Forwarded = Extract<SubscriptionEvent, { type: 'mesos.offers' | 'mesos.rescind' | 'mesos.update' | 'mesos.failure' }>;

export type JobEvent =
  | Forwarded
  | { type: 'job.subscribed'; frameworkId: string; resubscribe: boolean }
  | { type: 'job.disconnected' }
  | { type: 'job.frameworkRemoved' }
  | { type: 'job.drain' }
  | { type: 'job.abort' }
  | { type: 'job.handover' }
  | TaskEnded
  | TaskSilent;

/** Tasks in flight (O(1)). */
export function activeCount(context: Pick<JobContext, 'active'>): number {
  return context.active.size;
}

/**
 * The `persist` effect's params for `context`, built lazily: `state` is
 * derived (an O(tasks in flight) copy) the first time it is read, so a
 * runtime that writes only the newest of several pending states (group
 * commit) pays for that one only. The context is never mutated (every change
 * makes new objects), so the state read later is the state as of this call.
 */
export function persistParams(context: JobContext): PersistParams {
  let state: PersistedState | undefined;
  return {
    get state(): PersistedState {
      state ??= toPersistedState(context);
      return state;
    },
  };
}

export function toPersistedState(context: JobContext): PersistedState {
  const state: PersistedState = {
    version: 1,
    frameworkName: context.config.name,
    round: context.round,
    completedRounds: context.completedRounds,
    allFinished: context.allFinished,
    tasks: Array.from(context.active.values(), (t) => ({ ...t })),
    phase: context.phase,
    launchedInRound: context.launchedInRound,
    finishedInRound: context.finishedInRound,
    failedInRound: context.failedInRound,
  };
  if (context.frameworkId !== undefined) state.frameworkId = context.frameworkId;
  return state;
}

/**
 * Context of a new or restored job. A restored round resumes with its tasks
 * (counted as launched: PENDING_LAUNCH ones may have been launched and are
 * never relaunched in that round); tasks persisted already terminal are
 * counted as ended now. A restored cooldown resumes with what is left of it.
 */
export function initialJobContext(input: JobInput): JobContext {
  const { config, timing, role, restored } = input;
  const context: JobContext = {
    config, timing, role, connected: false, round: 0, completedRounds: 0, allFinished: true,
    launchedInRound: 0, finishedInRound: 0, failedInRound: 0, active: noActiveTasks, phase: 'round',
    suppressed: false, cooldownMs: Math.max(0, config.waitSeconds * 1000),
    reconcileRemaining: {}, reconcileAttempt: 0, reconcileDelayMs: timing.reconcileInitialMs,
  };
  if (restored === undefined) return context;
  if (restored.frameworkId !== undefined) context.frameworkId = restored.frameworkId;
  context.round = restored.round;
  context.completedRounds = restored.completedRounds;
  context.allFinished = restored.allFinished;
  context.phase = restored.phase;
  // Round 0: no round had started; the job starts afresh with the known framework id.
  if (restored.round === 0) return context;
  if (restored.phase === 'cooldown') {
    context.resume = 'cooldown';
    context.suppressed = true;
    if (restored.cooldownUntil !== undefined && input.now !== undefined) {
      context.cooldownMs = Math.min(context.cooldownMs, Math.max(0, restored.cooldownUntil - input.now));
    }
    return context;
  }
  context.resume = 'round';
  context.launchedInRound = restored.launchedInRound ?? restored.tasks.length;
  context.finishedInRound = restored.finishedInRound ?? 0;
  context.failedInRound = restored.failedInRound ?? 0;
  context.active = noActiveTasks.withMutations((active) => {
    for (const task of restored.tasks) {
      if (isTerminalState(task.state)) {
        // Persisted between its terminal update and its accounting: count it now.
        if (isSuccessState(task.state)) context.finishedInRound++;
        else { context.failedInRound++; context.allFinished = false; }
        continue;
      }
      active.set(task.taskId, { ...task });
    }
  });
  return context;
}
