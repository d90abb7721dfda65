/**
 * One emulated agent: runs tasks through a TaskRunner (real processes or
 * timers), turns what the command executor reports into status updates with a
 * uuid, and delivers them to the master through its status update manager
 * (in order, one unacknowledged update per task, retried with backoff).
 *
 * The master's view of the agent (resources, offers) lives in the master.
 */
import { randomBytes } from 'node:crypto';
import type { ExecutorInfo, FrameworkInfo, TaskInfo, TaskStatus } from '../mesos/types.js';
import type { RunningTask, TaskReport, TaskRunner } from './executors/types.js';
import { StatusUpdateManager, type UpdateDelivery } from './status-update-manager.js';
import { isTerminalState } from './task-states.js';
import { stackRole, type Volume } from './resources.js';

export interface AgentUplink {
  /** A status update leaves the agent for the master. */
  statusUpdate(agentId: string, delivery: UpdateDelivery): void;
  /** The task's sandbox path became known. */
  sandbox(frameworkId: string, taskId: string, dir: string): void;
}

interface AgentTask {
  frameworkId: string;
  info: TaskInfo;
  running: RunningTask | undefined;
  terminal: boolean;
  /** The executor's id: the task id for command tasks, the group's executor for LAUNCH_GROUP. */
  executorId: string;
  group: TaskGroupRun | undefined;
}

/** One LAUNCH_GROUP on the default executor: its tasks live and fail together. */
interface TaskGroupRun {
  members: AgentTask[];
  /** The executor is killing the group (one task failed or was killed). */
  killing: boolean;
  sendKilling: boolean;
}

export function newStatusUuid(): string {
  return randomBytes(16).toString('base64');
}

export class Agent {
  private readonly tasks = new Map<string, AgentTask>();
  private readonly updates: StatusUpdateManager;
  /** Bumped on restart/loss so late reports from the previous incarnation are dropped. */
  private incarnation = 0;

  constructor(
    readonly id: string,
    readonly hostname: string,
    private readonly runner: TaskRunner,
    private readonly uplink: AgentUplink,
    retryMs: number,
  ) {
    this.updates = new StatusUpdateManager((d) => this.uplink.statusUpdate(this.id, d), retryMs);
  }

  private static key(frameworkId: string, taskId: string): string {
    return `${frameworkId}\u0000${taskId}`;
  }

  /** DESTROY was applied: the volume's data goes. */
  destroyVolume(volume: Volume): void {
    this.runner.destroyVolume?.(this.id, stackRole(volume.reservations), volume.id);
  }

