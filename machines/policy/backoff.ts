/**
 * Reconnect backoff policy (pure).
 *
 * delay(attempt) = min(maxMs, initialMs × factor^attempt) × (1 − jitter × r)
 *
 * - `attempt` counts failed attempts since the last successful SUBSCRIBED,
 *   starting at 0 (the first retry waits about `initialMs`).
 * - `r` is uniform in [0, 1) from the machine's own PRNG (machines/policy/prng.ts),
 *   so the delay lies in (base × (1 − jitter), base] and never exceeds `maxMs`.
 *   Jitter spreads reconnects of many schedulers after a master failover.
 * - Defaults (machines/policy/timing.ts): 500 ms, ×2, capped at 15 s (the cap the
 *   Mesos HA guide suggests), jitter 0.2.
 */
import { nextRandom } from './prng.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay that may be taken away at random, 0..1. */
  jitter: number;
}

/** The un-jittered delay of an attempt: exponential growth, capped. */
export function baseDelayMs(attempt: number, policy: BackoffPolicy): number {
  const grown = policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt));
  return Math.min(policy.maxMs, Number.isFinite(grown) ? grown : policy.maxMs);
}

/** The delay of an attempt given a random draw r in [0, 1). Whole milliseconds. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, r: number): number {
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(baseDelayMs(attempt, policy) * (1 - jitter * r)));
}

/** Draws from the PRNG state and returns the delay and the next PRNG state. */
export function nextBackoff(attempt: number, policy: BackoffPolicy, rngState: number): { delayMs: number; rngState: number } {
  const draw = nextRandom(rngState);
  return { delayMs: backoffDelayMs(attempt, policy, draw.value), rngState: draw.state };
}

/** Truncated exponential backoff without jitter (explicit reconciliation retries). */
export function truncatedExponentialMs(attempt: number, initialMs: number, maxMs: number): number {
  return baseDelayMs(attempt, { initialMs, maxMs, factor: 2, jitter: 0 });
}
