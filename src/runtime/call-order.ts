/**
 * Which call waits for which write, and the queue that holds calls until then.
 *
 * | call                              | waits for                                                        |
 * |-----------------------------------|------------------------------------------------------------------|
 * | DECLINE                           | nothing: sent at once, inside the machine step that made it       |
 * | ACCEPT                            | its write-ahead: every state change persisted before it          |
 * | ACKNOWLEDGE of a terminal update  | the change recording the update (Mesos re-sends until ACKed)     |
 * | KILL, RECONCILE, TEARDOWN, others | every change persisted before it (they may name tasks whose ACCEPT still waits) |
 * | SUPPRESS, REVIVE                  | the ACCEPTs and SUPPRESS/REVIVE queued before it, if any (a REVIVE must clear the refuse filter of an ACCEPT made before it; REVIVE then SUPPRESS keep their order) |
 * | `independent` (ACK of a non-terminal update) | nothing: after the current machine step                |
 *
 * Calls that wait go out in the order they were made (one queue). A call
 * carries the subscription generation it was made under and goes out only
 * under that subscription (CallSender drops it otherwise). On the wire the
 * calls that went out are pipelined on one connection, so the master takes
 * them in that order (src/client/transport.ts); an ACCEPT goes on the wire
 * once every call before it has been answered (src/client/calls.ts).
 *
 * When a write-ahead fails (the store fails: disk full, read-only, I/O error,
 * ZooKeeper timeout), every ACCEPT waiting for it, and every ACCEPT made while
 * the store fails, is not sent: its offers are declined at once and the
 * framework actor hears `call.unsent`. The other waiting calls keep waiting
 * until the write is retried successfully; when the store fails for good they
 * are dropped.
 */
import type { Call } from '../mesos/types.js';

/**
 * What a call waits for:
 * - `nothing`: goes out at once;
 * - `step`: goes out after the current machine step (a microtask);
 * - `writes`: every state change queued before it is on disk;
 * - `accepts`: the ACCEPTs and SUPPRESS/REVIVE queued before it have gone out.
 */
export type CallWait = 'nothing' | 'step' | 'writes' | 'accepts';

/** The rule of the table above. `independent`: the machines say the call depends on no write. */
export function callWaitsFor(call: Call, independent: boolean): CallWait {
  switch (call.type) {
    case 'DECLINE':
      return 'nothing';
    case 'ACCEPT':
      return 'writes';
    case 'SUPPRESS':
    case 'REVIVE':
      return 'accepts';
    default:
      return independent ? 'step' : 'writes';
  }
}

/** The DECLINE that answers the offers of an ACCEPT that is not sent. */
export function declineInsteadOf(accept: Call): Call {
  return { type: 'DECLINE', decline: { offer_ids: accept.accept?.offer_ids ?? [] } };
}

/** What the queue needs from the state writer (src/runtime/state-writer.ts). */
export interface WriteProgress {
  readonly lastQueued: number;
  readonly lastDurable: number;
  readonly failing: boolean;
  /** The store failed for good: nothing more will be written. */
  readonly fatalError: unknown;
  hurry(): void;
}

export interface CallQueueDeps {
  writes: WriteProgress;
  /** Sends a call made under subscription `generation`. */
  dispatch(call: Call, generation: number | undefined): void;
  /** An ACCEPT that will not be sent (its offers were declined): tell the framework actor. */
  unsent(call: Call, reason: string): void;
  /** A call dropped because the store failed for good (not an ACCEPT). */
  dropped(call: Call, reason: string): void;
}

const WRITE_AHEAD_FAILED = 'its write-ahead could not be saved';

interface Queued {
  call: Call;
  generation: number | undefined;
  wait: CallWait;
  /** The last state change persisted before the call was made. */
  afterSeq: number;
}

/** The calls waiting for writes (and for ACCEPTs), in the order made. */
export class CallQueue {
  private readonly deps: CallQueueDeps;
  private queue: Queued[] = [];
  private accepts = 0;
  private interest = 0;
  private idle: (() => void)[] = [];

  constructor(deps: CallQueueDeps) {
    this.deps = deps;
  }

  /** Calls waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** A call made now, under subscription `generation`. */
  submit(call: Call, independent: boolean, generation: number | undefined): void {
    let wait = callWaitsFor(call, independent);
    if (wait === 'accepts' && this.accepts === 0 && this.interest === 0) wait = 'step';
    if (wait === 'nothing') return this.deps.dispatch(call, generation);
    if (wait === 'step') {
      queueMicrotask(() => this.deps.dispatch(call, generation));
      return;
    }
    if (call.type === 'ACCEPT' && this.deps.writes.failing) {
      this.notSent(call, generation, WRITE_AHEAD_FAILED);
      return;
    }
    this.queue.push({ call, generation, wait, afterSeq: this.deps.writes.lastQueued });
    if (call.type === 'ACCEPT') {
      this.accepts++;
      this.deps.writes.hurry();
    }
    if (wait === 'accepts') this.interest++;
    // As the calls that skip the queue: after the machine's current step.
    queueMicrotask(() => this.pump());
  }

  /** Sends what no longer waits (call when a write reached the disk). */
  pump(): void {
    const { writes } = this.deps;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.wait === 'writes' && head.afterSeq > writes.lastDurable) {
        if (writes.fatalError !== undefined) this.dropAll(writes.fatalError);
        break;
      }
      this.queue.shift();
      if (head.call.type === 'ACCEPT') this.accepts--;
      if (head.wait === 'accepts') this.interest--;
      this.deps.dispatch(head.call, head.generation);
    }
    if (this.queue.length === 0) this.notifyIdle();
  }

  /** A write failed: the ACCEPTs waiting for it are not sent, their offers declined. */
  writeFailed(): void {
    const { writes } = this.deps;
    if (writes.fatalError !== undefined) return this.dropAll(writes.fatalError);
    const kept: Queued[] = [];
    for (const q of this.queue) {
      if (q.call.type === 'ACCEPT' && q.afterSeq > writes.lastDurable) {
        this.accepts--;
        this.notSent(q.call, q.generation, WRITE_AHEAD_FAILED);
      } else kept.push(q);
    }
    this.queue = kept;
    this.pump();
  }

  /** Resolves when no call waits. */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private notSent(call: Call, generation: number | undefined, reason: string): void {
    this.deps.dispatch(declineInsteadOf(call), generation);
    this.deps.unsent(call, reason);
  }

  private dropAll(err: unknown): void {
    const reason = `the state store failed: ${err instanceof Error ? err.message : String(err)}`;
    const queue = this.queue;
    this.queue = [];
    this.accepts = 0;
    this.interest = 0;
    for (const q of queue) {
      if (q.call.type === 'ACCEPT') this.notSent(q.call, q.generation, reason);
      else this.deps.dropped(q.call, reason);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const idle = this.idle;
    this.idle = [];
    for (const f of idle) f();
  }
}
