/**
 * The JSON the API answers with (described in openapi.ts): a job's summary
 * and detail, its runs, and pages of the tasks of its rounds in flight, built from the
 * run history (src/history), the live state view and the job's definition.
 */
import type { JobConfig } from '../../../machines/contract.js';
import type { RunHistory, RunRecord, TaskRow } from '../../history/index.js';
import type { JobView, StateViewSnapshot } from '../state-view.js';
import type { JobMachineState } from './job-control.js';

/**
 * What the API reads of a job's definition (JobConfig; never its environment:
 * it may hold secrets). `graceSeconds` is the kill policy of a control kill.
 */
export type JobDefinitionView = Pick<JobConfig, 'name' | 'cmd' | 'cpus' | 'memMb' | 'maxTasks' | 'waitSeconds' | 'rounds' | 'role' | 'image' | 'graceSeconds'>;

export type JobState = 'waiting' | 'running' | 'cooldown' | 'paused' | 'done';

/** Runs shown in a job's sparkline. */
export const RECENT_RUNS = 30;

export interface JobSources {
  history: RunHistory;
  definitions: () => readonly JobDefinitionView[];
  /** The live view (with `--jobs` each job's rounds are under its `jobs`). */
  view: (job: string) => StateViewSnapshot | undefined;
  /** The job machine's phase, when the job runs in this process. */
  machine?: (job: string) => JobMachineState | undefined;
  /** Whether the control API (run, pause, resume, kill) is there. */
  controls?: boolean;
  /** Links to a task's output (stdout, stderr) or sandbox, when known. */
  outputLinks?: (job: string, task: TaskRow) => TaskOutputLinks | undefined;
}

export type TaskOutputLinks = { stdout: string; stderr: string } | { sandbox: string };

export function jobState(def: JobDefinitionView, view: StateViewSnapshot | undefined, machine: JobMachineState | undefined): JobState {
  if (machine) {
    switch (machine.phase) {
      case 'round': case 'draining': return 'running';
      case 'cooldown': return 'cooldown';
      case 'paused': return 'paused';
      case 'done': return 'done';
      // `idle`: waiting for its schedule or its parents.
      default: return 'waiting';
    }
  }
  const job = view === undefined ? undefined : jobViewOf(view, def.name);
  switch (job?.phase) {
    case 'round': return 'running';
    case 'cooldown': return 'cooldown';
    case 'finished': return def.rounds > 0 && job.round >= def.rounds ? 'done' : 'running';
    default: return 'waiting';
  }
}

/** The rounds of `name` in the live view: its own with `--jobs`, else the job of the flags. */
export function jobViewOf(view: StateViewSnapshot, name: string): JobView {
  return view.jobs?.[name] ?? view.job;
}

export function jobSummary(def: JobDefinitionView, sources: JobSources) {
  const snapshot = sources.view(def.name);
  const view = snapshot === undefined ? undefined : { job: jobViewOf(snapshot, def.name) };
  const machine = sources.machine?.(def.name);
  const runs = sources.history.runs(def.name);
  const state = jobState(def, snapshot, machine);
  const last = runs.at(-1);
  return {
    name: def.name,
    state,
    round: view?.job.round ?? last?.round ?? 0,
    nextStartAt: state === 'cooldown' ? view?.job.cooldownUntil ?? null : null,
    paused: machine?.paused ?? false,
    controls: sources.controls === true,
    definition: {
      cmd: def.cmd, cpus: def.cpus, memMb: def.memMb, maxTasks: def.maxTasks, waitSeconds: def.waitSeconds, rounds: def.rounds, role: def.role,
      ...(def.image !== undefined ? { image: def.image } : {}),
    },
    lastRun: last ?? null,
    recentRuns: runs.slice(-RECENT_RUNS).map(brief),
    roundsInFlight: sources.history.inFlight(def.name).map(brief),
  };
}

function brief(r: RunRecord) {
  return { run: r.run, round: r.round, outcome: r.outcome, startedAt: r.startedAt, durationMs: r.durationMs ?? null };
}

export function jobDetail(def: JobDefinitionView, sources: JobSources) {
  const view = sources.view(def.name);
  const tasks = sources.history.tasks(def.name);
  const taskStates: Record<string, number> = {};
  for (const task of tasks.values()) taskStates[task.state] = (taskStates[task.state] ?? 0) + 1;
  return {
    ...jobSummary(def, sources),
    currentRun: sources.history.current(def.name) ?? null,
    tasks: { total: tasks.size, states: taskStates },
    framework: view
      ? { id: view.framework.id, master: view.framework.master, subscribed: view.framework.subscribed, fatal: view.framework.fatal }
      : { id: null, master: null, subscribed: false, fatal: null },
  };
}

/** Newest first. */
export function runsOf(job: string, history: RunHistory): { job: string; limit: number; runs: RunRecord[] } {
  return { job, limit: history.limit, runs: [...history.runs(job)].reverse() };
}

export type TaskFilter = 'all' | 'active' | 'finished' | 'failed';
export const TASK_FILTERS: readonly TaskFilter[] = ['all', 'active', 'finished', 'failed'];

function keep(filter: TaskFilter, task: TaskRow): boolean {
  switch (filter) {
    case 'all': return true;
    case 'active': return task.endedAt === undefined;
    case 'finished': return task.ok === true;
    case 'failed': return task.ok === false;
  }
}

/** One page of the tasks of the rounds in flight (else of the latest round), in launch order. */
export function taskPage(job: string, sources: JobSources, page: { offset: number; limit: number; filter: TaskFilter }) {
  const run = sources.history.current(job) ?? sources.history.runs(job).at(-1);
  const inFlight = sources.history.inFlight(job);
  const rounds = inFlight.length > 0 ? inFlight.map((r) => r.round) : run === undefined ? [] : [run.round];
  const tasks: ReturnType<typeof taskView>[] = [];
  let total = 0;
  for (const task of sources.history.tasks(job).values()) {
    if (!keep(page.filter, task)) continue;
    if (total >= page.offset && tasks.length < page.limit) tasks.push(taskView(job, task, sources));
    total++;
  }
  return { job, run: run?.run ?? null, round: run?.round ?? null, rounds, filter: page.filter, offset: page.offset, limit: page.limit, total, tasks };
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function taskView(job: string, task: TaskRow, sources: JobSources) {
  const output = sources.outputLinks?.(job, task);
  const launchedAt = iso(task.launchedAt);
  const endedAt = iso(task.endedAt);
  return {
    taskId: task.taskId,
    round: task.round,
    state: task.state,
    ...(task.agentId !== undefined ? { agentId: task.agentId } : {}),
    ...(task.reason !== undefined ? { reason: task.reason } : {}),
    ...(task.source !== undefined ? { source: task.source } : {}),
    ...(task.message !== undefined ? { message: task.message } : {}),
    ...(launchedAt !== undefined ? { launchedAt } : {}),
    updatedAt: new Date(task.updatedAt).toISOString(),
    ...(endedAt !== undefined ? { endedAt } : {}),
    ...(task.ok !== undefined ? { ok: task.ok } : {}),
    ...(output !== undefined ? { output } : {}),
  };
}
