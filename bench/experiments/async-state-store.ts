/**
 * Experiment: the state file written off the event loop. Same atomic steps as
 * src/state/state-file.ts (temp file, write, fsync, rename, fsync the
 * directory) but with fs.promises, so the libuv thread pool waits for the
 * disk while the scheduler keeps reading events; with group commit in the
 * runtime the next write then covers every update that came meanwhile.
 * Bench-only; the real fix belongs in src/state/state-file.ts.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PersistedState } from '../../machines/contract.js';
import type { StateStore } from '../../src/state/store.js';

export class AsyncFileStateStore implements StateStore {
  readonly description: string;
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {
    this.description = `state file ${file} (async)`;
  }

  async load(): Promise<PersistedState | undefined> {
    return undefined;
  }

  save(state: PersistedState): Promise<void> {
    const run = async (): Promise<void> => {
      const tmp = `${this.file}.tmp-${process.pid}-${this.seq++}`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(state));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      const dir = await open(dirname(this.file), 'r');
      try { await dir.sync(); } finally { await dir.close(); }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain.catch(() => {});
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
