/**
 * The run history in a JSON file beside the state file (`<state>.history.json`
 * for `<state>.json`), replaced atomically on every save: a temporary file in
 * the same directory, fsync, rename over the old one, fsync the directory. A
 * reader or a crash sees the old or the new history, never part of one.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { HistoryStoreError, type HistoryStore } from './history-store.js';
import { parseHistory, serializeHistory, type HistoryDocument } from './run-record.js';

/** `/x/name.json` → `/x/name.history.json`. */
export function historyFileFor(stateFile: string): string {
  const resolved = path.resolve(stateFile);
  return resolved.endsWith('.json') ? `${resolved.slice(0, -'.json'.length)}.history.json` : `${resolved}.history.json`;
}

export class FileHistoryStore implements HistoryStore {
  readonly description: string;
  readonly file: string;
  private seq = 0;

  constructor(file: string) {
    this.file = path.resolve(file);
    this.description = `history file ${this.file}`;
  }

  async load(): Promise<HistoryDocument | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new HistoryStoreError('HISTORY_IO', `cannot read ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    return parseHistory(text, this.description);
  }

  async save(doc: HistoryDocument): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${++this.seq}.tmp`);
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await fsp.open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(serializeHistory(doc));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(tmp, this.file);
    } catch (err) {
      await fsp.unlink(tmp).catch(() => {});
      throw new HistoryStoreError('HISTORY_IO', `cannot write ${this.description}: ${(err as Error).message}`, { cause: err });
    }
    const dirHandle = await fsp.open(dir, 'r').catch(() => undefined);
    await dirHandle?.sync().catch(() => {});
    await dirHandle?.close().catch(() => {});
  }

  async close(): Promise<void> {}
}
