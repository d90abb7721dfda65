/**
 * The master's records of frameworks, agents, offers and tasks. One set of
 * records is shared by all emulated masters: it stands for what a new leader
 * recovers from the registry and from re-registering agents.
 */
import type { Attribute, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, TaskStatus } from '../mesos/types.js';
import type { Agent } from './agent.js';
import type { LongTimeout } from './long-timeout.js';
import { scalarTotals, type ResourceBag } from './resources.js';
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
  /** The default executor running the task (LAUNCH_GROUP); command tasks have none here. */
  executorId: string | undefined;
  /** The role the task's resources are allocated to (its offer's). */
  role: string;
}

/** A default executor on an agent (LAUNCH_GROUP): alive while it has tasks that have not ended. */
export interface ExecutorRecord {
  frameworkId: string;
  info: ExecutorInfo;
  resources: ResourceBag;
  role: string;
  /** The executor's run (container) id: its sandbox is `.../executors/<id>/runs/<runId>`. */
  runId: string;
  liveTasks: Set<string>;
}

export interface RefusalFilter {
  /** Offers of resources contained in these are refused until the timer fires. */
  refused: ResourceBag;
  /** The role of the refused offer (REVIVE with roles clears only those roles' filters). */
  role: string;
  agentId: string;
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
  /** Refusal filters by role and agent (filterKey), as the allocator keeps them. */
  filters: Map<string, RefusalFilter>;
  /** Agents that may have something to offer this framework (checked lazily by the allocator). */
  candidates: Set<string>;
  failoverTimer: LongTimeout | undefined;
  registeredAt: number;
  /** Resources offered to or used by the framework (for the allocator's fair share). */
  allocated: { cpus: number; mem: number };
  /** The same by role (for the allocator's role shares). */
  allocatedByRole: Map<string, { cpus: number; mem: number }>;
}

export interface AgentRecord {
  id: string;
  hostname: string;
  /** The agent's attributes (its --attributes), sent with every offer. */
  attributes: Attribute[];
  total: ResourceBag;
  /** Neither offered nor used by tasks. */
  free: ResourceBag;
  offers: Set<string>;
  /** Running default executors, by frameworkId\0executorId. */
  executors: Map<string, ExecutorRecord>;
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

/** Adds (sign 1) or removes (sign -1) resources from a framework's allocation to a role. */
export function charge(fw: FrameworkRecord, bag: ResourceBag, sign: 1 | -1, role: string): void {
  const r = scalarTotals(bag);
  const add = (a: { cpus: number; mem: number }): void => {
    a.cpus = Math.max(0, Math.round((a.cpus + sign * r.cpus) * 1000) / 1000);
    a.mem = Math.max(0, Math.round((a.mem + sign * r.mem) * 1000) / 1000);
  };
  add(fw.allocated);
  let byRole = fw.allocatedByRole.get(role);
  if (!byRole) { byRole = { cpus: 0, mem: 0 }; fw.allocatedByRole.set(role, byRole); }
  add(byRole);
}

/** The key of a refusal filter: Mesos keeps them per role and agent. */
export function filterKey(role: string, agentId: string): string {
  return `${role}\u0000${agentId}`;
}

export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export const MAX_COMPLETED_TASKS_PER_FRAMEWORK = 1000;
