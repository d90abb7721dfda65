/**
 * Reading a state file, without writing it: the journal (format 2: a first
 * line, then framed records, see journal-records.ts) or a whole-JSON state
 * file of format 1, which the store migrates once. No I/O.
 */
import type { PersistedState } from '../../machines/contract.js';
import { decodeRecords, StateAccumulator } from './journal-records.js';
import { StateStoreError } from './store.js';
import { checkPersistedState, corruptState, parsePersistedState, type StateLocation } from './validate.js';

/** The first bytes of a journal (readable with `head -1`). */
export const JOURNAL_MAGIC = Buffer.from('mesos-http-scheduler state journal, format 2\n', 'utf8');

export interface ReadStateFile {
  state: PersistedState;
  cluster?: string;
  /** 1: whole JSON (to be migrated); 2: journal. */
  format: 1 | 2;
  /** Where the intact records end (format 2): the next record goes here. */
  end: number;
  /** Bytes of the last snapshot record, and of the records after it. */
  snapshotBytes: number;
  journalBytes: number;
  /** A torn last record that was dropped (a write cut short by a crash). */
  torn?: { offset: number; bytes: number; why: string };
}

/**
 * Parses the bytes of a state file for framework `expectedFrameworkName`.
 * Throws STATE_CORRUPT (naming the byte offset of a damaged record) or
 * STATE_FOREIGN. A torn last record is reported in `torn`, not thrown.
 */
export function readStateFileBytes(buf: Buffer, expectedFrameworkName: string, where: StateLocation): ReadStateFile {
  if (buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) return readJournal(buf, expectedFrameworkName, where);
  const text = buf.toString('utf8');
  if (text.trimStart().startsWith('{')) {
    return { state: parsePersistedState(text, expectedFrameworkName, where), format: 1, end: 0, snapshotBytes: 0, journalBytes: 0 };
  }
  throw corruptState(where, 'neither a state journal nor a JSON state file');
}

function readJournal(buf: Buffer, expectedFrameworkName: string, where: StateLocation): ReadStateFile {
  const decoded = decodeRecords(buf, JOURNAL_MAGIC.length);
  if (decoded.corrupt) throw damaged(where, decoded.corrupt.offset, decoded.corrupt.why);
  const acc = new StateAccumulator();
  let snapshotAt: { offset: number; end: number } | undefined;
  for (const { offset, end, record } of decoded.records) {
    const problem = acc.apply(record);
    if (problem) throw damaged(where, offset, problem);
    if ((record as { k?: unknown }).k === 'snapshot') snapshotAt = { offset, end };
  }
  const value = acc.state();
  if (value === undefined || snapshotAt === undefined) {
    throw damaged(where, JOURNAL_MAGIC.length, decoded.torn ? `its first record is incomplete (${decoded.torn.why})` : 'it holds no snapshot');
  }
  const state = checkPersistedState(value, expectedFrameworkName, where);
  return {
    state,
    ...(acc.cluster !== undefined ? { cluster: acc.cluster } : {}),
    format: 2,
    end: decoded.end,
    snapshotBytes: snapshotAt.end - snapshotAt.offset,
    journalBytes: decoded.end - snapshotAt.end,
    ...(decoded.torn ? { torn: decoded.torn } : {}),
  };
}

function damaged(where: StateLocation, offset: number, why: string): StateStoreError {
  return corruptState(where, `damaged at byte offset ${offset}: ${why}`);
}
