/**
 * Keeps the stored history up to date with the RunHistory, off the
 * scheduler's path: changes only mark the history dirty; one write at a time
 * takes the newest history. A round starting or finishing is written at once;
 * task counts changing within a round at most every `intervalMs`. A failed
 * write is logged and retried with the next change; once the store says
 * another instance leads (HISTORY_STALE), nothing more is written.
 */
import type { Logger } from 'pino';
import { HistoryStoreError, type HistoryStore } from './history-store.js';
import type { RunHistory } from './run-history.js';

export interface HistoryWriterOptions {
  /** Least time between two writes for task-count changes; default 1000 ms. */
  intervalMs?: number;
}

export class HistoryWriter {
  private readonly intervalMs: number;
  private dirty = false;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly store: HistoryStore, private readonly history: RunHistory, private readonly log: Logger, options: HistoryWriterOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.unsubscribe = history.onChange((change) => {
      if (change.kind !== 'run') return;
      this.dirty = true;
      if (change.what === 'updated') this.schedule();
      else this.kick();
    });
  }

  /** Writes what changed and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing || (this.dirty && !this.stopped)) {
      if (!this.writing) this.kick();
      await this.writing;
    }
  }

  /** Writes what changed, then stops writing. */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.flush();
    this.stopped = true;
    await this.store.close();
  }

  private schedule(): void {
    if (this.timer || this.writing) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, wait);
    this.timer.unref();
  }

  private kick(): void {
    if (this.writing || this.stopped || !this.dirty) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    const doc = this.history.toDocument();
    this.writing = this.store.save(doc).then(
      () => {
        this.lastWrite = Date.now();
      },
      (err: unknown) => {
        if (err instanceof HistoryStoreError && err.code === 'HISTORY_STALE') {
          this.stopped = true;
          this.log.warn(`run history not written: ${err.message}`);
        } else {
          this.log.warn({ err }, `run history not written: ${(err as Error).message}`);
        }
      },
    ).finally(() => {
      this.writing = undefined;
      if (this.dirty && !this.stopped) this.schedule();
    });
  }
}
