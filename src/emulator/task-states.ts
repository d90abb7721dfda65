/** Task state predicates shared by the emulated master and agents. */
import type { TaskState } from '../mesos/types.js';

const TERMINAL = new Set<TaskState>([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

export function isTerminalState(state: TaskState): boolean {
  return TERMINAL.has(state);
}
