/**
 * What `/state` shows, kept up to date from the runtime's domain signals:
 * connection, round and phase, the current round's tasks with their states
 * and times, and counters. Memory stays bounded: only the current round's
 * tasks are kept (older rounds survive as their totals). With `--jobs` each
 * job's round and phase are under `jobs` (the signals' `job`), and the tasks
 * are those of each job's current round.
 */
import { jobOfTask } from '../../machines/supervisor/supervisor.context.js';
import type { Signals, SignalMap } from '../runtime/signals.js';

/** `starting` before the first round; `finished` after a round until the cooldown (or the end). */
export type Phase = 'starting' | 'round' | 'finished' | 'cooldown';

export interface TaskView {
  taskId: string;
  round: number;
  state: string;
  agentId?: string;
  reason?: string;
  message?: string;
  /** Set once the task ended: true for TASK_FINISHED. */
  ok?: boolean;
  launchedAt?: string;
  updatedAt: string;
  endedAt?: string;
}

export interface StateViewSnapshot {
  framework: {
    id: string | null;
    master: string | null;
    subscribed: boolean;
    subscribedAt: string | null;
    lastDisconnect: { reason: string; message: string; at: string; retryInMs?: number } | null;
    /** The last event from the master: its type (HEARTBEAT, OFFERS, ...) and arrival. */
    lastEvent: { type: string; at: string } | null;
    offersSuppressed: boolean;
    /** Why the scheduler gave up, if it did (framework removed, fatal error). */
    fatal: string | null;
  };
  /** The job of the flags (with `--jobs`: untouched; see `jobs`). */
  job: JobView;
  /** `--jobs`: each job that has started a round, by name. */
  jobs?: Record<string, JobView>;
  tasks: TaskView[];
  /** The state store: `ok: false` while its writes fail (since when, and the last error). */
  store: { ok: boolean; failingSince: string | null; error: string | null };
  counters: {
    offersReceived: number;
    offersAccepted: number;
    offersDeclined: number;
    tasksLaunched: number;
    tasksFinished: number;
    tasksFailed: number;
    roundsCompleted: number;
    reconnects: number;
    acknowledgements: number;
  };
}

export interface JobView {
  round: number;
  phase: Phase;
  roundStartedAt: string | null;
  tasksPerRound: number | null;
  cooldownUntil: string | null;
  cooldownSecondsLeft: number | null;
  lastRound: { round: number; finished: number; failed: number } | null;
}

export interface StateView {
  /** True while subscribed to a master (what `/health` reports). */
  isSubscribed(): boolean;
  /** The state store's health (`/health` reports 503 while its writes fail). */
  storeHealth(): StateViewSnapshot['store'];
  snapshot(): StateViewSnapshot;
  stop(): void;
}

/** Most tasks kept, as a guard should a round never be announced. */
const MAX_TASKS = 10_000;

