/**
 * Feeds one job's RunHistory from the runtime's domain signals (which the
 * machines' notifications become in src/runtime/notifications.ts): round
 * started and finished, tasks launched, updated and ended. Returns a function
 * that stops listening.
 */
import type { SignalMap, Signals } from '../runtime/signals.js';
import { jobOfTask } from '../../machines/supervisor/supervisor.context.js';
import type { RunHistory } from './run-history.js';

export interface RecordedJob {
  /** The job's name (`--name`). */
  name: string;
  /** Tasks per round (`--maxtasks`), for a round carried on after a restart. */
  tasksPerRound: number;
  /**
   * `--jobs`: every job of the file as it is now (a reload adds and removes
   * jobs). The job then records only its own rounds (the signals' `job`) and
   * tasks (the job their id names).
   */
  jobsOfFile?: () => readonly string[];
}

export function recordRuns(signals: Signals, history: RunHistory, job: RecordedJob): () => void {
  const { name, tasksPerRound, jobsOfFile } = job;
  history.addJob(name);
  const ownRound = (of: string | undefined): boolean => jobsOfFile === undefined || of === name;
  const ownTask = (taskId: string): boolean => jobsOfFile === undefined || jobOfTask(taskId, jobsOfFile()) === name;
  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    subscribed: ({ frameworkId }) => history.subscribed(name, frameworkId),
    roundStarted: ({ round, tasks, job: of, overlaps }) => { if (ownRound(of)) history.roundStarted(name, round, tasks, overlaps); },
    taskLaunched: ({ round, taskId, agentId }) => { if (ownTask(taskId)) history.taskLaunched(name, round, taskId, agentId, tasksPerRound); },
    taskState: ({ round, ...update }) => { if (ownTask(update.taskId)) history.taskState(name, round, update, tasksPerRound); },
    taskUnlaunched: ({ round, taskId, reason }) => { if (ownTask(taskId)) history.taskUnlaunched(name, round, taskId, reason, tasksPerRound); },
    taskEnded: ({ round, ...ended }) => { if (ownTask(ended.taskId)) history.taskEnded(name, round, ended, tasksPerRound); },
    roundFinished: ({ round, finished, failed, job: of, killed }) => { if (ownRound(of)) history.roundFinished(name, round, finished, failed, tasksPerRound, killed === true); },
  };
  for (const [signal, listener] of Object.entries(listeners)) signals.on(signal as keyof SignalMap, listener as never);
  return () => {
    for (const [signal, listener] of Object.entries(listeners)) signals.off(signal as keyof SignalMap, listener as never);
  };
}
