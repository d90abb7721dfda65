/**
 * Feeds one job's RunHistory from the runtime's domain signals (which the
 * machines' notifications become in src/runtime/notifications.ts): round
 * started and finished, tasks launched, updated and ended. Returns a function
 * that stops listening.
 */
import type { SignalMap, Signals } from '../runtime/signals.js';
import type { RunHistory } from './run-history.js';

export interface RecordedJob {
  /** The job's name (`--name`). */
  name: string;
  /** Tasks per round (`--maxtasks`), for a round carried on after a restart. */
  tasksPerRound: number;
}

export function recordRuns(signals: Signals, history: RunHistory, job: RecordedJob): () => void {
  const { name, tasksPerRound } = job;
  history.addJob(name);
  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    subscribed: ({ frameworkId }) => history.subscribed(name, frameworkId),
    roundStarted: ({ round, tasks }) => history.roundStarted(name, round, tasks),
    taskLaunched: ({ round, taskId, agentId }) => history.taskLaunched(name, round, taskId, agentId, tasksPerRound),
    taskState: ({ round, ...update }) => history.taskState(name, round, update, tasksPerRound),
    taskUnlaunched: ({ round, taskId, reason }) => history.taskUnlaunched(name, round, taskId, reason, tasksPerRound),
    taskEnded: ({ round, ...ended }) => history.taskEnded(name, round, ended, tasksPerRound),
    roundFinished: ({ round, finished, failed }) => history.roundFinished(name, round, finished, failed, tasksPerRound),
  };
  for (const [signal, listener] of Object.entries(listeners)) signals.on(signal as keyof SignalMap, listener as never);
  return () => {
    for (const [signal, listener] of Object.entries(listeners)) signals.off(signal as keyof SignalMap, listener as never);
  };
}
