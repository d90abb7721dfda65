/**
 * What Mesos task states mean to this scheduler (pure).
 *
 * Terminal states never change again (Mesos guarantees it for a task id).
 * TASK_UNREACHABLE is not terminal: the agent may come back (partition-aware
 * frameworks see it; others get TASK_LOST from the master instead).
 * Only TASK_FINISHED counts as success; every other terminal state — including
 * TASK_LOST/GONE/UNKNOWN/DROPPED from reconciliation — is a failure of that task.
 */
import type { TaskState } from '../../src/mesos/types.js';

const TERMINAL: ReadonlySet<string> = new Set<TaskState>([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED',
  'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN',
]);

export function isTerminalState(state: string): boolean {
  return TERMINAL.has(state);
}

export function isSuccessState(state: string): boolean {
  return state === 'TASK_FINISHED';
}

/** Terminal and not a success. */
export function isFailureState(state: string): boolean {
  return isTerminalState(state) && !isSuccessState(state);
}
