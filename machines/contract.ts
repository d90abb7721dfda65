/**
 * The contract between the pure machines (machines/) and the I/O edge (src/).
 * Machines declare the actors, actions and events below by name; src/runtime
 * supplies the implementations with `.provide(...)`. Nothing here does I/O.
 *
 * Changing a shape here changes both sides: keep it small and documented.
 */
import type { Call, Event, FrameworkInfo, MasterInfo, Offer, TaskState, TaskStatus } from '../src/mesos/types.js';
import type { Constraint } from './policy/constraints.js';
import type { RetryPolicy } from './policy/retry.js';
import type { JobSchedule } from './policy/schedule.js';

/** An error as data (machines never hold Error objects). */
export interface ErrorRecord {
  /** A stable code from src/mesos/errors.ts (MESOS_NOT_LEADER, HEARTBEAT_TIMEOUT, STREAM_ENDED, ...). */
  code: string;
  message: string;
  status?: number;
}

// ---------------------------------------------------------------------------
// Job configuration (validated flags; plain data)

export interface JobConfig {
  /** Framework and job name; prefix of task ids. */
  name: string;
  /** Shell command of every task. */
  cmd: string;
  cpus: number;
  memMb: number;
  /** Tasks per round (also the most that ever run at once). */
  maxTasks: number;
  /** Cooldown between rounds, seconds. */
  waitSeconds: number;
  /** Rounds to run; 0 = forever. */
  rounds: number;
  role: string;
  /** Seconds to let running tasks finish after SIGTERM before killing them. */
  graceSeconds: number;
  env: Record<string, string>;
  uris: string[];
  image?: string;
  containerizer: 'docker' | 'mesos';
  /** Unix user tasks run as (CommandInfo.user is left unset: FrameworkInfo.user applies). */
  user: string;
  /** A short random string chosen at process start, part of every task id. */
  runId: string;
  /**
   * Seconds a task may run before Mesos kills it (TaskInfo.max_completion_time;
   * it then fails with REASON_MAX_COMPLETION_TIME_REACHED). Unset: no limit.
   */
  taskTimeoutSeconds?: number;
  /** `--jobs`: disk per task, MB (unset: none asked for). */
  diskMb?: number;
  /** `--jobs`: set on every task (TaskInfo.labels). */
  labels?: Record<string, string>;
  /** `--jobs`: relaunches of failed tasks (unset: none). */
  retries?: RetryPolicy;
}

// ---------------------------------------------------------------------------
// Persisted state (state file or ZooKeeper): what a restarted or standby
// scheduler needs to carry on without relaunching or forgetting tasks.

export interface PersistedTask {
  taskId: string;
  agentId?: string;
  round: number;
  index: number;
  /** Last known Mesos state; 'PENDING_LAUNCH' = written before ACCEPT was sent. */
  state: TaskState | 'PENDING_LAUNCH';
  /** `--jobs`: the job the task belongs to (absent in a flags run: its one job). */
  job?: string;
}

/**
 * `--jobs`: one job's part of the state. The fields mean what the same
 * top-level fields mean in a flags run (where the state is its one job's),
 * plus what the supervisor needs to carry on the job's schedule and
 * dependencies. The job's tasks are in PersistedState.tasks, each naming it.
 */
export interface PersistedJob {
  name: string;
  round: number;
  completedRounds: number;
  allFinished: boolean;
  phase: 'round' | 'cooldown';
  launchedInRound?: number;
  finishedInRound?: number;
  failedInRound?: number;
  cooldownUntil?: number;
  /** Rounds that ended with every task finished (parents' counts for `after`). */
  successfulRounds?: number;
  /** Whether the last completed round succeeded. */
  lastRoundOk?: boolean;
  /** When the current (or last) round was started by the schedule or by its parents (ms since epoch). */
  lastStartAt?: number;
  /** `every`: the first start, so the grid survives restarts. */
  anchorAt?: number;
  /** `after`: each parent's successful rounds as this job last consumed them. */
  consumed?: Record<string, number>;
  /** `retries`: retries spent by the chain of each task in flight that is a relaunch. */
  taskRetries?: Record<string, number>;
  /** The job's `grace`, seconds: a scheduler whose file no longer lists the job gives its tasks this long. */
  graceSeconds?: number;
  /** `retries`: relaunches waiting (their backoff, or a launch), as the retries their chains have spent. */
  pendingRetries?: number[];
  /** Paused through the control API (see PersistedState.paused); written only while paused. */
  paused?: true;
  /** See PersistedState.roundKilled. */
  roundKilled?: true;
  /** The round of each of `pendingRetries` (written only when one is not `round`'s). */
  pendingRetryRounds?: number[];
  /**
   * `concurrency: allow`: rounds started before `round` and still in flight
   * (their tasks are in PersistedState.tasks, each naming its round). Absent
   * when none is, and in states written before rounds could overlap.
   * `phase` says whether `round` itself is complete ('cooldown') or not.
   */
  earlierRounds?: PersistedRound[];
}

