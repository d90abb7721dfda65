import type { StoreHealth } from './state-writer.js';

/**
 * What the runtime knows right now, for the status endpoint and progress
 * line: the subscription, the time of the last event from the master and
 * whether the state store works.
 */
export interface SchedulerStatus {
  master?: string;
  frameworkId?: string;
  subscribed: boolean;
  /** ms since epoch of the last event on the stream, and its type. */
  lastEventAt?: number;
  lastEventType?: string;
  round: number;
  /** Unset until the first write; `ok: false` while writes fail. */
  store?: StoreHealth;
}

export function initialStatus(): SchedulerStatus {
  return { subscribed: false, round: 0 };
}
