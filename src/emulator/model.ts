/**
 * The master's records of frameworks, agents, offers and tasks. One set of
 * records is shared by all emulated masters: it stands for what a new leader
 * recovers from the registry and from re-registering agents.
 */
import type { FrameworkInfo, TaskInfo, TaskState, TaskStatus } from '../mesos/types.js';
import type { Agent } from './agent.js';
import type { LongTimeout } from './long-timeout.js';
import type { ResourceBag } from './resources.js';
import type { SchedulerStream } from './scheduler-stream.js';

export interface TaskRecord {
  taskId: string;
  frameworkId: string;
  agentId: string;
  info: TaskInfo;
  resources: ResourceBag;
  /** The newest state the agent reported (Task.state in Mesos). */
  state: TaskState;
  /** State of the update forwarded and not yet acknowledged (Task.status_update_state). */
  statusUpdateState: TaskState | undefined;
  latestStatus: TaskStatus | undefined;
  launchedAt: number;
  endedAt: number | undefined;
  sandbox: string | undefined;
  /** Resources went back to the agent (the task reached a terminal state). */
  resourcesRecovered: boolean;
}

export interface RefusalFilter {
  /** Offers of resources contained in these are refused until the timer fires. */
  refused: ResourceBag;
  /** The role of the refused offer (REVIVE with roles clears only those roles' filters). */
  role: string;
  timer: LongTimeout;
}

export interface FrameworkRecord {
  id: string;
  info: FrameworkInfo;
  roles: string[];
  multiRole: boolean;
  partitionAware: boolean;
  killingState: boolean;
  stream: SchedulerStream | undefined;
  connected: boolean;
  active: boolean;
  removed: boolean;
  suppressedRoles: Set<string>;
  offers: Set<string>;
  tasks: Map<string, TaskRecord>;
  /** Terminal and acknowledged tasks, newest last (bounded). */
  completedTasks: TaskRecord[];
  /** Ids of tasks that went TASK_UNREACHABLE (partition-aware): they cannot be reused. */
  unreachableTaskIds: Set<string>;
  filters: Map<string, RefusalFilter>;
  /** Agents that may have something to offer this framework (checked lazily by the allocator). */
  candidates: Set<string>;
  failoverTimer: LongTimeout | undefined;
  registeredAt: number;
  /** Resources offered to or used by the framework (for the allocator's fair share). */
  allocated: { cpus: number; mem: number };
}

export interface AgentRecord {
  id: string;
  hostname: string;
  total: ResourceBag;
  /** Neither offered nor used by tasks. */
  free: ResourceBag;
  offers: Set<string>;
  /** Keys frameworkId\0taskId of non-removed tasks on this agent. */
  tasks: Set<string>;
  registered: boolean;
  /** After a leader change, until the agent re-registers: no offers, updates, or answers about its tasks. */
  recovering: boolean;
  unreachableTime: { nanoseconds: number } | undefined;
  runtime: Agent;
}

export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  resources: ResourceBag;
  role: string;
  timer: NodeJS.Timeout | undefined;
}

export function frameworkSuppressed(fw: FrameworkRecord): boolean {
  return fw.roles.every((r) => fw.suppressedRoles.has(r));
}

/** Adds (sign 1) or removes (sign -1) resources from a framework's allocation. */
export function charge(fw: FrameworkRecord, r: ResourceBag, sign: 1 | -1): void {
  fw.allocated.cpus = Math.max(0, Math.round((fw.allocated.cpus + sign * r.cpus) * 1000) / 1000);
  fw.allocated.mem = Math.max(0, Math.round((fw.allocated.mem + sign * r.mem) * 1000) / 1000);
}

export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export const MAX_COMPLETED_TASKS_PER_FRAMEWORK = 1000;
