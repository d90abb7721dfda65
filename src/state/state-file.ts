/**
 * The local state file (`--state-file`, default `defaultStateFilePath(name)`):
 * PersistedState as JSON, replaced atomically on every save.
 *
 * Ordering and durability guarantees:
 * - Every save is written synchronously: temp file in the same directory,
 *   write, fsync, rename over the old file, fsync the directory. A reader
 *   (or a crash) sees the old or the new file, never a partial one.
 * - Saves therefore land in call order, and when `save()` resolves or
 *   `saveSync()` returns the state is on disk: call `saveSync()` (or await
 *   `save()`) with the write-ahead record before sending ACCEPT.
 * - A file that is corrupt or belongs to another framework name is never
 *   overwritten: load() rejects with STATE_CORRUPT / STATE_FOREIGN and every
 *   later save rejects with the same error until the user moves the file away
 *   or picks another path (a new FileStateStore sees the change).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PersistedState } from '../../machines/contract.js';
import { StateStoreError, type StateStore } from './store.js';
import { parsePersistedState, serializePersistedState, type StateLocation } from './validate.js';

/** Directory name under the XDG state home. */
export const STATE_DIR_NAME = 'mesos-http-scheduler';

/**
 * `$XDG_STATE_HOME/mesos-http-scheduler/<name>.json`, or
 * `~/.local/state/mesos-http-scheduler/<name>.json` when XDG_STATE_HOME is
 * unset or not absolute (as the XDG spec says). Characters other than letters,
 * digits, '.', '_' and '-' in the name become '_'.
 */
export function defaultStateFilePath(
  name: string,
  env: { env?: Readonly<Record<string, string | undefined>>; homedir?: string } = {},
): string {
  const vars = env.env ?? process.env;
  const xdg = vars['XDG_STATE_HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.homedir ?? os.homedir(), '.local', 'state');
  let file = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (file === '' || file === '.' || file === '..') file = `_${file}`;
  return path.join(base, STATE_DIR_NAME, `${file}.json`);
}

export interface FileStateStoreOptions {
  /** Called after each successful write (for logs/metrics). */
  onWrite?: (state: PersistedState, file: string) => void;
}

/** A StateStore backed by one JSON file. */
export class FileStateStore implements StateStore {
  readonly description: string;
  readonly file: string;
  private readonly options: FileStateStoreOptions;
  private readonly where: StateLocation;
  /** The framework name the file was checked for (load() or the first save()). */
  private checkedFor: string | undefined;
  /** Set when the file failed to load: saves refuse with it. */
  private blocked: StateStoreError | undefined;
  private seq = 0;
  private closed = false;

  constructor(file: string, options: FileStateStoreOptions = {}) {
    this.file = path.resolve(file);
    this.options = options;
    this.description = `state file ${this.file}`;
    this.where = {
      what: `state file ${this.file}`,
      remedy: `move it away (e.g. mv '${this.file}' '${this.file}.bad') or pass another --state-file`,
    };
  }

  /** The stored state, undefined when the file does not exist; see StateStore.load. */
  async load(expectedFrameworkName: string): Promise<PersistedState | undefined> {
    return this.loadSync(expectedFrameworkName);
  }

  /** load() without a promise. */
  loadSync(expectedFrameworkName: string): PersistedState | undefined {
    this.checkedFor = expectedFrameworkName;
    this.blocked = undefined;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      const e = new StateStoreError('STATE_IO', `cannot read ${this.description}: ${(err as Error).message}. Check its permissions or pass another --state-file.`, { cause: err });
      this.blocked = e;
      throw e;
    }
    try {
      return parsePersistedState(text, expectedFrameworkName, this.where);
    } catch (err) {
      if (err instanceof StateStoreError) this.blocked = err;
      throw err;
    }
  }

  /** Writes `state` durably and atomically (see the file comment); resolves when it is on disk. */
  async save(state: PersistedState): Promise<void> {
    this.saveSync(state);
  }

  /**
   * Writes `state` durably and atomically before returning. Refuses (throws
   * the load error) when the existing file failed to load. When load() was
   * not called first, the existing file is checked as load() would.
   */
  saveSync(state: PersistedState): void {
    if (this.closed) throw new StateStoreError('STATE_IO', `${this.description} is closed`);
    if (this.checkedFor !== state.frameworkName) this.loadSync(state.frameworkName);
    if (this.blocked) throw this.blocked;
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${++this.seq}.tmp`);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeFileSync(fd, serializePersistedState(state));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
    } catch (err) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // not created or already renamed
      }
      throw new StateStoreError(
        'STATE_IO',
        `cannot write ${this.description}: ${(err as Error).message}. Check that the directory is writable and the disk not full, or pass another --state-file.`,
        { cause: err },
      );
    }
    fsyncDir(dir);
    this.options.onWrite?.(state, this.file);
  }

  /** Saves are synchronous: nothing is ever pending. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Makes the rename durable. Some file systems cannot fsync a directory; that is not an error. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR/EPERM on some platforms and file systems
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
