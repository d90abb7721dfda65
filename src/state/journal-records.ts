/**
 * The records of the state journal and their framing, shared by the state
 * file and the ZooKeeper store. No I/O.
 *
 * A record is `[length: u32 LE][crc32 of the payload: u32 LE][payload]`, the
 * payload JSON (UTF-8) of one of:
 * - `snapshot`: the whole state, and the cluster it belongs to;
 * - `delta`: the header (the state without its tasks), the tasks added or
 *   changed and the ids of the tasks that left (machines/contract.ts StateDelta).
 * Applying records in order gives the state; applying a run of records a second
 * time right after itself changes nothing (every field they carry is a value,
 * not an increment), so a write retried after a lost answer is harmless.
 */
import { crc32 } from 'node:zlib';
import type { PersistedState, PersistedTask, StateDelta } from '../../machines/contract.js';

export type JournalRecord =
  | { k: 'snapshot'; cluster?: string; state: PersistedState }
  | { k: 'delta'; header: StateDelta['header']; upsert: readonly PersistedTask[]; remove: readonly string[] };

/** Bytes before a record's payload (length and checksum). */
export const FRAME_HEADER_BYTES = 8;

/** A record larger than this is not believed (a corrupt length field). */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** Frames one record. */
export function encodeRecord(record: JournalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** One record read back, with where it starts and ends in the buffer. */
export interface DecodedRecord {
  offset: number;
  end: number;
  record: unknown;
}

/**
 * What reading a run of framed records found:
 * - `records`: every intact record, in order;
 * - `torn`: the last record is incomplete or fails its checksum and nothing
 *   follows it (a write cut short: a crash or SIGKILL in the middle of it);
 *   `end` is where the intact records end;
 * - `corrupt`: a record before the end is damaged (`offset`, `why`).
 */
export interface DecodeResult {
  records: DecodedRecord[];
  end: number;
  torn?: { offset: number; bytes: number; why: string };
  corrupt?: { offset: number; why: string };
}

/** Reads framed records from `buf[start..]`; see DecodeResult. */
export function decodeRecords(buf: Buffer, start: number): DecodeResult {
  const records: DecodedRecord[] = [];
  let offset = start;
  const torn = (why: string): DecodeResult => ({ records, end: offset, torn: { offset, bytes: buf.length - offset, why } });
  while (offset < buf.length) {
    if (buf.length - offset < FRAME_HEADER_BYTES) return torn('the record header is incomplete');
    const length = buf.readUInt32LE(offset);
    const sum = buf.readUInt32LE(offset + 4);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (length === 0) {
      // A run of zeros to the end is space the file system allocated for a write that never landed.
      if (isZeros(buf, offset)) return torn('the rest of the file is zeros');
      return { records, end: offset, corrupt: { offset, why: 'a record of length 0' } };
    }
    if (length > MAX_RECORD_BYTES) return { records, end: offset, corrupt: { offset, why: `a record length of ${length} bytes` } };
    if (end > buf.length) return torn(`the record is ${length} bytes long but only ${buf.length - offset - FRAME_HEADER_BYTES} were written`);
    const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== sum) {
      if (end === buf.length) return torn('the last record fails its checksum');
      return { records, end: offset, corrupt: { offset, why: 'the record fails its checksum' } };
    }
    let record: unknown;
    try {
      record = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return { records, end: offset, corrupt: { offset, why: `the record is not JSON: ${(err as Error).message}` } };
    }
    records.push({ offset, end, record });
    offset = end;
  }
  return { records, end: offset };
}

function isZeros(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The state being rebuilt from records: the header and the tasks by id (insertion order kept). */
export class StateAccumulator {
  header: Omit<PersistedState, 'tasks'> | undefined;
  cluster: string | undefined;
  readonly tasks = new Map<string, PersistedTask>();

  /** Applies one record; returns what is wrong with it, or undefined. */
  apply(record: unknown): string | undefined {
    if (!isObject(record)) return 'not an object';
    if (record['k'] === 'snapshot') {
      const state = record['state'];
      if (!isObject(state) || !Array.isArray(state['tasks'])) return 'a snapshot without a state';
      const { tasks, ...header } = state as unknown as PersistedState;
      this.header = header;
      this.cluster = typeof record['cluster'] === 'string' ? record['cluster'] : undefined;
      this.tasks.clear();
      for (const t of tasks) this.tasks.set(t.taskId, t);
      return undefined;
    }
    if (record['k'] === 'delta') {
      if (this.header === undefined) return 'a change before any snapshot';
      const { header, upsert, remove } = record;
      if (!isObject(header) || !Array.isArray(upsert) || !Array.isArray(remove)) return 'a change without header, upsert and remove';
      this.header = header as unknown as PersistedState;
      for (const id of remove as unknown[]) this.tasks.delete(String(id));
      for (const t of upsert as PersistedTask[]) {
        if (!isObject(t) || typeof t.taskId !== 'string') return 'a changed task without a taskId';
        this.tasks.set(t.taskId, t);
      }
      return undefined;
    }
    return `an unknown record kind ${JSON.stringify(record['k'])}`;
  }

  /** The state so far (a plain object: validate it with shapeProblem before trusting it). */
  state(): Record<string, unknown> | undefined {
    if (this.header === undefined) return undefined;
    return { ...this.header, tasks: [...this.tasks.values()] };
  }
}

/** A change as the runtime hands it to a store: the whole new state, and what changed if known. */
export interface StateChange {
  /** The whole state after the change (may be built lazily: read it only to write a snapshot). */
  readonly state: PersistedState;
  readonly delta?: StateDelta;
}

/** The journal record of a change: its delta, or a snapshot when it has none. */
export function recordOf(change: StateChange, cluster: string | undefined): JournalRecord {
  if (change.delta) return { k: 'delta', header: change.delta.header, upsert: change.delta.upsert, remove: change.delta.remove };
  return snapshotRecord(change.state, cluster);
}

export function snapshotRecord(state: PersistedState, cluster: string | undefined): JournalRecord {
  return cluster === undefined ? { k: 'snapshot', state } : { k: 'snapshot', cluster, state };
}

/** The changes of a batch from its last snapshot on: a snapshot makes everything before it moot. */
export function fromLastSnapshot(changes: readonly StateChange[]): { snapshot?: StateChange; deltas: readonly StateChange[] } {
  for (let i = changes.length - 1; i >= 0; i--) {
    if (!changes[i]!.delta) return { snapshot: changes[i]!, deltas: changes.slice(i + 1) };
  }
  return { deltas: changes };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
