/**
 * Where the scheduler keeps what it must not forget across its own restart:
 * the framework id, the round and the tasks in flight (machines/contract.ts
 * PersistedState). A local state file and a ZooKeeper node implement it.
 */
import type { PersistedState } from '../../machines/contract.js';

export interface StateStore {
  readonly description: string;
  /**
   * The stored state, or undefined when there is none yet. A corrupt state, or
   * one that belongs to another framework name, rejects with a StateStoreError:
   * never silently overwritten.
   */
  load(expectedFrameworkName: string): Promise<PersistedState | undefined>;
  /** Writes atomically; writes are applied in call order. */
  save(state: PersistedState): Promise<void>;
  /** Waits for pending writes. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * STATE_CORRUPT: unreadable or invalid state (left untouched);
 * STATE_FOREIGN: state of another framework name (left untouched);
 * STATE_IO: the file system or ZooKeeper failed;
 * STATE_STALE: another instance took over the state (HA: this one no longer
 * leads) — stop acting, do not retry the write.
 */
export class StateStoreError extends Error {
  readonly code: 'STATE_CORRUPT' | 'STATE_FOREIGN' | 'STATE_IO' | 'STATE_STALE';
  constructor(code: StateStoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateStoreError';
    this.code = code;
  }
}
