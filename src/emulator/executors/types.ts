/**
 * What an agent needs from a task runner: the built-in command executor's
 * behaviour, either with real processes or simulated with timers.
 */
import type { FrameworkInfo, TaskInfo, TaskState } from '../../mesos/types.js';

export interface TaskReport {
  state: TaskState;
  message?: string;
  /** A `REASON_*` name. */
  reason?: string;
  /** Who produced the update; the command executor reports as SOURCE_EXECUTOR. */
  source?: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
}

export interface TaskRunContext {
  agentId: string;
  frameworkId: string;
  frameworkInfo: FrameworkInfo;
  task: TaskInfo;
  /** Sends a status update through the agent's status update manager. */
  report(update: TaskReport): void;
  /** Remembers the sandbox path for `Cluster.tasks()`. */
  setSandbox(dir: string): void;
  /**
   * The default executor running the task (LAUNCH_GROUP): the task runs in a
   * nested container sandbox `<executor sandbox>/containers/<id>`, linked from
   * `<executor sandbox>/tasks/<task id>`.
   */
  executor?: { id: string; runId: string };
}

export interface RunningTask {
  /** Kill as the command executor does: TASK_KILLING (if the framework has the capability), SIGTERM, SIGKILL after the grace period, TASK_KILLED. */
  kill(gracePeriodMs: number | undefined, sendKilling: boolean): void;
  /** Stops the task without any update (the agent is gone or the framework removed). */
  destroy(): void;
}

export interface TaskRunner {
  launch(ctx: TaskRunContext): RunningTask;
  /** Kills everything still running (cluster stop). */
  stopAll(): Promise<void>;
  /** DESTROY: the agent removes the persistent volume's data (local mode; nothing to do when simulated). */
  destroyVolume?(agentId: string, role: string, persistenceId: string): void;
}

/** Command executor default grace between SIGTERM and SIGKILL (src/launcher/executor.cpp). */
export const DEFAULT_KILL_GRACE_MS = 3000;

export function gracePeriodMs(task: TaskInfo, override: number | undefined): number {
  if (override !== undefined) return override;
  const ns = task.kill_policy?.grace_period?.nanoseconds;
  return ns === undefined ? DEFAULT_KILL_GRACE_MS : Math.max(0, Number(ns) / 1e6);
}

/** The image a task asks for, if any, as a human-readable name. */
export function containerImageOf(task: TaskInfo): string | undefined {
  const c = task.container;
  if (!c) return undefined;
  if (c.docker?.image) return c.docker.image;
  const image = c.mesos?.image;
  if (image) return image.docker?.name ?? `${image.type} image`;
  return undefined;
}