export function createStateView(signals: Signals, options: { now?: () => number } = {}): StateView {
  const now = options.now ?? Date.now;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const s: StateViewSnapshot = {
    framework: {
      id: null,
      master: null,
      subscribed: false,
      subscribedAt: null,
      lastDisconnect: null,
      lastEvent: null,
      offersSuppressed: false,
      fatal: null,
    },
    job: { round: 0, phase: 'starting', roundStartedAt: null, tasksPerRound: null, cooldownUntil: null, cooldownSecondsLeft: null, lastRound: null },
    tasks: [],
    store: { ok: true, failingSince: null, error: null },
    counters: {
      offersReceived: 0,
      offersAccepted: 0,
      offersDeclined: 0,
      tasksLaunched: 0,
      tasksFinished: 0,
      tasksFailed: 0,
      roundsCompleted: 0,
      reconnects: 0,
      acknowledgements: 0,
    },
  };
  const tasks = new Map<string, TaskView>();
  let cooldownUntil: number | null = null;
  let lost = false;
  /** `--jobs`: each job's rounds (the signals' `job`), and its cooldown's end. */
  const jobs = new Map<string, { view: JobView; cooldownUntil: number | null }>();
  const jobOf = (name: string) => {
    let entry = jobs.get(name);
    if (entry === undefined) {
      entry = { view: { round: 0, phase: 'starting', roundStartedAt: null, tasksPerRound: null, cooldownUntil: null, cooldownSecondsLeft: null, lastRound: null }, cooldownUntil: null };
      jobs.set(name, entry);
    }
    return entry;
  };

  /** The task's entry, or undefined for a task of an earlier round. */
  const task = (taskId: string, round: number): TaskView | undefined => {
    if (jobs.size === 0 && round < s.job.round) return undefined;
    let entry = tasks.get(taskId);
    if (entry === undefined) {
      if (tasks.size >= MAX_TASKS) return undefined;
      entry = { taskId, round, state: 'TASK_STAGING', updatedAt: iso(now()) };
      tasks.set(taskId, entry);
    }
    return entry;
  };

  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    subscribed: ({ frameworkId, master }) => {
      if (lost) s.counters.reconnects++;
      lost = false;
      Object.assign(s.framework, { id: frameworkId, master, subscribed: true, subscribedAt: iso(now()) });
    },
    disconnected: ({ reason, message, retryInMs }) => {
      lost = true;
      s.framework.subscribed = false;
      s.framework.lastDisconnect = { reason, message, at: iso(now()), ...(retryInMs !== undefined ? { retryInMs } : {}) };
    },
    event: ({ type, at }) => {
      s.framework.lastEvent = { type, at: iso(at) };
    },
    frameworkRemoved: ({ message }) => {
      s.framework.subscribed = false;
      s.framework.fatal = `framework removed: ${message}`;
    },
    fatal: ({ message }) => {
      s.framework.subscribed = false;
      s.framework.fatal = message;
    },
    leaderChanged: ({ master }) => {
      s.framework.master = master;
    },
    suppressed: () => {
      s.framework.offersSuppressed = true;
    },
    revived: () => {
      s.framework.offersSuppressed = false;
    },
    offersReceived: ({ count }) => {
      s.counters.offersReceived += count;
    },
    offerAccepted: () => {
      s.counters.offersAccepted++;
    },
    offerDeclined: () => {
      s.counters.offersDeclined++;
    },
    roundStarted: ({ round, tasks: count, job, overlaps }) => {
      if (job !== undefined) {
        // The job's tasks of earlier rounds go, but for those of the rounds still
        // in flight (`concurrency: allow`); the other jobs' tasks stay.
        const entry = jobOf(job);
        const names = [...jobs.keys()];
        for (const [id, view] of tasks) if (jobOfTask(id, names) === job && overlaps?.includes(view.round) !== true) tasks.delete(id);
        entry.cooldownUntil = null;
        Object.assign(entry.view, { round, phase: 'round', roundStartedAt: iso(now()), tasksPerRound: count });
        return;
      }
      tasks.clear();
      cooldownUntil = null;
      Object.assign(s.job, { round, phase: 'round', roundStartedAt: iso(now()), tasksPerRound: count });
    },
    roundFinished: ({ round, finished, failed, job }) => {
      s.counters.roundsCompleted++;
      if (job !== undefined) {
        Object.assign(jobOf(job).view, { lastRound: { round, finished, failed }, phase: 'finished' });
        return;
      }
      s.job.lastRound = { round, finished, failed };
      s.job.phase = 'finished';
    },
    cooldown: ({ until, job }) => {
      if (job !== undefined) {
        const entry = jobOf(job);
        entry.cooldownUntil = until;
        entry.view.phase = 'cooldown';
        return;
      }
      cooldownUntil = until;
      s.job.phase = 'cooldown';
    },
    taskLaunched: ({ taskId, round, agentId }) => {
      s.counters.tasksLaunched++;
      const entry = task(taskId, round);
      if (entry === undefined) return;
      entry.agentId = agentId;
      entry.launchedAt = entry.updatedAt = iso(now());
    },
    taskState: ({ taskId, round, state, reason, message }) => {
      const entry = task(taskId, round);
      if (entry === undefined || entry.endedAt !== undefined) return;
      entry.state = state;
      entry.updatedAt = iso(now());
      if (reason !== undefined) entry.reason = reason;
      if (message !== undefined) entry.message = message;
    },
    taskEnded: ({ taskId, round, state, reason, ok }) => {
      if (ok) s.counters.tasksFinished++;
      else s.counters.tasksFailed++;
      const entry = task(taskId, round);
      if (entry === undefined) return;
      entry.state = state;
      entry.ok = ok;
      if (reason !== undefined) entry.reason = reason;
      entry.updatedAt = entry.endedAt = iso(now());
    },
    taskUnlaunched: ({ taskId, round, reason }) => {
      const entry = task(taskId, round);
      if (entry === undefined) return;
      entry.state = 'NOT_LAUNCHED';
      entry.reason = reason;
      entry.updatedAt = entry.endedAt = iso(now());
    },
    acknowledged: () => {
      s.counters.acknowledgements++;
    },
    storeHealth: ({ ok, failingSince, error }) => {
      s.store = { ok, failingSince: failingSince === undefined ? null : iso(failingSince), error: error ?? null };
    },
  };
  for (const [name, listener] of Object.entries(listeners)) signals.on(name as keyof SignalMap, listener as never);

  return {
    isSubscribed: () => s.framework.subscribed,
    storeHealth: () => ({ ...s.store }),
    snapshot() {
      const withCooldown = (view: JobView, until: number | null): JobView => ({
        ...view,
        cooldownUntil: until === null ? null : iso(until),
        cooldownSecondsLeft: view.phase === 'cooldown' && until !== null ? Math.max(0, Math.ceil((until - now()) / 1000)) : null,
      });
      return structuredClone({
        ...s,
        job: withCooldown(s.job, cooldownUntil),
        ...(jobs.size > 0 ? { jobs: Object.fromEntries([...jobs].map(([name, entry]) => [name, withCooldown(entry.view, entry.cooldownUntil)])) } : {}),
        tasks: [...tasks.values()],
      });
    },
    stop() {
      for (const [name, listener] of Object.entries(listeners)) signals.off(name as keyof SignalMap, listener as never);
    },
  };
}
