/**
 * Context, input, events and output of the job machine, and the pure helpers
 * that derive the persisted state (and its deltas) from the context and the
 * context from a restored state.
 */
import { Map as ImmutableMap } from 'immutable';
import type { Call, JobConfig, JobControlEvent, JobRun, PersistedJob, PersistedState, PersistedTask, PersistParams, StateDelta, SubscriptionEvent, Timing } from '../contract.js';
import type { Offer, Resource } from '../../src/mesos/types.js';
import { seedState } from '../policy/prng.js';
import { isSuccessState, isTerminalState } from '../policy/task-status.js';

/** A number from a text (FNV-1a), to seed a job's own PRNG. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
import { startTask, type TaskSnapshot } from '../task/task.steps.js';

export interface JobInput {
  config: JobConfig;
  timing: Timing;
  /** Role offers are revived/suppressed for (FrameworkInfo.role, '*' by default). */
  role: string;
  restored?: PersistedState;
  /** Wall clock at start (ms), to shorten a restored cooldown. */
  now?: number;
  /**
   * `--jobs` (the supervisor runs the job): offers are planned by the
   * supervisor and come as `job.launch`; REVIVE and SUPPRESS are the
   * supervisor's (the job only says whether it wants offers).
   */
  shared?: boolean;
  /** `--jobs`: every job of the file (read by the supervisor, which the framework invokes in place of the job). */
  jobs?: readonly JobRun[];
  /** `--jobs`: rounds start on `job.start` (the job's schedule or its parents), not after the cooldown. */
  triggered?: boolean;
}

/** `--jobs`: what the job keeps for the supervisor (schedule position, consumed parent rounds). */
export interface JobSchedulePosition {
  lastStartAt?: number;
  anchorAt?: number;
  consumed?: Record<string, number>;
}

/**
 * The tasks in flight by task id, each as its task machine snapshot (the one
 * owner of a task's state; see machines/task/task.steps.ts): a persistent
 * (immutable) map, so recording one task's update or end makes a new map in
 * O(log n) that shares the rest with the old one.
 */
export type ActiveTasks = ImmutableMap<string, TaskSnapshot>;

/**
 * `--jobs`, `concurrency: allow`: a round started before the newest one and
 * still in flight (the newest round's counters are the context's own
 * `launchedInRound`, ...). Its tasks are in `active` like every task; each
 * task knows its round.
 */
export interface EarlierRound {
  round: number;
  /** The round's size (its definition's maxTasks when it started). */
  maxTasks: number;
  launched: number;
  finished: number;
  failed: number;
  /** The last task index used in the round. */
  lastIndex: number;
  /** Its tasks in flight. */
  alive: number;
  /** Its relaunches waiting for their backoff, or released and not launched yet. */
  retrying: number;
  /** Ended by us (`job.kill`, or the kill after a stop's grace): it ends `killed`, never a success. */
  killed?: true;
}

/** A relaunch of a failed task: the retries its chain has spent with this one, and the round it belongs to. */
export interface RetryCarry {
  spent: number;
  round: number;
}

export const noActiveTasks: ActiveTasks = ImmutableMap();