/** `--jobs`, `concurrency: allow`: a round in flight besides the job's `round`. */
export interface PersistedRound {
  round: number;
  /** Tasks the round wants (its maxtasks when it started). */
  maxTasks: number;
  launched: number;
  finished: number;
  failed: number;
  /** Ended by us (a kill): it ends `killed`. Absent otherwise, and in older states. */
  killed?: true;
}

export interface PersistedState {
  version: 1;
  frameworkName: string;
  frameworkId?: string;
  /** The round in progress (1-based), 0 before the first. */
  round: number;
  /** Rounds completed so far and whether every task of them finished. */
  completedRounds: number;
  allFinished: boolean;
  /** Non-terminal (and just-ended) tasks of the current round. */
  tasks: PersistedTask[];
  /** 'cooldown' between rounds (the round above is complete), else 'round'. */
  phase: 'round' | 'cooldown';
  /**
   * Counters of the round above (added by the machines; optional so older
   * files load): tasks launched so far (PENDING_LAUNCH included) and tasks
   * that ended TASK_FINISHED / otherwise. Ended tasks leave `tasks`, so without
   * these a restarted scheduler could not tell how many tasks the round still wants.
   */
  launchedInRound?: number;
  finishedInRound?: number;
  failedInRound?: number;
  /**
   * Stamped by the runtime when it writes (the machines have no clock):
   * write time and, in cooldown, when the cooldown ends (ms since epoch).
   */
  updatedAt?: number;
  cooldownUntil?: number;
  /**
   * `--jobs`: every job's round state (PersistedJob); the top-level round
   * fields then sum them up. Absent in a flags run.
   */
  jobs?: PersistedJob[];
  /** `--jobs` under `--ha`: the digest of the jobs file (src/jobs/digest.ts) the state was written with. */
  jobsDigest?: string;
  /**
   * Paused through the control API (POST /api/jobs/{name}/pause): no new
   * round starts until resumed, across restarts and HA takeovers. Written
   * only while paused; under `--jobs` each job's is in its PersistedJob.
   */
  paused?: true;
  /**
   * The round `round` was ended by us (POST /api/jobs/{name}/kill, or the
   * kill after a stop's grace) and ends `killed`, not a success; a restart
   * mid-kill kills its tasks again and relaunches none. Written only while
   * such a round is in flight (absent in older states); under `--jobs` in
   * each job's PersistedJob.
   */
  roundKilled?: true;
}

// ---------------------------------------------------------------------------
// Actors supplied by src/

/** Input of the `subscription` callback actor: open one SUBSCRIBE stream. */
export interface SubscriptionInput {
  frameworkInfo: FrameworkInfo;
  /** Set when re-subscribing (FrameworkInfo.id and Call.framework_id). */
  frameworkId?: string;
  /** Roles to subscribe as suppressed (Call.Subscribe.suppressed_roles). */
  suppressedRoles: string[];
  /** Increases with every subscription attempt; stale results carry an older one. */
  generation: number;
}

/**
 * Events the `subscription` actor sends back to the framework machine. It
 * finds the leader (master list with 307 redirects, or ZooKeeper), POSTs
 * SUBSCRIBE and streams events. It sends exactly one `conn.lost` when the
 * attempt or the stream ends for any reason, and nothing after it.
 */
