/**
 * The local state file (`--state-file`, default `defaultStateFilePath(name)`):
 * a journal. The file holds a snapshot of the whole state and then the
 * changes since, one framed record each (length, checksum, JSON; see
 * journal-records.ts), after a first line that names the format.
 *
 * Durability and order:
 * - `commit(changes)` appends the records of a batch of changes with one
 *   positional write and one fdatasync (group commit: the runtime gathers the
 *   changes that arrive while the last commit is on its way). When it
 *   resolves, the changes are on disk.
 * - Now and then (when the changes since the snapshot outgrow both
 *   `compactMinBytes` and twice the snapshot) and whenever a change comes
 *   without a delta, the commit writes a new file instead: snapshot plus the
 *   batch's later changes into a temp file, fsync, rename over the journal,
 *   fsync the directory. A reader or a crash sees the old or the new file.
 * - A commit that fails leaves the journal as it was (bytes written past the
 *   last intact record are cut off, or overwritten by the next commit, which
 *   writes at the same place), so the runtime can retry it.
 *
 * Reading (`load`): a torn last record (the process was killed in the middle
 * of a write, whose commit therefore never resolved) is dropped and logged.
 * A damaged record before the end, a file of another framework name, or one
 * that is not a state file at all, is reported with the file and the byte
 * offset and never overwritten: every later commit refuses with the same error.
 * A whole-JSON state file of format 1 is read and rewritten as a journal once.
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { encodeRecord, fromLastSnapshot, recordOf, snapshotRecord, type StateChange } from './journal-records.js';
import { JOURNAL_MAGIC, readStateFileBytes } from './state-file-format.js';
import { StateStoreError, type StateStore, type StoredState } from './store.js';
import type { StateLocation } from './validate.js';

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

/** What one commit wrote (for logs, metrics and tests). */
export interface CommitInfo {
  records: number;
  bytes: number;
  /** True when the commit wrote a new file (snapshot) rather than appending. */
  snapshot: boolean;
}

export interface FileStateStoreOptions {
  /** The cluster the state belongs to (recorded in every snapshot; see src/runtime/cluster-identity.ts). */
  cluster?: string;
  /** Called after each successful commit. */
  onWrite?: (info: CommitInfo, file: string) => void;
  /** Torn records dropped and migrations are logged here. */
  logger?: Logger;
  /** The journal is compacted once the changes since the snapshot exceed this and twice the snapshot. Default 4 MiB. */
  compactMinBytes?: number;
}

const DEFAULT_COMPACT_MIN_BYTES = 4 * 1024 * 1024;

/** A StateStore in one journal file. */
export class FileStateStore implements StateStore {
  readonly description: string;
  readonly file: string;
  private readonly options: FileStateStoreOptions;
  private readonly where: StateLocation;
  /** The framework name the file was checked for (load() or the first commit). */
  private checkedFor: string | undefined;
  /** Set when the file failed to load: commits refuse with it. */
  private blocked: StateStoreError | undefined;
  /** The journal, open for appending; undefined until a snapshot was written or read. */
  private handle: FileHandle | undefined;
  /** Where the intact records end: the next record goes here. */
  private size = 0;
  /** The file may hold bytes past `size` (a torn record, a failed write): cut them before appending. */
  private tail = false;
  private snapshotBytes = 0;
  private journalBytes = 0;
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
  async load(expectedFrameworkName: string): Promise<StoredState | undefined> {
    this.checkedFor = expectedFrameworkName;
    this.blocked = undefined;
    await this.closeHandle();
    let buf: Buffer;
    try {
      buf = await fsp.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.block(new StateStoreError('STATE_IO', `cannot read ${this.description}: ${(err as Error).message}. Check its permissions or pass another --state-file.`, { cause: err }));
    }
    let read: ReturnType<typeof readStateFileBytes>;
    try {
      read = readStateFileBytes(buf, expectedFrameworkName, this.where);
    } catch (err) {
      throw err instanceof StateStoreError ? this.block(err) : err;
    }
    const stored: StoredState = { state: read.state, ...(read.cluster !== undefined ? { cluster: read.cluster } : {}) };
    if (read.format === 1) {
      await this.writeSnapshotFile([encodeRecord(snapshotRecord(read.state, this.options.cluster))]);
      this.options.logger?.info({ file: this.file }, `migrated ${this.description} from format 1 (whole JSON) to a journal`);
      return stored;
    }
    if (read.torn) {
      this.options.logger?.warn({ file: this.file, offset: read.torn.offset, bytes: read.torn.bytes },
        `dropped a torn last record at byte offset ${read.torn.offset} of ${this.description} (${read.torn.why}): the process was stopped while writing it, before its write was confirmed`);
    }
    try {
      this.handle = await fsp.open(this.file, 'r+');
    } catch (err) {
      throw this.block(new StateStoreError('STATE_IO', `cannot open ${this.description} for writing: ${(err as Error).message}. Check its permissions or pass another --state-file.`, { cause: err }));
    }
    this.size = read.end;
    this.tail = read.torn !== undefined;
    this.snapshotBytes = read.snapshotBytes;
    this.journalBytes = read.journalBytes;
    return stored;
  }

