/**
 * Domain signals the runtime emits as the scheduler works. Metrics, the status
 * endpoint, live progress and tests listen here instead of reaching into the
 * machines. Emitting is synchronous and cheap; listeners must not throw.
 */
import { EventEmitter } from 'node:events';
import type { StoreHealth } from './state-writer.js';

export interface SignalMap {
  /** A new subscription was established (first or after failover). */
  subscribed: [{ frameworkId: string; master: string; resubscribe: boolean; reconnectMs?: number }];
  /** The connection to the master was lost; `reason` is an error code. */
  disconnected: [{ reason: string; message: string; retryInMs?: number }];
  /** The leading master changed (redirect or detection). */
  leaderChanged: [{ master: string }];
  offersReceived: [{ count: number }];
  /** `heldMs`: from the OFFERS event's arrival to the ACCEPT/DECLINE call going out. */
  offerAccepted: [{ offerId: string; heldMs: number; tasks: number }];
  offerDeclined: [{ offerId: string; heldMs: number }];
  offerRescinded: [{ offerId: string }];
  taskLaunched: [{ taskId: string; round: number; agentId: string }];
  taskState: [{ taskId: string; round: number; state: string; reason?: string; source?: string; message?: string }];
  taskEnded: [{ taskId: string; round: number; state: string; reason?: string; ok: boolean; message?: string }];
  /** The task's ACCEPT never reached the master: it ran nowhere, and another is launched in its place. */
  taskUnlaunched: [{ taskId: string; round: number; reason: string }];
  acknowledged: [{ taskId: string; state: string }];
  /**
   * `job`: set in a `--jobs` run (each job has its own rounds). `overlaps`
   * (`concurrency: allow`): the job's rounds still in flight that this one runs alongside.
   */
  roundStarted: [{ round: number; tasks: number; job?: string; overlaps?: number[] }];
  /** `killed`: ended by us (POST kill, or a stop's or removal's kill), not a success. */
  roundFinished: [{ round: number; finished: number; failed: number; job?: string; killed?: true }];
  cooldown: [{ round: number; until: number; job?: string }];
  /** `--jobs` with `retries`: a failed task is relaunched under a new id. */
  taskRetry: [{ taskId: string; round: number; state: string }];
  /**
   * `--jobs`: a scheduled start skipped because the job's last round still ran
   * (concurrency forbid: reason `round-running`), or `max-in-flight` rounds ran (allow).
   */
  startSkipped: [{ job: string; reason: 'round-running' | 'max-in-flight' }];
  /** `--jobs`: a job removed from the file (reload or a changed file at takeover) has no tasks left and is forgotten. */
  jobRemoved: [{ job: string }];
  /**
   * The jobs changed (job-catalogue.ts): a reload added or changed these, or a
   * removed job was forgotten. The catalogue has the new list when this comes.
   */
  jobsChanged: [{ added: string[]; changed: string[]; removed: string[] }];
  suppressed: [];
  revived: [];
  reconcile: [{ tasks: number; attempt: number; implicit: boolean }];
  unknownTask: [{ taskId: string; state: string }];
  frameworkRemoved: [{ frameworkId: string; message: string }];
  fatal: [{ message: string }];
  /** --ha: this instance was elected leader (true) or lost leadership (false); `ha` is the election's redacted URL. */
  leadership: [{ leader: boolean; ha: string; message?: string }];
  /** The state store started failing (`ok: false`) or works again. */
  storeHealth: [StoreHealth];
  /** Every event from the master (type as on the wire, e.g. HEARTBEAT) and when it arrived. */
  event: [{ type: string; at: number }];
}

export class Signals extends EventEmitter<SignalMap> {}
