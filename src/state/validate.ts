/**
 * Reading persisted state safely: JSON text -> PersistedState, or a
 * StateStoreError that says where the state is, what is wrong and what to do.
 * Shared by the state file and the ZooKeeper store.
 */
import type { PersistedState, PersistedTask } from '../../machines/contract.js';
import { StateStoreError } from './store.js';

/** Where the state lives and how the user can get past a bad one (used in messages). */
export interface StateLocation {
  /** e.g. `state file /home/u/.local/state/mesos-http-scheduler/etl.json` */
  what: string;
  /** What to do when it is corrupt, e.g. `move it away or pass another --state-file`. */
  remedy: string;
}

/** The highest (and only) state format version this program reads and writes. */
export const STATE_VERSION = 1;

/**
 * Parses stored state text. Another framework's state -> STATE_FOREIGN;
 * anything unreadable or malformed -> STATE_CORRUPT.
 */
export function parsePersistedState(text: string, expectedFrameworkName: string, where: StateLocation): PersistedState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corruptState(where, `not JSON: ${(err as Error).message}`, err);
  }
  return checkPersistedState(value, expectedFrameworkName, where);
}

/** Checks a parsed value as parsePersistedState does. */
export function checkPersistedState(value: unknown, expectedFrameworkName: string, where: StateLocation): PersistedState {
  if (!isObject(value)) throw corruptState(where, 'not a JSON object');
  if (typeof value['frameworkName'] === 'string' && value['frameworkName'] !== expectedFrameworkName) {
    throw new StateStoreError(
      'STATE_FOREIGN',
      `${where.what} belongs to framework '${value['frameworkName']}', not '${expectedFrameworkName}'; it was left untouched. ` +
        `Use the framework name it was written for, or give '${expectedFrameworkName}' its own state (${where.remedy}).`,
    );
  }
  const problem = shapeProblem(value);
  if (problem) throw corruptState(where, problem);
  return value as unknown as PersistedState;
}

/** STATE_CORRUPT: `why` the state at `where` is not valid, and how to get past it. */
export function corruptState(where: StateLocation, why: string, cause?: unknown): StateStoreError {
  return new StateStoreError(
    'STATE_CORRUPT',
    `${where.what} is not valid state (${why}); it was left untouched. To go on, ${where.remedy}. ` +
      'Starting afresh forgets the framework id: tasks still running under it are not adopted.',
    cause === undefined ? undefined : { cause },
  );
}

/** Serializes state for storage (stable field order, trailing newline). */
export function serializePersistedState(state: PersistedState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** What is wrong with `v` as a PersistedState, or undefined when it is one. */
export function shapeProblem(v: Record<string, unknown>): string | undefined {
  if (v['version'] !== STATE_VERSION) {
    return typeof v['version'] === 'number' && v['version'] > STATE_VERSION
      ? `format version ${v['version']} was written by a newer mesos-http-scheduler; this one reads version ${STATE_VERSION}`
      : `format version ${JSON.stringify(v['version'])}, expected ${STATE_VERSION}`;
  }
  if (typeof v['frameworkName'] !== 'string' || v['frameworkName'] === '') return 'frameworkName missing';
  if (v['frameworkId'] !== undefined && (typeof v['frameworkId'] !== 'string' || v['frameworkId'] === '')) return 'frameworkId is not a string';
  if (!isCount(v['round'])) return 'round is not a non-negative integer';
  if (!isCount(v['completedRounds'])) return 'completedRounds is not a non-negative integer';
  if (typeof v['allFinished'] !== 'boolean') return 'allFinished is not a boolean';
  if (v['phase'] !== 'round' && v['phase'] !== 'cooldown') return `phase ${JSON.stringify(v['phase'])} is not 'round' or 'cooldown'`;
  for (const k of ['updatedAt', 'cooldownUntil']) {
    if (v[k] !== undefined && (typeof v[k] !== 'number' || !Number.isFinite(v[k]))) return `${k} is not a number`;
  }
  if (v['paused'] !== undefined && v['paused'] !== true) return 'paused is not true';
  if (!Array.isArray(v['tasks'])) return 'tasks is not a list';
  for (const [i, t] of (v['tasks'] as unknown[]).entries()) {
    const p = taskProblem(t);
    if (p) return `tasks[${i}]: ${p}`;
  }
  return undefined;
}

function taskProblem(t: unknown): string | undefined {
  if (!isObject(t)) return 'not an object';
  const task = t as Partial<Record<keyof PersistedTask, unknown>>;
  if (typeof task.taskId !== 'string' || task.taskId === '') return 'taskId missing';
  if (task.agentId !== undefined && typeof task.agentId !== 'string') return 'agentId is not a string';
  if (!isCount(task.round)) return 'round is not a non-negative integer';
  if (!isCount(task.index)) return 'index is not a non-negative integer';
  if (typeof task.state !== 'string' || !/^(TASK_[A-Z_]+|PENDING_LAUNCH)$/.test(task.state)) return `state ${JSON.stringify(task.state)} is not a task state`;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