export interface JobContext {
  config: JobConfig;
  timing: Timing;
  role: string;
  frameworkId?: string;
  connected: boolean;
  /** Control API: no new round starts until resumed (a round in progress finishes). Not persisted. */
  paused: boolean;
  /** Current round, 1-based; 0 before the first. */
  round: number;
  completedRounds: number;
  /** Every task that ended so far ended TASK_FINISHED. */
  allFinished: boolean;
  /** Tasks of the round launched or being launched (those that never reached the master are taken back). */
  launchedInRound: number;
  finishedInRound: number;
  failedInRound: number;
  /** The last task index used in this round: every launch takes a new one, so a task id is never reused. */
  lastIndex: number;
  /** Non-terminal tasks of every round in flight, by task id (at most maxTasks per round). */
  active: ActiveTasks;
  /**
   * `concurrency: allow`: rounds started before `round` and still in flight,
   * by round (usually none); `earlierAlive` counts their tasks in `active`,
   * `earlierWanting` the tasks they still want launched (both kept as they
   * change, so no step counts them).
   */
  earlier: Readonly<Record<number, EarlierRound>>;
  earlierAlive: number;
  earlierWanting: number;
  /** Sweeps so far: the job's clock for silence (see the `sweep` region). */
  sweeps: number;
  /**
   * The round `round` was ended by us (`job.kill`, or the kill after a stop's
   * or removal's grace): it launches nothing more, retries nothing, and ends
   * `killed` (not a success). Persisted (`roundKilled`) so a restart mid-kill keeps it.
   */
  roundKilled: boolean;
  /** 'cooldown' once the round `round` is complete (between rounds; earlier rounds may still be in flight). */
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
  /** See JobInput. */
  shared: boolean;
  triggered: boolean;
  /** Rounds that ended with every task finished. */
  successfulRounds: number;
  /** Whether the last completed round succeeded (unset before the first). */
  lastRoundOk?: boolean;
  position: JobSchedulePosition;
  /**
   * `retries`: relaunches waiting for their backoff (the delay, and the
   * retries their chain has spent with this one), one after another.
   */
  retryQueue: { delayMs: number; spent: number; round: number }[];
  /** Relaunches released from the queue and not launched yet: the next launches of their rounds take these counts. */
  retryCarry: RetryCarry[];
  /** Retries spent by the chain of each task in flight that is a relaunch. */
  taskRetries: Record<string, number>;
  /** PRNG state of the retry backoff jitter. */
  rng: number;
  /** `--jobs` reload: the definition the next round takes. */
  nextConfig?: JobConfig;
}

export interface JobOutput {
  reason: 'completed' | 'stopped' | 'aborted' | 'handover';
  /** Every task that ended ended TASK_FINISHED. */
  allFinished: boolean;
  completedRounds: number;
  /** Tasks still alive (not seen ending) when the job stopped. */
  unfinished: number;
}

type Forwarded = Extract<SubscriptionEvent, { type: 'mesos.offers' | 'mesos.rescind' | 'mesos.update' | 'mesos.updates' | 'mesos.failure' }>;

export type JobEvent =
  | Forwarded
  | { type: 'job.subscribed'; frameworkId: string; resubscribe: boolean }
  | { type: 'job.disconnected' }
  | { type: 'job.frameworkRemoved' }
  | { type: 'job.drain' }
  | { type: 'job.abort' }
  | { type: 'job.handover' }
  | JobControlEvent
  /** A call never reached the master (RuntimeEvent `call.unsent`, forwarded by the framework). */
  | { type: 'call.unsent'; call: Call; reason: string }
  /** Raised by the sweep: these tasks were not heard of since their launch. */
  | { type: 'job.silent'; taskIds: string[] }
  /** `--jobs`: tasks the supervisor planned for this job on these offers (resources per task). */
  | { type: 'job.launch'; uses: { offer: Offer; tasks: Resource[][] }[] }
  /** `--jobs`: start a round now (the schedule or the parents say so). */
  | { type: 'job.start'; at?: number; consumed?: Record<string, number> }
  /** `--jobs` reload: the job's new definition, taken from its next round (`triggered` at once). */
  | { type: 'job.update'; config: JobConfig; triggered: boolean }
  /** `--jobs`: the job was removed: no new round; its tasks get the grace, then are killed. */
  | { type: 'job.remove' };

/** Tasks in flight (O(1)). */
export function activeCount(context: Pick<JobContext, 'active'>): number {
  return context.active.size;
}

/** A task as written to the state: LAUNCHED is PENDING_LAUNCH there (its ACCEPT may not have gone out). */
export function persistedTaskOf(snapshot: TaskSnapshot): PersistedTask {
  const { taskId, round, index, agentId, state } = snapshot.context;
  const task: PersistedTask = { taskId, round, index, state: state === 'LAUNCHED' ? 'PENDING_LAUNCH' : state };
  if (agentId !== undefined) task.agentId = agentId;
  return task;
}