export type SubscriptionEvent =
  | { type: 'conn.subscribed'; generation: number; streamId: string; master: string; frameworkId: string; heartbeatIntervalSeconds: number; masterInfo?: MasterInfo }
  | { type: 'conn.leader'; generation: number; master: string }
  | { type: 'conn.lost'; generation: number; error: ErrorRecord }
  | { type: 'mesos.heartbeat'; generation: number }
  | { type: 'mesos.offers'; generation: number; offers: Offer[]; receivedAt: number }
  | { type: 'mesos.rescind'; generation: number; offerId: string }
  | { type: 'mesos.update'; generation: number; status: TaskStatus }
  /**
   * Consecutive UPDATEs of one chunk of the stream (two or more), in stream
   * order: one event through the machines instead of one per update.
   */
  | { type: 'mesos.updates'; generation: number; statuses: TaskStatus[] }
  | { type: 'mesos.failure'; generation: number; agentId?: string; executorId?: string; status?: number }
  | { type: 'mesos.message'; generation: number; agentId: string; executorId: string; data: string }
  | { type: 'mesos.error'; generation: number; message: string }
  | { type: 'mesos.other'; generation: number; event: Event };

// ---------------------------------------------------------------------------
// Actions supplied by src/

/**
 * `sendCall`: POST one call to the current master with the current stream id.
 * Fire and forget. The runtime drops calls made while not subscribed (they
 * would get 403) and, when a call's answer shows the subscription is gone
 * (403, stale stream 400, 307, 503), sends `call.failed` to the framework actor.
 * The runtime fills in `framework_id`; the machines build the rest with the
 * builders in machines/policy/calls.ts.
 */
export interface SendCallParams {
  call: Call;
  /**
   * The call depends on no state write (the ACK of a non-terminal update, whose
   * state a restart learns by reconciliation): it may go out before writes
   * queued ahead of it. Without it, a call waits for every write persisted
   * before it (write-ahead).
   */
  independent?: true;
}

/**
 * `persist`: write the state before any call made after it goes out (write-ahead).
 * Each state is a full snapshot, so the runtime may write only the newest of
 * several pending ones (group commit). `state` may be a getter that builds the
 * snapshot when first read (the machines hand over a cheap lazy value): read
 * it only when writing; it is the state as of the persist, whenever it is read.
 */
export interface PersistParams {
  readonly state: PersistedState;
  /**
   * What changed since the previous persist, for an append-only journal: the
   * whole state minus its tasks (cheap), the tasks added or changed, and the
   * task ids that left the state. Absent: treat the persist as a whole new
   * state (the store writes a snapshot).
   */
  readonly delta?: StateDelta;
}

/** One journal record's worth of change (see PersistParams.delta). */
export interface StateDelta {
  readonly header: Omit<PersistedState, 'tasks'>;
  readonly upsert: readonly PersistedTask[];
  readonly remove: readonly string[];
}

/**
 * `inspectTask`: one step of one task (tasks are data stepped by the job, not
 * actors, so the Stately inspector learns of them from here). Made only for
 * the first tasks of each round (machines/task/task.steps.ts
 * INSPECTED_TASKS_PER_ROUND), so a round of 100,000 tasks does not flood the
 * browser.
 */
export interface TaskInspection {
  taskId: string;
  round: number;
  index: number;
  /** The event of the step; `xstate.init` when the task is created. */
  event: { type: string };
  snapshot: { value: unknown; status: string; context: unknown; output?: unknown };
}

