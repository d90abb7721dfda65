/**
 * Task retries of a job (pure): what happens to a task that has ended, and
 * how long a relaunch waits.
 *
 * - TASK_FINISHED is a success; nothing is relaunched.
 * - A task we ended ourselves (stop, grace, `/kill`, removal of its job) is
 *   never retried, and does not count as a success either.
 * - A task that never reached the master (its ACCEPT was not sent, or was
 *   answered with a non-2xx status; reconciliation then finds the master does
 *   not know it) is launched again at once under a new task id, without
 *   spending a retry, with or without a retry policy. An ACCEPT whose answer
 *   was lost counts as reached. The caller tells which case it is.
 * - Any other end (TASK_FAILED, TASK_LOST of a task the master saw, ...) is a
 *   failure: relaunched under a new task id while the task has retries left,
 *   else the task has failed and with it its round.
 *
 * Delay of retry n (n = retries already spent, 0 for the first):
 * min(backoff-max, backoff × 2^n), made up to RETRY_JITTER shorter at random
 * (machines/policy/backoff.ts, with the machine's own PRNG from prng.ts).
 */
import { nextBackoff, type BackoffPolicy } from './backoff.js';
import { isSuccessState } from './task-status.js';

export interface RetryPolicy {
  /** Relaunches per task at most. */
  max: number;
  /** Delay before the first relaunch. */
  backoffMs: number;
  /** The delay doubles up to this. */
  backoffMaxMs: number;
}

/** Defaults of the fields a `retries` entry leaves out. */
export const DEFAULT_RETRY_BACKOFF_MS = 10_000;
export const DEFAULT_RETRY_BACKOFF_MAX_MS = 600_000;
/** Fraction of a retry delay that may be taken away at random. */
export const RETRY_JITTER = 0.2;

export interface TaskEnd {
  /** The task's terminal Mesos state (TASK_FINISHED, TASK_FAILED, TASK_LOST, ...). */
  state: string;
  /** We killed it: our own stop, grace, `/kill`, or the removal of its job. */
  killedByUs: boolean;
  /** False when its ACCEPT was never sent or was answered with a non-2xx status. */
  reachedMaster: boolean;
  /** Retries this task (the chain of its relaunches) has spent so far. */
  retriesSpent: number;
}

export type TaskEndDecision =
  | { outcome: 'finished' }
  | { outcome: 'stopped' }
  | { outcome: 'relaunch'; spendsRetry: boolean; delayMs: number; rngState: number }
  | { outcome: 'failed' };

export function retryBackoff(policy: RetryPolicy): BackoffPolicy {
  return { initialMs: policy.backoffMs, maxMs: Math.max(policy.backoffMs, policy.backoffMaxMs), factor: 2, jitter: RETRY_JITTER };
}

/** Delay of the relaunch after `retriesSpent` retries, with a draw from the PRNG state. */
export function retryDelay(retriesSpent: number, policy: RetryPolicy, rngState: number): { delayMs: number; rngState: number } {
  return nextBackoff(retriesSpent, retryBackoff(policy), rngState);
}

/** What to do with a task that has ended. `policy` is the job's `retries` (undefined: none). */
export function decideTaskEnd(end: TaskEnd, policy: RetryPolicy | undefined, rngState: number): TaskEndDecision {
  if (isSuccessState(end.state)) return { outcome: 'finished' };
  if (end.killedByUs) return { outcome: 'stopped' };
  if (!end.reachedMaster) return { outcome: 'relaunch', spendsRetry: false, delayMs: 0, rngState };
  if (policy === undefined || end.retriesSpent >= policy.max) return { outcome: 'failed' };
  const { delayMs, rngState: next } = retryDelay(end.retriesSpent, policy, rngState);
  return { outcome: 'relaunch', spendsRetry: true, delayMs, rngState: next };
}
