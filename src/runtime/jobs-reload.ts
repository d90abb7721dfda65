/**
 * `--jobs`: SIGHUP reloads the jobs file. A file with problems is reported,
 * one line each, and the jobs in force stay. Otherwise the jobs go to the
 * framework machine, which tells the master of roles new to the framework
 * (UPDATE_FRAMEWORK), and to the supervisor, which starts the added ones,
 * changes the changed ones from their next round and drains the removed ones.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { JobRun } from '../../machines/contract.js';
import { JobsFileError, loadJobsFile } from '../jobs/load.js';
import type { SignalSource } from './stop-signals.js';

export interface ReloadOptions {
  file: string;
  /** The default `user` of the jobs (--user). */
  username: string;
  /** The run id of this process's task ids. */
  runId: string;
  log: Logger;
  reload: (jobs: readonly JobRun[]) => void;
  source?: SignalSource;
}

/** Installs the SIGHUP handler; returns a function that removes it. */
export function reloadOnHangup(options: ReloadOptions): () => void {
  const { file, log } = options;
  const source = options.source ?? process;
  const onHangup = (): void => {
    log.info({ file }, `received SIGHUP: reloading ${file}`);
    let jobs;
    try {
      jobs = loadJobsFile(file, { username: options.username, readFile: (path) => readFileSync(path, 'utf8') });
    } catch (err) {
      if (!(err instanceof JobsFileError)) {
        log.error({ file, err }, `${file} not reloaded: ${(err as Error).message}; the jobs in force stay`);
        return;
      }
      for (const line of err.lines) log.error({ file }, line);
      log.error({ file }, `${file} not reloaded (${err.lines.length} problem${err.lines.length === 1 ? '' : 's'}): the jobs in force stay`);
      return;
    }
    options.reload(jobs.map((job) => ({ ...job, runId: options.runId })));
  };
  source.on('SIGHUP', onHangup);
  return () => { source.off('SIGHUP', onHangup); };
}