/** Notifications for logs, metrics, the status endpoint and tests (see src/runtime/signals.ts). */
export type Notification =
  | { type: 'subscribed'; frameworkId: string; master: string; resubscribe: boolean }
  | { type: 'disconnected'; reason: string; message: string; retryInMs?: number }
  | { type: 'leaderChanged'; master: string }
  | { type: 'frameworkRemoved'; frameworkId: string; message: string }
  | { type: 'fatal'; message: string }
  | { type: 'offersReceived'; count: number }
  | { type: 'taskLaunched'; taskId: string; round: number; agentId: string }
  | { type: 'taskState'; taskId: string; round: number; state: string; reason?: string; source?: string; message?: string }
  | { type: 'taskEnded'; taskId: string; round: number; state: string; reason?: string; ok: boolean; message?: string }
  /** `retries`: the task failed and is relaunched under a new id after `delayMs` (retry `retry` of `max`). */
  | { type: 'taskRetry'; taskId: string; round: number; state: string; reason?: string; message?: string; retry: number; max: number; delayMs: number }
  /** Its ACCEPT never reached the master: not a failure; another task is launched in its place. */
  | { type: 'taskUnlaunched'; taskId: string; round: number; reason: string }
  | { type: 'acknowledged'; taskId: string; state: string }
  /** `overlaps` (`concurrency: allow`): the rounds still in flight that this one runs alongside. */
  | { type: 'roundStarted'; round: number; tasks: number; job?: string; overlaps?: number[] }
  /** `killed`: the round was ended by us (a kill, a stop or a removal), not a success whatever its tasks did. */
  | { type: 'roundFinished'; round: number; finished: number; failed: number; job?: string; killed?: true }
  | { type: 'cooldown'; round: number; seconds: number; job?: string }
  /** `--jobs`: a job waits for its schedule or its parents (`next`: its next start by the clock, ms since epoch). */
  | { type: 'jobWaiting'; job: string; round: number; next?: number; parents?: string[] }
  /**
   * `--jobs`: a start by the schedule came while the job's last round still
   * ran (concurrency forbid), or while `max-in-flight` rounds ran (allow).
   */
  | { type: 'startSkipped'; job: string; at: number; reason?: 'max-in-flight'; inFlight?: number }
  /** `--jobs`: what a reload of the jobs file changed. */
  | { type: 'jobsReloaded'; added: string[]; changed: string[]; removed: string[]; unchanged: string[]; skipped: string[] }
  /** `--jobs`: a removed job (by a reload, or unknown to the file after a restart or takeover) has ended and is forgotten. */
  | { type: 'jobRemoved'; job: string }
  /**
   * `--jobs` (MULTI_ROLE): the framework's roles changed (a reload added a job
   * of a new role, or the last job of a role was forgotten). `sent`: told to
   * the master at once (UPDATE_FRAMEWORK); else the next SUBSCRIBE carries them.
   */
  | { type: 'rolesUpdated'; roles: string[]; added: string[]; removed: string[]; sent: boolean }
  | { type: 'suppressed'; roles?: string[] }
  | { type: 'revived'; roles?: string[] }
  | { type: 'reconcile'; tasks: number; attempt: number; implicit: boolean }
  | { type: 'unknownTask'; taskId: string; state: string };

// ---------------------------------------------------------------------------
// Events from the runtime to the framework machine

export type RuntimeEvent =
  /** A call's answer says the subscription is gone (see SendCallParams). */
  | { type: 'call.failed'; generation: number; error: ErrorRecord }
  /**
   * A call never reached the master: it was not sent (its write-ahead failed,
   * it was made under an older subscription, or no subscription was up) or it
   * was answered with a non-2xx status. For an ACCEPT its tasks never launched:
   * the job may launch them again under new task ids without counting a failure.
   */
  | { type: 'call.unsent'; call: Call; reason: string }
  /** SIGINT/SIGTERM: stop launching, let tasks finish within the grace, then TEARDOWN. */
  | { type: 'framework.stop' }
  /** Second signal: end now (kill what runs, TEARDOWN, exit). */
  | { type: 'framework.stopNow' }
  /** HA leader stepping down: stop without TEARDOWN so a standby carries on. */
  | { type: 'framework.handover' }
  /**
   * `--jobs`, SIGHUP: the jobs file as reloaded. Added jobs start, changed
   * ones take their new definition from their next round, removed ones start
   * no new round: their tasks get the job's grace, then are killed, and the
   * job is forgotten.
   */
  | { type: 'jobs.reload'; jobs: readonly JobRun[] }
  | JobControlEvent;

/**
 * The control API (POST /api/jobs/{name}/run|pause|resume|kill), forwarded by
 * the framework to the job. The runtime answers the caller from the job's
 * state; an event the job cannot act on in its state changes nothing.
 * - job.runNow: during the cooldown (or a pause), start the next round at once.
 * - job.pause: start no new round until job.resume; a round in progress finishes.
 * - job.resume: carry on: the next round starts after a cooldown of `waitSeconds`.
 * - job.kill: kill the current round's tasks (KILL with a kill policy of
 *   `graceSeconds`) and launch no more of them; the round ends when they have.
 * With `--jobs`, `job` names the job; the supervisor passes the event to it
 * (one without `job` changes nothing there).
 */
export type JobControlEvent =
  | { type: 'job.runNow'; job?: string }
  | { type: 'job.pause'; job?: string }
  | { type: 'job.resume'; job?: string }
  | { type: 'job.kill'; job?: string };

