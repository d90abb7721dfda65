/**
 * Where the run history is kept, beside the framework's state: a small file
 * next to the state file, or with `--ha` a ZooKeeper node under the HA path.
 * It is apart from the state so that resetting the job's state (a `--rounds`
 * job that completed) keeps it.
 */
import type { HistoryDocument } from './run-record.js';

export interface HistoryStore {
  readonly description: string;
  /** The stored history, undefined when there is none. Rejects with HistoryFormatError when unreadable (never overwritten then). */
  load(): Promise<HistoryDocument | undefined>;
  /** Replaces the stored history atomically. */
  save(doc: HistoryDocument): Promise<void>;
  close(): Promise<void>;
}

/**
 * HISTORY_IO: the file system or ZooKeeper failed (the next save tries again);
 * HISTORY_STALE: another instance leads now (HA): this one must not write.
 */
export class HistoryStoreError extends Error {
  readonly code: 'HISTORY_IO' | 'HISTORY_STALE';
  constructor(code: HistoryStoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistoryStoreError';
    this.code = code;
  }
}
