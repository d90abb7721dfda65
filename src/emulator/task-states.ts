/** Task state predicates shared by the emulated master and agents: the scheduler's one list (Mesos' own). */
import type { TaskState } from '../mesos/types.js';
import { isTerminalState as isTerminal } from '../../machines/policy/task-status.js';

export function isTerminalState(state: TaskState): boolean {
  return isTerminal(state);
}
