/**
 * What Mesos task states mean to this scheduler (pure). The one list of
 * terminal task states: the scheduler, the embedded master and the tests use it.
 *
 * Terminal is what Mesos itself treats as terminal (`isTerminalState` in
 * src/common/protobuf_utils.cpp; the `// TERMINAL` marks in
 * include/mesos/v1/mesos.proto): a task in one of these states never changes
 * again. TASK_UNREACHABLE ("may or may not still be running") and
 * TASK_UNKNOWN (the master has no knowledge of the task; "may or may not
 * still be running") are not: Mesos sends them to PARTITION_AWARE frameworks
 * only (this one is not, and gets TASK_LOST instead), and a task in either is
 * still awaited.
 * Only TASK_FINISHED counts as success; every other terminal state — including
 * TASK_LOST/GONE/DROPPED from reconciliation — is a failure of that task.
 */
import type { TaskState } from '../../src/mesos/types.js';

export const TERMINAL_TASK_STATES: readonly TaskState[] = Object.freeze([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

const TERMINAL: ReadonlySet<string> = new Set<string>(TERMINAL_TASK_STATES);

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
