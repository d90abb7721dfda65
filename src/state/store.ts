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

export class StateStoreError extends Error {
  readonly code: 'STATE_CORRUPT' | 'STATE_FOREIGN' | 'STATE_IO';
  constructor(code: StateStoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateStoreError';
    this.code = code;
  }
}
