/**
 * Master-generated task statuses (SOURCE_MASTER, no uuid: never acknowledged)
 * and the answers to RECONCILE, following Master::reconcile in
 * src/master/master.cpp: a known task reports the state of its unacknowledged
 * update if there is one (status_update_state), else its latest state; an
 * unknown task is TASK_GONE on a registered agent, TASK_UNREACHABLE on an
 * unreachable one, TASK_UNKNOWN otherwise, and TASK_LOST for all three when
 * the framework is not PARTITION_AWARE. Tasks on agents that have not
 * re-registered with a new leader yet are unknown to it, and there is no
 * answer at all for them (nor, without an agent id, while any agent is
 * recovering): the scheduler has to retry.
 */
import type { Call, TaskState, TaskStatus } from '../mesos/types.js';
import type { AgentRecord, FrameworkRecord, TaskRecord } from './model.js';

export function masterStatus(
  taskId: string, state: TaskState, message: string, reason: string, agentId?: string,
  unreachableTime?: { nanoseconds: number }, healthy?: boolean,
): TaskStatus {
  return {
    task_id: { value: taskId },
    state,
    source: 'SOURCE_MASTER',
    message,
    reason,
    ...(agentId !== undefined ? { agent_id: { value: agentId } } : {}),
    timestamp: Date.now() / 1000,
    ...(unreachableTime ? { unreachable_time: unreachableTime } : {}),
    ...(healthy !== undefined ? { healthy } : {}),
  };
}

function latest(task: TaskRecord): TaskStatus {
  return masterStatus(
    task.taskId, task.statusUpdateState ?? task.state, 'Reconciliation: Latest task state', 'REASON_RECONCILIATION',
    task.agentId, undefined, task.latestStatus?.healthy,
  );
}

type ReconcileTasks = NonNullable<NonNullable<Call['reconcile']>['tasks']>;

/** The statuses a RECONCILE call gets (empty list = implicit: every task of the framework). */
export function reconcileStatuses(
  fw: FrameworkRecord, tasks: ReconcileTasks, agents: ReadonlyMap<string, AgentRecord>, anyAgentRecovering: boolean,
): TaskStatus[] {
  const visible = (task: TaskRecord): boolean => agents.get(task.agentId)?.recovering !== true;
  if (tasks.length === 0) return [...fw.tasks.values()].filter(visible).map(latest);
  const why = 'REASON_RECONCILIATION';
  const out: TaskStatus[] = [];
  for (const t of tasks) {
    const status = answer(t);
    if (status) out.push(status);
  }
  return out;

  function answer(t: ReconcileTasks[number]): TaskStatus | undefined {
    const known = fw.tasks.get(t.task_id.value);
    if (known && visible(known)) return latest(known);
    const id = t.task_id.value;
    const agentId = t.agent_id?.value;
    const agent = agentId === undefined ? undefined : agents.get(agentId);
    if (agent?.recovering || (agentId === undefined && anyAgentRecovering)) return undefined;
    if (agent?.registered) {
      return masterStatus(id, fw.partitionAware ? 'TASK_GONE' : 'TASK_LOST', 'Reconciliation: Task is unknown to the agent', why, agentId);
    }
    if (agent?.unreachableTime) {
      return masterStatus(id, fw.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST', 'Reconciliation: Task is unreachable', why, agentId, agent.unreachableTime);
    }
    return masterStatus(id, fw.partitionAware ? 'TASK_UNKNOWN' : 'TASK_LOST', 'Reconciliation: Task is unknown', why, agentId);
  }
}