/** The state without its tasks (what every delta carries). */
export function persistedHeaderOf(context: JobContext): StateDelta['header'] {
  const header: StateDelta['header'] = {
    version: 1,
    frameworkName: context.config.name,
    round: context.round,
    completedRounds: context.completedRounds,
    allFinished: context.allFinished,
    phase: context.phase,
    launchedInRound: context.launchedInRound,
    finishedInRound: context.finishedInRound,
    failedInRound: context.failedInRound,
  };
  if (context.frameworkId !== undefined) header.frameworkId = context.frameworkId;
  if (context.roundKilled && !context.shared) header.roundKilled = true;
  if (context.shared) header.jobs = [persistedJobOf(context)];
  if (context.paused && !context.shared) header.paused = true;
  return header;
}

export interface TaskChanges {
  upsert?: readonly PersistedTask[];
  remove?: readonly string[];
}

/**
 * The `persist` effect's params for `context`: the delta (the header, and the
 * tasks added or removed since the previous persist, as `changes` says) and
 * the whole state, built lazily: `state` is derived (an O(tasks in flight)
 * copy) the first time it is read, so a runtime that writes deltas, or only
 * the newest of several pending states, does not pay for it. The context is
 * never mutated (every change makes new objects), so the state read later is
 * the state as of this call.
 */
export function persistParams(context: JobContext, changes: TaskChanges = {}): PersistParams {
  let state: PersistedState | undefined;
  const delta: StateDelta = { header: persistedHeaderOf(context), upsert: changes.upsert ?? [], remove: changes.remove ?? [] };
  return {
    delta,
    get state(): PersistedState {
      state ??= toPersistedState(context);
      return state;
    },
  };
}

export function toPersistedState(context: JobContext): PersistedState {
  return { ...persistedHeaderOf(context), tasks: Array.from(context.active.values(), persistedTaskOf) };
}