  /** See StateStore.commit and the file comment. */
  async commit(changes: readonly StateChange[]): Promise<void> {
    if (this.closed) throw new StateStoreError('STATE_IO', `${this.description} is closed`);
    if (changes.length === 0) return;
    const first = changes[0]!;
    const name = first.delta ? first.delta.header.frameworkName : first.state.frameworkName;
    if (this.checkedFor !== name) await this.load(name);
    if (this.blocked) throw this.blocked;
    const { snapshot, deltas } = fromLastSnapshot(changes);
    const compact = this.options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    try {
      if (snapshot !== undefined || this.handle === undefined) {
        const base = snapshot ?? changes[changes.length - 1]!;
        const rest = snapshot ? deltas : [];
        await this.writeSnapshotFile([encodeRecord(snapshotRecord(base.state, this.options.cluster)), ...rest.map((c) => encodeRecord(recordOf(c, this.options.cluster)))], rest.length + 1);
      } else if (this.journalBytes > Math.max(compact, 2 * this.snapshotBytes)) {
        await this.writeSnapshotFile([encodeRecord(snapshotRecord(changes[changes.length - 1]!.state, this.options.cluster))]);
      } else {
        await this.append(deltas.map((c) => encodeRecord(recordOf(c, this.options.cluster))));
      }
    } catch (err) {
      if (err instanceof StateStoreError) throw err;
      throw new StateStoreError(
        'STATE_IO',
        `cannot write ${this.description}: ${(err as Error).message}. Check that the directory is writable and the disk not full, or pass another --state-file.`,
        { cause: err },
      );
    }
  }

  /** Appends framed records at `size` with one write and one fdatasync. */
  private async append(frames: Buffer[]): Promise<void> {
    const handle = this.handle!;
    const buf = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    try {
      if (this.tail) {
        await handle.truncate(this.size);
        this.tail = false;
      }
      await writeAll(handle, buf, this.size);
      await handle.datasync();
    } catch (err) {
      this.tail = true;
      await handle.truncate(this.size).then(() => { this.tail = false; }, () => {});
      throw err;
    }
    this.size += buf.length;
    this.journalBytes += buf.length;
    this.options.onWrite?.({ records: frames.length, bytes: buf.length, snapshot: false }, this.file);
  }

  /**
   * Writes a new journal (magic, then `frames`, the first a snapshot) to a temp
   * file, fsyncs it, renames it over the file and fsyncs the directory; then
   * appends go to it.
   */
  private async writeSnapshotFile(frames: Buffer[], records = frames.length): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${++this.seq}.tmp`);
    const buf = Buffer.concat([JOURNAL_MAGIC, ...frames]);
    let handle: FileHandle | undefined;
    let dirHandle: Promise<FileHandle | undefined> | undefined;
    try {
      handle = await openNew(tmp, dir);
      dirHandle = fsp.open(dir, 'r').catch(() => undefined);
      await writeAll(handle, buf, 0);
      await handle.sync();
      await fsp.rename(tmp, this.file);
    } catch (err) {
      await handle?.close().catch(() => {});
      await fsp.unlink(tmp).catch(() => {
        // not created or already renamed
      });
      await dirHandle?.then((d) => d?.close()).catch(() => {});
      throw err;
    }
    await syncDir(await dirHandle);
    await this.closeHandle();
    this.handle = handle;
    this.size = buf.length;
    this.tail = false;
    this.snapshotBytes = frames[0]!.length;
    this.journalBytes = buf.length - JOURNAL_MAGIC.length - this.snapshotBytes;
    this.options.onWrite?.({ records, bytes: buf.length, snapshot: true }, this.file);
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => {});
  }

  private block(err: StateStoreError): StateStoreError {
    this.blocked = err;
    return err;
  }

  /** Refuses further commits and closes the journal. */
  async close(): Promise<void> {
    this.closed = true;
    await this.closeHandle();
  }
}

/** Reads the state in `file` without changing it (a torn last record is left out); undefined when there is none. */
export async function readStateFile(file: string, frameworkName: string): Promise<StoredState | undefined> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const read = readStateFileBytes(buf, frameworkName, { what: `state file ${file}`, remedy: 'move it away' });
  return { state: read.state, ...(read.cluster !== undefined ? { cluster: read.cluster } : {}) };
}

/** Writes all of `buf` at `position` (a short write is continued, an error thrown). */
async function writeAll(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await handle.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes written'), { code: 'EIO' });
    done += bytesWritten;
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
 * is not an error. The directory is closed without waiting.
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

