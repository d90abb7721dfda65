/**
 * Where the scheduler keeps what it must not forget across its own restart:
 * the framework id, the round and the tasks in flight (machines/contract.ts
 * PersistedState), and the cluster they belong to. The journal in a local
 * state file (src/state/state-file.ts) and sharded ZooKeeper nodes
 * (src/zk/state-store.ts) implement it.
 */
import type { PersistedState } from '../../machines/contract.js';
import type { StateChange } from './journal-records.js';

export type { StateChange };

/** The state as stored, and the cluster it was written for (unset in states written before clusters were recorded). */
export interface StoredState {
  state: PersistedState;
  cluster?: string;
}

export interface StateStore {
  readonly description: string;
  /**
   * The stored state, or undefined when there is none yet. A corrupt state, or
   * one that belongs to another framework name, rejects with a StateStoreError:
   * never silently overwritten.
   */
  load(expectedFrameworkName: string): Promise<StoredState | undefined>;
  /**
   * Records `changes`, in order, as one durable write, and resolves when it is
   * on disk (or in ZooKeeper): one attempt, no retry. Rejects with a
   * StateStoreError; after STATE_IO the store is as before the call and the
   * same changes (with more after them) may be committed again. Commits must
   * not overlap: call the next once the last has settled.
   */
  commit(changes: readonly StateChange[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * STATE_CORRUPT: unreadable or invalid state (left untouched);
 * STATE_FOREIGN: state of another framework name (left untouched);
 * STATE_OTHER_CLUSTER: state of the same framework name on another cluster (left untouched);
 * STATE_IO: the file system or ZooKeeper failed, or did not answer in time
 * (temporary: the write may be retried);
 * STATE_STALE: another instance took over the state (HA: this one no longer
 * leads) — stop acting, do not retry the write.
 */
export class StateStoreError extends Error {
  readonly code: 'STATE_CORRUPT' | 'STATE_FOREIGN' | 'STATE_OTHER_CLUSTER' | 'STATE_IO' | 'STATE_STALE';
  constructor(code: StateStoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateStoreError';
    this.code = code;
  }
}

/** True for a failure a later attempt may not see (STATE_IO). */
export function isTemporaryStoreError(err: unknown): boolean {
  return !(err instanceof StateStoreError) || err.code === 'STATE_IO';
}