/** `--jobs`: the job's own entry of the state (the supervisor's runtime merges every job's). */
function persistedJobOf(context: JobContext): PersistedJob {
  const job: PersistedJob = {
    name: context.config.name, round: context.round, completedRounds: context.completedRounds, allFinished: context.allFinished,
    phase: context.phase, launchedInRound: context.launchedInRound, finishedInRound: context.finishedInRound,
    failedInRound: context.failedInRound, successfulRounds: context.successfulRounds, ...context.position,
    graceSeconds: context.config.graceSeconds,
  };
  if (context.lastRoundOk !== undefined) job.lastRoundOk = context.lastRoundOk;
  if (context.paused) job.paused = true;
  if (context.roundKilled) job.roundKilled = true;
  if (Object.keys(context.taskRetries).length > 0) job.taskRetries = context.taskRetries;
  const pending = [...context.retryQueue, ...context.retryCarry];
  if (pending.length > 0) {
    job.pendingRetries = pending.map((r) => r.spent);
    if (pending.some((r) => r.round !== context.round)) job.pendingRetryRounds = pending.map((r) => r.round);
  }
  const earlier = Object.values(context.earlier);
  if (earlier.length > 0) {
    job.earlierRounds = earlier.map(({ round, maxTasks, launched, finished, failed, killed }) => (
      killed === true ? { round, maxTasks, launched, finished, failed, killed } : { round, maxTasks, launched, finished, failed }));
  }
  return job;
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
    config, timing, role, connected: false, paused: false, round: 0, completedRounds: 0, allFinished: true,
    launchedInRound: 0, finishedInRound: 0, failedInRound: 0, lastIndex: 0, active: noActiveTasks,
    earlier: {}, earlierAlive: 0, earlierWanting: 0, sweeps: 0, phase: 'round', roundKilled: false,
    suppressed: false, cooldownMs: Math.max(0, config.waitSeconds * 1000),
    reconcileRemaining: {}, reconcileAttempt: 0, reconcileDelayMs: timing.reconcileInitialMs,
    shared: input.shared === true, triggered: input.triggered === true, successfulRounds: 0, position: {},
    retryQueue: [], retryCarry: [], taskRetries: {}, rng: seedState(seedOf(config.name + config.runId)),
  };
  if (restored === undefined) return context;
  const own = restored.jobs?.find((j) => j.name === config.name);
  if (own !== undefined) {
    context.successfulRounds = own.successfulRounds ?? 0;
    if (own.lastRoundOk !== undefined) context.lastRoundOk = own.lastRoundOk;
    const position: JobSchedulePosition = {};
    if (own.lastStartAt !== undefined) position.lastStartAt = own.lastStartAt;
    if (own.anchorAt !== undefined) position.anchorAt = own.anchorAt;
    if (own.consumed !== undefined) position.consumed = { ...own.consumed };
    context.position = position;
    if (own.taskRetries !== undefined) context.taskRetries = { ...own.taskRetries };
    // Relaunches that waited when the scheduler stopped go out at once.
    if (own.pendingRetries !== undefined) {
      context.retryQueue = own.pendingRetries.map((spent, i) => ({ delayMs: 0, spent, round: own.pendingRetryRounds?.[i] ?? restored.round }));
    }
  }
  if (restored.frameworkId !== undefined) context.frameworkId = restored.frameworkId;
  context.round = restored.round;
  context.completedRounds = restored.completedRounds;
  context.allFinished = restored.allFinished;
  context.phase = restored.phase;
  context.paused = (own !== undefined ? own.paused : restored.paused) === true;
  // Killed mid-round (job.kill, or a stop's kill) before a restart: the round stays killed.
  context.roundKilled = restored.phase === 'round' && (own !== undefined ? own.roundKilled : restored.roundKilled) === true;
  // Round 0: no round had started; the job starts afresh with the known framework id.
  if (restored.round === 0) return context;
  const earlier = own?.earlierRounds ?? [];
  if (restored.phase === 'cooldown' && earlier.length === 0) {
    context.resume = 'cooldown';
    context.suppressed = true;
    if (restored.cooldownUntil !== undefined && input.now !== undefined) {
      context.cooldownMs = Math.min(context.cooldownMs, Math.max(0, restored.cooldownUntil - input.now));
    }
    return context;
  }
  context.resume = 'round';
  // The round `round` resumes unless it was complete (earlier rounds may still be in flight).
  const launched = restored.launchedInRound ?? (earlier.length === 0 ? restored.tasks.length : restored.tasks.filter((t) => t.round === restored.round).length);
  const current: EarlierRound | undefined = restored.phase === 'cooldown' ? undefined : {
    round: restored.round, maxTasks: config.maxTasks, launched, finished: restored.finishedInRound ?? 0, failed: restored.failedInRound ?? 0,
    lastIndex: launched, alive: 0, retrying: 0,
  };
  const rounds = new Map<number, EarlierRound>();
  for (const r of earlier) rounds.set(r.round, { ...r, lastIndex: r.launched, alive: 0, retrying: 0 });
  if (current !== undefined) rounds.set(current.round, current);
  for (const retry of context.retryQueue) {
    const of = rounds.get(retry.round);
    if (of !== undefined) of.retrying++;
  }
  context.active = noActiveTasks.withMutations((active) => {
    for (const task of restored.tasks) {
      // A task of no round in flight (a state written before rounds overlapped) belongs to the round `round`.
      const of = rounds.get(task.round) ?? current;
      if (of !== undefined) of.lastIndex = Math.max(of.lastIndex, task.index);
      if (isTerminalState(task.state)) {
        // Persisted between its terminal update and its accounting: count it now.
        if (of === undefined) continue;
        if (isSuccessState(task.state)) of.finished++;
        else { of.failed++; context.allFinished = false; }
        continue;
      }
      if (of !== undefined) of.alive++;
      const input = { taskId: task.taskId, round: task.round, index: task.index, state: task.state, sweep: 0 };
      active.set(task.taskId, startTask(task.agentId === undefined ? input : { ...input, agentId: task.agentId }).snapshot);
    }
  });
  if (current !== undefined) {
    context.launchedInRound = current.launched;
    context.finishedInRound = current.finished;
    context.failedInRound = current.failed;
    context.lastIndex = current.lastIndex;
    rounds.delete(current.round);
  }
  const byRound: Record<number, EarlierRound> = {};
  for (const r of rounds.values()) {
    byRound[r.round] = r;
    context.earlierAlive += r.alive;
    context.earlierWanting += Math.max(0, r.maxTasks - r.launched);
  }
  context.earlier = byRound;
  return context;
}
