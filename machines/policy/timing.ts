/**
 * Default timing policy of the machines (contract Timing). Every value can be
 * overridden through FrameworkInput.timing.
 */
import type { Timing } from '../contract.js';

export const DEFAULT_TIMING: Readonly<Timing> = Object.freeze({
  /** Reconnect: 500 ms, doubling, capped at 15 s, up to 20 % shorter at random. */
  backoffInitialMs: 500,
  backoffMaxMs: 15_000,
  backoffFactor: 2,
  backoffJitter: 0.2,
  /** Mesos heartbeats every 15 s; 5 missed (75 s of silence) = dead stream (HA guide). */
  missedHeartbeats: 5,
  /** Explicit reconciliation retries: 2 s doubling up to 2 min. */
  reconcileInitialMs: 2_000,
  reconcileMaxMs: 120_000,
  /** Implicit reconciliation every 10 minutes while subscribed (finds forgotten tasks). */
  implicitReconcileMs: 600_000,
  /** REVIVE again after 30 s without offers while tasks are wanted (REVIVE can be lost). */
  reviveRepeatMs: 30_000,
  /** Declined offers come back after 5 s while tasks are wanted, after an hour when idle. */
  declineWantedSeconds: 5,
  declineIdleSeconds: 3_600,
  /** After KILLs on stop: wait at most this long for the tasks to end. */
  killWaitMs: 30_000,
  /** When the job ends while disconnected: wait at most this long to resubscribe for TEARDOWN. */
  teardownWaitMs: 30_000,
  /** The job sweeps every minute: a task not heard of 1–2 minutes after its ACCEPT is reconciled (HA guide: launches can be lost). */
  launchTimeoutMs: 60_000,
});

/** Heartbeat interval assumed until SUBSCRIBED says otherwise (Mesos' fixed value). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;

export function resolveTiming(partial: Partial<Timing> | undefined): Timing {
  const timing: Timing = { ...DEFAULT_TIMING };
  for (const [key, value] of Object.entries(partial ?? {}) as [keyof Timing, number | undefined][]) {
    if (typeof value === 'number' && Number.isFinite(value)) timing[key] = value;
  }
  return timing;
}
