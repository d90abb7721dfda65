/**
 * Gets every persisted change into the state store, in order, however long
 * it takes: group commit, retry with backoff, and the store's health.
 *
 * - Group commit: changes queued while a commit is on its way go together in
 *   the next one. A commit starts from setImmediate (after the events already
 *   read, so a burst of updates costs one write), or at once after `hurry()`
 *   (an ACCEPT waits for it: holding an offer costs more than one more write).
 * - A commit that fails with a temporary error (STATE_IO: disk full, read-only
 *   file system, I/O error, ZooKeeper not answering within --state-timeout) is
 *   retried with backoff (100 ms doubling to 5 s), with the changes queued
 *   meanwhile. The first failure of an episode is logged as an error, the
 *   recovery once; `health` says failing in between; `onFailure` listeners
 *   hear of every failed attempt (the call pipeline declines the offers of the
 *   ACCEPTs waiting for it).
 * - Any other error (STATE_STALE: another leader took over; STATE_CORRUPT,
 *   STATE_FOREIGN) is final: nothing is written any more and whatever waits
 *   for a write is told so (`durable()` rejects).
 */
import type { Logger } from 'pino';
import { isTemporaryStoreError, StateStoreError, type StateChange, type StateStore } from '../state/store.js';

/** What /health says about the state store. */
export interface StoreHealth {
  ok: boolean;
  /** Since when it fails (ms since epoch), and the last error. */
  failingSince?: number;
  error?: string;
}

