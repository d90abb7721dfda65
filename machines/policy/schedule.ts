/**
 * When a scheduled job starts its rounds (pure; every time comes in as an
 * argument, in ms since the epoch).
 *
 * - `every`: starts lie on a grid `anchorMs + k × everyMs` (k = 0, 1, ...),
 *   where `anchorMs` is the job's first start (the caller keeps it, so a
 *   restarted scheduler stays on the same grid).
 * - `cron`: a five-field cron expression read in an IANA time zone. croner
 *   is used as a calculator only (no timers: it is never given a function).
 *   Daylight saving is croner's rule for fixed-time jobs, which is Vixie
 *   cron's: a time that falls into the spring-forward gap runs at the first
 *   valid time after it (once), a time that occurs twice at the fall-back
 *   runs once (at its first occurrence). Interval patterns (`*`, `/` in the
 *   minute or hour) keep real elapsed time: they skip what does not exist and
 *   run on both occurrences of a repeated hour.
 * - `concurrency`: `forbid` skips a start that comes while the job's last
 *   round still runs (the caller logs and counts it), `allow` starts a new
 *   round at once, alongside the running ones (Chronos's and Metronome's
 *   ALLOW), up to `maxInFlight` rounds at a time (default
 *   DEFAULT_MAX_IN_FLIGHT): a start beyond it is skipped like a forbidden one.
 * - Catch-up: a start missed while the scheduler was down runs once at
 *   startup only if it is younger than `startingDeadlineMs`; without a
 *   deadline nothing is caught up.
 * - Long waits: Node's timers hold at most 2^31 − 1 ms (about 24.8 days); a
 *   longer delay fires at once. `timerChunk` splits a wait into pieces a timer
 *   (and xstate's `after`) can hold; the caller waits piece after piece.
 */
import { Cron } from 'croner';

export type Concurrency = 'forbid' | 'allow';

interface ScheduleCommon {
  /** Default `forbid`. */
  concurrency: Concurrency;
  /** How old a start missed while down may be and still run at startup; unset: never. */
  startingDeadlineMs?: number;
  /** `allow`: the most rounds in flight at once (`max-in-flight`); unset: DEFAULT_MAX_IN_FLIGHT. */
  maxInFlight?: number;
}

/**
 * `concurrency: allow`: rounds of one job in flight at once unless the file
 * says otherwise, so that a job whose rounds never end cannot pile up rounds
 * (and tasks) without limit.
 */
export const DEFAULT_MAX_IN_FLIGHT = 10;

export type JobSchedule =
  | (ScheduleCommon & { kind: 'every'; everyMs: number })
  | (ScheduleCommon & { kind: 'cron'; cron: string; timezone: string });

/** The longest delay a Node timer holds: 2^31 − 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The default time zone of a cron schedule. */
export const DEFAULT_TIMEZONE = 'UTC';

/**
 * A parsed cron expression (throws croner's error on a bad one). Five fields:
 * minute, hour, day of month, month, day of week; nicknames like `@daily` too.
 */
export function cronOf(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, mode: '5-part' });
}

/** The first start strictly after `afterMs`, or null when there is none (a cron that never fires again). */
export function nextStartAfter(schedule: JobSchedule, afterMs: number, anchorMs: number): number | null {
  if (schedule.kind === 'every') {
    if (afterMs < anchorMs) return anchorMs;
    return anchorMs + (Math.floor((afterMs - anchorMs) / schedule.everyMs) + 1) * schedule.everyMs;
  }
  const next = cronOf(schedule.cron, schedule.timezone).nextRun(new Date(afterMs));
  return next === null ? null : next.getTime();
}

/** The last start at or before `atMs`, or null when there is none. */
export function lastStartAtOrBefore(schedule: JobSchedule, atMs: number, anchorMs: number): number | null {
  if (schedule.kind === 'every') {
    if (atMs < anchorMs) return null;
    return anchorMs + Math.floor((atMs - anchorMs) / schedule.everyMs) * schedule.everyMs;
  }
  // croner's previousRuns looks strictly before its reference; +1 ms makes `atMs` itself count.
  const [previous] = cronOf(schedule.cron, schedule.timezone).previousRuns(1, new Date(atMs + 1));
  return previous === undefined ? null : previous.getTime();
}

export interface CatchUp {
  /** The newest start that was due in (lastStartMs, nowMs] and did not happen. */
  missedAt: number | null;
  /** Whether that start runs now (it is younger than the starting deadline). */
  runNow: boolean;
  /** The next regular start after now. */
  nextAt: number | null;
}

/**
 * At startup: was a start missed while the scheduler was down, does it run
 * now, and when is the next regular one. `lastStartMs` is the last start the
 * job made (or skipped), as persisted; undefined for a job that never started.
 */
export function catchUp(schedule: JobSchedule, lastStartMs: number | undefined, nowMs: number, anchorMs: number): CatchUp {
  const nextAt = nextStartAfter(schedule, nowMs, anchorMs);
  const latest = lastStartAtOrBefore(schedule, nowMs, anchorMs);
  const missedAt = latest !== null && lastStartMs !== undefined && latest > lastStartMs ? latest : null;
  const deadline = schedule.startingDeadlineMs;
  const runNow = missedAt !== null && deadline !== undefined && nowMs - missedAt <= deadline;
  return { missedAt, runNow, nextAt };
}

export type StartDecision =
  | { start: true; overlap: boolean }
  | { start: false; reason: 'round-running' | 'max-in-flight' };

/**
 * Whether a due start goes ahead, given the rounds of the job in flight: with
 * none it starts; `forbid` skips it; `allow` starts an overlapping round while
 * fewer than `maxInFlight` (default DEFAULT_MAX_IN_FLIGHT) run.
 */
export function decideStart(concurrency: Concurrency, inFlight: number, maxInFlight = DEFAULT_MAX_IN_FLIGHT): StartDecision {
  if (inFlight === 0) return { start: true, overlap: false };
  if (concurrency === 'forbid') return { start: false, reason: 'round-running' };
  if (inFlight >= maxInFlight) return { start: false, reason: 'max-in-flight' };
  return { start: true, overlap: true };
}

/**
 * The next piece of a wait of `remainingMs`: at most MAX_TIMER_MS, never
 * negative. After it fires, wait `remainingMs - waitMs` more (0: due).
 */
export function timerChunk(remainingMs: number): { waitMs: number; remainingMs: number } {
  const total = Math.max(0, remainingMs);
  const waitMs = Math.min(total, MAX_TIMER_MS);
  return { waitMs, remainingMs: total - waitMs };
}
