/**
 * Which states of the framework, job and task charts are active right now,
 * as the chart's state ids (`framework.operating.connection.session.subscribed`,
 * the `<title>` of the node in visualizations/*.svg): the dashboard lights
 * them. Tasks are many: their chart gets a count per state.
 */
import type { AnyActorRef } from 'xstate';
import type { TaskRow } from '../../history/index.js';

export interface ActiveStates {
  framework: string[];
  job: string[];
  /** Task chart state id → how many tasks are in it. */
  task: Record<string, number>;
}

type Snapshot = { value?: unknown; status?: string; children?: Record<string, AnyActorRef | undefined> };

/** `{ a: { b: 'c' }, d: 'e' }` under `m` → `['m.a.b.c', 'm.d.e']`. */
export function leafIds(prefix: string, value: unknown): string[] {
  if (typeof value === 'string') return [`${prefix}.${value}`];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => leafIds(`${prefix}.${key}`, inner));
}

function machineId(ref: AnyActorRef, fallback: string): string {
  const id = (ref as { logic?: { id?: unknown } }).logic?.id;
  return typeof id === 'string' ? id : fallback;
}

/** A task's place on the task chart from its Mesos state, when no task actor says it. */
function taskStateId(row: TaskRow): string {
  if (row.endedAt !== undefined) return row.ok ? 'task.finished' : 'task.failed';
  switch (row.state) {
    case 'PENDING': return row.launchedAt === undefined ? 'task.alive.pending' : 'task.alive.launched';
    case 'TASK_STAGING': return 'task.alive.staging';
    case 'TASK_STARTING': return 'task.alive.starting';
    case 'TASK_RUNNING': return 'task.alive.running';
    case 'TASK_KILLING': return 'task.alive.killing';
    default: return 'task.alive.launched';
  }
}

export function activeStates(framework: AnyActorRef | undefined, tasks: Iterable<TaskRow>): ActiveStates {
  const out: ActiveStates = { framework: [], job: [], task: {} };
  if (framework === undefined) return out;
  const snapshot = framework.getSnapshot() as Snapshot;
  out.framework = leafIds(machineId(framework, 'framework'), snapshot.value);
  const job = snapshot.children?.['job'];
  let counted = false;
  if (job) {
    const jobSnapshot = job.getSnapshot() as Snapshot;
    out.job = leafIds(machineId(job, 'job'), jobSnapshot.value);
    for (const child of Object.values(jobSnapshot.children ?? {})) {
      if (!child || machineId(child, '') !== 'task') continue;
      const value = (child.getSnapshot() as Snapshot).value;
      for (const id of leafIds('task', value)) out.task[id] = (out.task[id] ?? 0) + 1;
      counted = true;
    }
  }
  if (!counted) {
    for (const row of tasks) {
      if (row.endedAt !== undefined) continue; // ended tasks' actors are stopped
      const id = taskStateId(row);
      out.task[id] = (out.task[id] ?? 0) + 1;
    }
  }
  return out;
}