export interface StateWriterOptions {
  log: Logger;
  now?: () => number;
  /** Retry backoff: first delay and cap (ms). Default 100 and 5000. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Called whenever the health changes. */
  onHealth?: (health: StoreHealth) => void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class StateWriter {
  private readonly store: StateStore;
  private readonly options: StateWriterOptions;
  /** Changes not yet committed, the oldest first; `pending[i]` has sequence number `committedSeq + 1 + i`. */
  private pending: StateChange[] = [];
  /** Sequence number of the last change queued, and of the last one on disk. */
  private queuedSeq = 0;
  private committedSeq = 0;
  private running = false;
  private scheduled: 'immediate' | 'now' | 'retry' | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private waiters: Waiter[] = [];
  private failure: unknown;
  private fatal: unknown;
  private readonly failureListeners = new Set<(err: unknown) => void>();
  private readonly durableListeners = new Set<(seq: number) => void>();
  private closing = false;
  health: StoreHealth = { ok: true };

  constructor(store: StateStore, options: StateWriterOptions) {
    this.store = store;
    this.options = options;
    this.retryDelay = options.retryInitialMs ?? 100;
  }

  get description(): string {
    return this.store.description;
  }

  /** The sequence number of the last change queued (a call made now waits for it). */
  get lastQueued(): number {
    return this.queuedSeq;
  }

  /** The sequence number of the last change on disk. */
  get lastDurable(): number {
    return this.committedSeq;
  }

  /** True while the last attempt failed (or the store failed for good). */
  get failing(): boolean {
    return this.failure !== undefined || this.fatal !== undefined;
  }

  /** The final error, once the store failed for good. */
  get fatalError(): unknown {
    return this.fatal;
  }

  /** Queues a change; returns its sequence number. */
  write(change: StateChange): number {
    this.queuedSeq++;
    if (this.fatal !== undefined) return this.queuedSeq;
    this.pending.push(change);
    this.schedule('immediate');
    return this.queuedSeq;
  }

  /** Starts the commit of what is queued without waiting for setImmediate (something is held for it). */
  hurry(): void {
    if (this.scheduled === 'immediate') this.schedule('now');
  }

  /** Resolves when change `seq` is on disk; rejects when the store failed for good. */
  durable(seq: number): Promise<void> {
    if (seq <= this.committedSeq) return Promise.resolve();
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Listens to failed attempts (temporary and final); returns a remover. */
  onFailure(listener: (err: unknown) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Listens to changes reaching the disk (the highest sequence number on disk); returns a remover. */
  onDurable(listener: (seq: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  /**
   * Waits until everything queued is on disk. While the store fails, makes one
   * more attempt at once and then gives up (the error is logged and rethrown):
   * for shutdown, which must not wait forever.
   */
  async flush(): Promise<void> {
    this.closing = true;
    if (this.fatal !== undefined) throw this.fatal;
    if (this.queuedSeq === this.committedSeq && !this.running) return;
    if (this.failure !== undefined) this.schedule('now');
    await this.durable(this.queuedSeq);
  }

  private schedule(how: 'immediate' | 'now' | 'retry'): void {
    if (this.running) return; // the running commit continues with what is queued
    if (this.scheduled === 'retry' && how !== 'now') return;
    if (this.scheduled === how || (this.scheduled === 'now' && how === 'immediate')) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.scheduled = how;
    const go = (): void => {
      if (this.scheduled !== how) return;
      this.scheduled = undefined;
      void this.run();
    };
    if (how === 'now') queueMicrotask(go);
    else if (how === 'immediate') setImmediate(go);
    else this.retryTimer = setTimeout(go, this.retryDelay);
  }

  private async run(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    this.running = true;
    let error: { err: unknown } | undefined;
    try {
      while (this.pending.length > 0 && this.fatal === undefined) {
        const batch = this.pending;
        this.pending = [];
        const upTo = this.committedSeq + batch.length;
        try {
          await this.store.commit(batch);
        } catch (err) {
          // Retried with what was queued meanwhile (unless the failure is final).
          this.pending = batch.concat(this.pending);
          error = { err };
          break;
        }
        this.committedSeq = upTo;
        this.recovered();
        this.settle();
      }
    } finally {
      this.running = false;
    }
    if (error) this.failed(error.err);
    else if (this.pending.length > 0 && this.fatal === undefined) this.schedule('immediate');
  }

  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!isTemporaryStoreError(err)) {
      this.fatal = err instanceof StateStoreError ? err : new StateStoreError('STATE_IO', message, { cause: err });
      this.pending = [];
      this.options.log.error({ err, store: this.store.description }, `saving state to ${this.store.description} failed for good: ${message}`);
      this.setHealth({ ok: false, failingSince: this.health.failingSince ?? this.now(), error: message });
      for (const l of [...this.failureListeners]) l(this.fatal);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(this.fatal);
      return;
    }
    const first = this.failure === undefined;
    this.failure = err;
    if (first) {
      this.options.log.error({ err, store: this.store.description },
        `saving state to ${this.store.description} failed: ${message}; offers are declined and nothing is launched or acknowledged until it works again (retrying)`);
      this.retryDelay = this.options.retryInitialMs ?? 100;
      this.setHealth({ ok: false, failingSince: this.now(), error: message });
    } else {
      this.options.log.debug({ err }, `saving state failed again: ${message}`);
      if (this.health.error !== message) this.setHealth({ ...this.health, error: message });
    }
    for (const l of [...this.failureListeners]) l(err);
    if (this.closing && !first) {
      // Shutting down: one attempt after the failure, then give up.
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(err);
      return;
    }
    this.schedule(this.closing ? 'now' : 'retry');
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.retryMaxMs ?? 5000);
  }

  private recovered(): void {
    if (this.failure === undefined) return;
    const since = this.health.failingSince;
    this.failure = undefined;
    this.options.log.info({ store: this.store.description, failedForMs: since !== undefined ? this.now() - since : undefined },
      `saving state to ${this.store.description} works again`);
    this.setHealth({ ok: true });
  }

  private settle(): void {
    const seq = this.committedSeq;
    const still: Waiter[] = [];
    const done: Waiter[] = [];
    for (const w of this.waiters) (w.seq <= seq ? done : still).push(w);
    this.waiters = still;
    for (const w of done) w.resolve();
    for (const l of [...this.durableListeners]) l(seq);
  }

  private setHealth(health: StoreHealth): void {
    this.health = health;
    this.options.onHealth?.(health);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
