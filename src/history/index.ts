/**
 * The run history of the scheduler's job, kept beside the framework's state:
 * loaded when the scheduler starts (after it was elected, with --ha), fed from
 * the runtime's signals, written as it changes. See run-record.ts for what a
 * run holds.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/run-config.js';
import type { Signals } from '../runtime/signals.js';
import { FileHistoryStore, historyFileFor } from './file-history-store.js';
import type { HistoryStore } from './history-store.js';
import { HistoryWriter } from './history-writer.js';
import { recordRuns, type RecordedJob } from './recorder.js';
import type { RunHistory } from './run-history.js';
import { ZkHistoryStore, type ZkHistoryStoreOptions } from './zk-history-store.js';

export { RunHistory, type TaskRow, type HistoryChange } from './run-history.js';
export { DEFAULT_HISTORY_LIMIT, FAILURES_LISTED, type RunRecord, type RunOutcome, type FailedTask } from './run-record.js';
export { historyFileFor } from './file-history-store.js';
export type { RecordedJob } from './recorder.js';

export function historyStoreFor(config: Pick<Config, 'ha' | 'stateFile'>, election?: ZkHistoryStoreOptions['election']): HistoryStore {
  if (config.ha !== undefined && election) return new ZkHistoryStore(config.ha, { election });
  return new FileHistoryStore(historyFileFor(config.stateFile));
}

export interface KeptHistory {
  /**
   * The jobs changed (a `--jobs` reload): an added job gets its recorder, a
   * changed one records with its new size, a job no longer listed (removed and
   * forgotten) is no longer recorded. Its stored runs stay, not served, and
   * carry on if a job of that name is added again.
   */
  follow(jobs: readonly RecordedJob[]): void;
  /**
   * Stops recording and writes what is left. `interrupted`: the job's state is
   * not carried on by anyone (it was reset), so an open round is closed as
   * interrupted.
   */
  stop(options: { interrupted: boolean }): Promise<void>;
}

/** Loads the stored history into `history` and keeps recording and storing the rounds of the job (or, `--jobs`, of each job). */
export async function keepHistory(
  history: RunHistory, signals: Signals, job: RecordedJob | readonly RecordedJob[], store: HistoryStore, log: Logger,
): Promise<KeptHistory> {
  const jobs: readonly RecordedJob[] = Array.isArray(job) ? job : [job as RecordedJob];
  let writer: HistoryWriter | undefined;
  try {
    const doc = await store.load();
    if (doc) history.restore(doc);
    writer = new HistoryWriter(store, history, log);
  } catch (err) {
    log.warn({ err }, `run history not loaded (${(err as Error).message}); it is kept in memory only and ${store.description} is left as it is`);
  }
  const recorders = new Map<string, { job: RecordedJob; stop: () => void }>();
  const follow = (now: readonly RecordedJob[]): void => {
    const names = new Set(now.map((one) => one.name));
    for (const [name, recorder] of recorders) {
      if (names.has(name)) continue;
      recorder.stop();
      recorders.delete(name);
    }
    for (const one of now) {
      const recorder = recorders.get(one.name);
      if (recorder !== undefined && recorder.job.tasksPerRound === one.tasksPerRound) continue;
      recorder?.stop();
      recorders.set(one.name, { job: one, stop: recordRuns(signals, history, one) });
    }
  };
  follow(jobs);
  return {
    follow,
    async stop({ interrupted }) {
      for (const recorder of recorders.values()) recorder.stop();
      if (interrupted) for (const name of recorders.keys()) history.interruptOpen(name);
      recorders.clear();
      await writer?.close();
    },
  };
}