  launch(frameworkId: string, frameworkInfo: FrameworkInfo, task: TaskInfo): void {
    const entry = this.addTask(frameworkId, task, task.task_id.value, undefined);
    if (!task.command) {
      this.reporter(entry)({ state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_TERMINATED', message: 'Emulated agents run only command tasks (TaskInfo.command); custom executors are not supported' });
      return;
    }
    this.start(entry, frameworkInfo, undefined);
  }

  /**
   * LAUNCH_GROUP: the default executor runs each task's command in its own
   * container under the executor's sandbox, sends TASK_STARTING and
   * TASK_RUNNING per task, and when one task fails or is killed kills the
   * others (src/launcher/default_executor.cpp: the task group's default
   * restart policy).
   */
  launchGroup(frameworkId: string, frameworkInfo: FrameworkInfo, executor: ExecutorInfo, runId: string, tasks: readonly TaskInfo[], sendKilling: boolean): void {
    const group: TaskGroupRun = { members: [], killing: false, sendKilling };
    for (const task of tasks) group.members.push(this.addTask(frameworkId, task, executor.executor_id.value, group));
    for (const entry of group.members) {
      if (!entry.info.command) {
        this.reporter(entry)({ state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', message: 'Emulated default executor: the task has no CommandInfo to run' });
        continue;
      }
      this.start(entry, frameworkInfo, { id: executor.executor_id.value, runId });
    }
  }

  private addTask(frameworkId: string, task: TaskInfo, executorId: string, group: TaskGroupRun | undefined): AgentTask {
    const entry: AgentTask = { frameworkId, info: task, running: undefined, terminal: false, executorId, group };
    this.tasks.set(Agent.key(frameworkId, task.task_id.value), entry);
    return entry;
  }

  private reporter(entry: AgentTask): (r: TaskReport) => void {
    const incarnation = this.incarnation;
    return (r) => {
      if (incarnation !== this.incarnation || entry.terminal) return;
      if (isTerminalState(r.state)) entry.terminal = true;
      this.sendUpdate(entry.frameworkId, entry.info.task_id.value, r, entry.executorId);
      const group = entry.group;
      if (group && !group.killing && (r.state === 'TASK_FAILED' || r.state === 'TASK_KILLED')) {
        group.killing = true;
        for (const other of group.members) if (other !== entry && !other.terminal) other.running?.kill(undefined, group.sendKilling);
      }
    };
  }

  private start(entry: AgentTask, frameworkInfo: FrameworkInfo, executor: { id: string; runId: string } | undefined): void {
    const { frameworkId, info: task } = entry;
    entry.running = this.runner.launch({
      agentId: this.id, frameworkId, frameworkInfo, task, report: this.reporter(entry),
      setSandbox: (dir) => this.uplink.sandbox(frameworkId, task.task_id.value, dir),
      ...(executor ? { executor } : {}),
    });
  }

  /** Builds an agent/executor-generated update (with uuid) and queues it. */
  sendUpdate(frameworkId: string, taskId: string, r: TaskReport, executorId = taskId): void {
    const source = r.source ?? 'SOURCE_AGENT';
    const status: TaskStatus = {
      task_id: { value: taskId },
      state: r.state,
      source,
      agent_id: { value: this.id },
      timestamp: Date.now() / 1000,
      uuid: newStatusUuid(),
      ...(r.message !== undefined ? { message: r.message } : {}),
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      // The command executor's id is the task id; the agent's own reconciliation answers carry none.
      ...(r.reason === 'REASON_RECONCILIATION' ? {} : { executor_id: { value: executorId } }),
    };
    this.updates.add(frameworkId, status);
  }

  kill(frameworkId: string, taskId: string, gracePeriodMs: number | undefined, sendKilling: boolean): boolean {
    const entry = this.tasks.get(Agent.key(frameworkId, taskId));
    if (!entry || entry.terminal) return false;
    entry.running?.kill(gracePeriodMs, sendKilling);
    return true;
  }

  /** Returns the acknowledged status if it was the awaited one. */
  acknowledge(frameworkId: string, taskId: string, uuid: string): TaskStatus | undefined {
    const status = this.updates.acknowledge(frameworkId, taskId, uuid);
    if (status && isTerminalState(status.state)) this.tasks.delete(Agent.key(frameworkId, taskId));
    return status;
  }

  /** Re-sends unacknowledged updates now (framework re-subscribed, new leader). */
  resumeUpdates(frameworkId?: string): void {
    this.updates.resume(frameworkId);
  }

  /** The framework was removed: kill its tasks without further updates. */
  shutdownFramework(frameworkId: string): void {
    for (const [key, entry] of this.tasks) {
      if (entry.frameworkId !== frameworkId) continue;
      entry.running?.destroy();
      this.tasks.delete(key);
    }
    this.updates.removeFramework(frameworkId);
  }

  /** The agent is gone (partition or crash): everything on it stops silently. */
  lose(): void {
    this.incarnation++;
    for (const entry of this.tasks.values()) entry.running?.destroy();
    this.tasks.clear();
    this.updates.stop();
  }

  /**
   * A restart with recovery: tasks of checkpointing frameworks survive and
   * their pending updates are re-sent; tasks of other frameworks are gone, and
   * the agent answers the master's reconciliation with TASK_LOST (TASK_DROPPED
   * for partition-aware frameworks), as slave.cpp does for unknown tasks.
   */
  restart(isCheckpointing: (frameworkId: string) => boolean, isPartitionAware: (frameworkId: string) => boolean): void {
    const lost: Array<{ frameworkId: string; taskId: string }> = [];
    for (const [key, entry] of this.tasks) {
      if (isCheckpointing(entry.frameworkId)) continue;
      entry.running?.destroy();
      entry.terminal = true;
      this.tasks.delete(key);
      lost.push({ frameworkId: entry.frameworkId, taskId: entry.info.task_id.value });
    }
    for (const fw of new Set(lost.map((l) => l.frameworkId))) this.updates.removeFramework(fw);
    for (const { frameworkId, taskId } of lost) {
      this.sendUpdate(frameworkId, taskId, {
        state: isPartitionAware(frameworkId) ? 'TASK_DROPPED' : 'TASK_LOST',
        source: 'SOURCE_AGENT',
        reason: 'REASON_RECONCILIATION',
        message: 'Reconciliation: task unknown to the agent',
      });
    }
    this.updates.resume();
  }

  stop(): void {
    this.incarnation++;
    for (const entry of this.tasks.values()) entry.running?.destroy();
    this.tasks.clear();
    this.updates.stop();
  }
}