/** Timing policy of the framework machine; every field has a documented default in machines/policy. */
export interface Timing {
  /** Reconnect backoff: first delay, cap, growth factor and jitter fraction (0..1). */
  backoffInitialMs: number;
  backoffMaxMs: number;
  backoffFactor: number;
  backoffJitter: number;
  /** Heartbeat intervals without any event before the stream counts as dead. */
  missedHeartbeats: number;
  /** Explicit reconciliation retry: first delay and cap. */
  reconcileInitialMs: number;
  reconcileMaxMs: number;
  /** Interval of implicit reconciliation while subscribed. */
  implicitReconcileMs: number;
  /** Re-send REVIVE when no offer arrived for this long while tasks are wanted. */
  reviveRepeatMs: number;
  /** Refuse filter for declined offers while tasks are wanted / while idle (seconds). */
  declineWantedSeconds: number;
  declineIdleSeconds: number;
  /** Stopping: how long to wait for killed tasks to end before giving up on them. */
  killWaitMs: number;
  /** The job ended while disconnected: how long to try to resubscribe to send TEARDOWN. */
  teardownWaitMs: number;
  /**
   * The job's sweep period: a launched task not heard of for two sweeps (so
   * for between one and two periods) is reconciled (the launch may have been lost).
   */
  launchTimeoutMs: number;
}

/** Input of the framework (root) machine. */
export interface FrameworkInput {
  /** user, name, role, failover_timeout, hostname, principal, capabilities; no id. */
  frameworkInfo: FrameworkInfo;
  job: JobConfig;
  /**
   * `--jobs`: the jobs of the file, run by the supervisor machine (build the
   * machine with `buildFrameworkMachine(effects, { jobs: true })`); `job` then
   * holds only the framework's own settings (name, user).
   */
  jobs?: readonly JobRun[];
  /** State loaded from the state file or ZooKeeper, to carry on after a restart or takeover. */
  restored?: PersistedState;
  /** Seed of the machine's own PRNG (backoff jitter), so runs are reproducible. */
  seed: number;
  timing?: Partial<Timing>;
  /**
   * Wall clock (ms since epoch) when the actor starts. With restored.cooldownUntil
   * it gives the remaining cooldown after a restart; without it the full cooldown runs.
   */
  now?: number;
}

/**
 * Everything machines/index.ts `buildFrameworkMachine(effects)` needs from src/.
 * `subscription` is a callback actor (xstate `fromCallback`) taking
 * SubscriptionInput and sending back SubscriptionEvent; its disposer aborts
 * the stream.
 */
export interface Effects<SubscriptionLogic> {
  subscription: SubscriptionLogic;
  sendCall(params: SendCallParams): void;
  persist(params: PersistParams): void;
  notify(notification: Notification): void;
  /** For the Stately inspector (`--inspect`); optional. */
  inspectTask?(step: TaskInspection): void;
}

/** What the framework actor outputs when it reaches a final state. */
export interface FrameworkOutput {
  exitCode: number;
  reason: 'completed' | 'stopped' | 'handover' | 'fatal';
  message?: string;
}

export type { Call, TaskState, TaskStatus, Offer, FrameworkInfo };

// ---------------------------------------------------------------------------
// Jobs file (`--jobs FILE`, issue 11): one validated job of the file, loaded
// by src/jobs/load.ts (docs/jobs-file.md). The policies it names live in
// machines/policy/ (schedule.ts, retry.ts, constraints.ts, dependencies.ts,
// priority.ts).

export interface JobDefinition extends Omit<JobConfig, 'runId'> {
  /** Disk per task, MB; unset: no disk asked for. */
  diskMb?: number;
  /** Set on every task (TaskInfo.labels). */
  labels: Record<string, string>;
  /** Starts rounds by the clock instead of `waitSeconds` after the last one. */
  schedule?: JobSchedule;
  /** Relaunches of failed tasks; unset: none. */
  retries?: RetryPolicy;
  /** Placement on agents, Marathon's semantics; all must hold. */
  constraints: Constraint[];
  /** Parent jobs: a round runs when each has succeeded since this job's last round. */
  after: string[];
  /** Higher is served offers first; equal ones share. Default 0. */
  priority: number;
}

/** A job of the file as the machines run it: with the per-process run id of its task ids. */
export type JobRun = JobDefinition & { runId: string };
