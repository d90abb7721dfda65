/**
 * The local state file (`--state-file`, default `defaultStateFilePath(name)`):
 * PersistedState as JSON, replaced atomically on every save.
 *
 * Ordering and durability guarantees:
 * - Every save writes a temp file in the same directory, fsyncs it, renames
 *   it over the old file and fsyncs the directory. A reader (or a crash) sees
 *   the old or the new file, never a partial one.
 * - The steps run with fs.promises (the thread pool waits for the disk, the
 *   event loop keeps going), one save at a time: saves land in call order, and
 *   when `save()` resolves the state is on disk. Await `save()` with the
 *   write-ahead record before sending ACCEPT.
 * - A file that is corrupt or belongs to another framework name is never
 *   overwritten: load() rejects with STATE_CORRUPT / STATE_FOREIGN and every
 *   later save rejects with the same error until the user moves the file away
 *   or picks another path (a new FileStateStore sees the change).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
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
  /** The last save queued: saves run one after another, in call order. */
  private chain: Promise<void> = Promise.resolve();

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
    this.checkedFor = expectedFrameworkName;
    this.blocked = undefined;
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
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

  /**
   * Writes `state` durably and atomically (see the file comment); resolves
   * when it is on disk. Saves run in call order, one at a time. Refuses (rejects
   * with the load error) when the existing file failed to load; when load()
   * was not called first, the existing file is checked as load() would. The
   * state is serialised when save() is called, so the caller may reuse it.
   */
  save(state: PersistedState): Promise<void> {
    if (this.closed) return Promise.reject(new StateStoreError('STATE_IO', `${this.description} is closed`));
    let text: string;
    try {
      text = serializePersistedState(state);
    } catch (err) {
      return Promise.reject(new StateStoreError('STATE_IO', `cannot write ${this.description}: ${(err as Error).message}`, { cause: err }));
    }
    const run = (): Promise<void> => this.write(state, text);
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => {});
    return result;
  }

  /**
   * temp file: open (creating the directory if missing), write, fsync; then
   * rename over the file and fsync the directory. Steps that do not depend on
   * each other run side by side (the directory is opened while the temp file
   * is written, the temp file closed while it is renamed), so a save takes
   * fewer turns of the event loop; the order that matters (fsync the data,
   * then rename, then fsync the directory) is kept.
   */
  private async write(state: PersistedState, text: string): Promise<void> {
    if (this.checkedFor !== state.frameworkName) await this.load(state.frameworkName);
    if (this.blocked) throw this.blocked;
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${++this.seq}.tmp`);
    let handle: FileHandle | undefined;
    let dirHandle: Promise<FileHandle | undefined> | undefined;
    try {
      handle = await openNew(tmp, dir);
      dirHandle = fsp.open(dir, 'r').catch(() => undefined);
      await handle.writeFile(text);
      await handle.sync();
      const closing = handle.close();
      handle = undefined;
      const [closed, renamed] = await Promise.allSettled([closing, fsp.rename(tmp, this.file)]);
      if (renamed.status === 'rejected') throw renamed.reason;
      if (closed.status === 'rejected') throw closed.reason;
    } catch (err) {
      await handle?.close().catch(() => {});
      await fsp.unlink(tmp).catch(() => {
        // not created or already renamed
      });
      await dirHandle?.then((d) => d?.close()).catch(() => {});
      throw new StateStoreError(
        'STATE_IO',
        `cannot write ${this.description}: ${(err as Error).message}. Check that the directory is writable and the disk not full, or pass another --state-file.`,
        { cause: err },
      );
    }
    await syncDir(await dirHandle);
    this.options.onWrite?.(state, this.file);
  }

  /** Waits for the saves queued so far (their failures are reported by save()). */
  async flush(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  /** Refuses further saves and waits for the queued ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}

/** Creates `file` (exclusively, 0600); creates its directory (0700) when missing. */
async function openNew(file: string, dir: string): Promise<FileHandle> {
  try {
    return await fsp.open(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    return await fsp.open(file, 'wx', 0o600);
  }
}

/**
 * Makes the rename durable. Some file systems cannot fsync a directory; that
 * is not an error. The directory is closed without waiting: once it is synced
 * the save is done.
 */
async function syncDir(handle: FileHandle | undefined): Promise<void> {
  if (handle === undefined) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR/EPERM on some platforms and file systems
  } finally {
    handle.close().catch(() => {});
  }
}
