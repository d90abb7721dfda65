/**
 * What the runtime knows right now, for the status endpoint and progress
 * line: the subscription and the time of the last event from the master.
 */
export interface SchedulerStatus {
  master?: string;
  frameworkId?: string;
  subscribed: boolean;
  /** ms since epoch of the last event on the stream, and its type. */
  lastEventAt?: number;
  lastEventType?: string;
  round: number;
}

export function initialStatus(): SchedulerStatus {
  return { subscribed: false, round: 0 };
}
