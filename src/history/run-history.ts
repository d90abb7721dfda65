/**
 * The run history of every job in memory: the last `limit` runs per job (see
 * run-record.ts), and the tasks of each job's rounds in flight (the latest
 * round until the next one starts; with `concurrency: allow` several rounds
 * run at once, each its own run) with their state, agent, source and times.
 * It is the one owner of both; the API, the dashboard's live stream, the
 * notifications and the persistence read it and listen to its changes.
 *
 * It is fed by recorder.ts from the runtime's signals, one job at a time.
 */
import { FAILURES_LISTED, MESSAGE_LIMIT, type FailedTask, type HistoryDocument, type JobHistory, type RunRecord } from './run-record.js';

export interface TaskRow {
  taskId: string;
  /** The round the task belongs to. */
  round: number;
  /** Mesos task state (TASK_STAGING ... TASK_FINISHED); PENDING before its first update; NOT_LAUNCHED when its ACCEPT never reached the master. */
  state: string;
  agentId?: string;
  reason?: string;
  source?: string;
  message?: string;
  /** ms since epoch. */
  launchedAt?: number;
  updatedAt: number;
  endedAt?: number;
  /** Set once ended: true for TASK_FINISHED. */
  ok?: boolean;
}

export type HistoryChange =
  | { kind: 'run'; job: string; run: RunRecord; what: 'started' | 'updated' | 'finished' }
  | { kind: 'task'; job: string; task: TaskRow };

interface JobEntry {
  history: JobHistory;
  /** The open runs (outcome running), oldest first: one, or several while rounds overlap. */
  open: RunRecord[];
  /** Tasks of the rounds in flight (or the latest round), in launch order. */
  tasks: Map<string, TaskRow>;
  frameworkId?: string;
}

export interface RunHistoryOptions {
  /** Runs kept per job (`--history`). */
  limit: number;
  now?: () => number;
}

function clip(text: string | undefined): string | undefined {
  return text === undefined || text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT)}…`;
}

export class RunHistory {
  readonly limit: number;
  private readonly now: () => number;
  private readonly jobs = new Map<string, JobEntry>();
  private readonly listeners = new Set<(change: HistoryChange) => void>();

  constructor(options: RunHistoryOptions) {
    this.limit = Math.max(1, options.limit);
    this.now = options.now ?? Date.now;
  }

  // ---- reading -------------------------------------------------------------

  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  hasJob(job: string): boolean {
    return this.jobs.has(job);
  }

  /** Oldest first. */
  runs(job: string): readonly RunRecord[] {
    return this.jobs.get(job)?.history.runs ?? [];
  }

  run(job: string, run: number): RunRecord | undefined {
    return this.runs(job).find((r) => r.run === run);
  }

  /** The run in progress (the newest, while rounds overlap), if any. */
  current(job: string): RunRecord | undefined {
    return this.jobs.get(job)?.open.at(-1);
  }

  /** Every run in progress, oldest first (several while rounds overlap: `concurrency: allow`). */
  inFlight(job: string): readonly RunRecord[] {
    return this.jobs.get(job)?.open ?? [];
  }

  /** Tasks of the job's rounds in flight (or its latest, until the next starts), in launch order. */
  tasks(job: string): ReadonlyMap<string, TaskRow> {
    return this.jobs.get(job)?.tasks ?? new Map();
  }

  /** Every job's history (for persistence). */
  toDocument(): HistoryDocument {
    const jobs: Record<string, JobHistory> = {};
    for (const [name, entry] of this.jobs) jobs[name] = entry.history;
    return { version: 1, jobs };
  }

  onChange(listener: (change: HistoryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- restoring -----------------------------------------------------------

  /** Takes the persisted runs of every job in `doc` (keeping the newest `limit` of each). */
  restore(doc: HistoryDocument): void {
    for (const [name, history] of Object.entries(doc.jobs)) {
      const entry = this.entry(name);
      const runs = structuredClone(history.runs.slice(-this.limit));
      entry.history = { nextRun: Math.max(history.nextRun, (runs.at(-1)?.run ?? 0) + 1), runs };
      entry.open = runs.filter((r) => r.outcome === 'running');
    }
  }

  /** Makes the job known (listed by the API) before its first round. */
  addJob(job: string): void {
    this.entry(job);
  }

  // ---- recording -----------------------------------------------------------

  subscribed(job: string, frameworkId: string): void {
    this.entry(job).frameworkId = frameworkId;
  }

  /** `overlaps`: the rounds still in flight that this one runs alongside (their runs stay open). */
  roundStarted(job: string, round: number, tasks: number, overlaps: readonly number[] = []): void {
    const entry = this.entry(job);
    const open = entry.open.find((r) => r.round === round);
    if (open && this.sameFramework(entry, open)) {
      open.tasks = tasks;
      this.emit({ kind: 'run', job, run: open, what: 'updated' });
      return;
    }
    for (const run of [...entry.open]) if (!overlaps.includes(run.round)) this.close(job, entry, run, 'interrupted');
    this.open(job, entry, round, tasks);
  }

  taskLaunched(job: string, round: number, taskId: string, agentId: string, tasksPerRound: number): void {
    const run = this.runFor(job, round, tasksPerRound);
    if (!run) return;
    const entry = this.entry(job);
    run.launched++;
    run.retried = Math.max(0, run.launched - run.tasks);
    const at = this.now();
    const row: TaskRow = entry.tasks.get(taskId) ?? { taskId, round, state: 'PENDING', updatedAt: at };
    row.agentId = agentId;
    row.launchedAt = at;
    row.updatedAt = at;
    entry.tasks.set(taskId, row);
    this.emit({ kind: 'task', job, task: row });
  }

  taskState(job: string, round: number, update: { taskId: string; state: string; reason?: string; source?: string; message?: string }, tasksPerRound: number): void {
    if (!this.runFor(job, round, tasksPerRound)) return;
    const row = this.row(job, update.taskId, round);
    if (row.endedAt !== undefined) return;
    row.state = update.state;
    row.updatedAt = this.now();
    if (update.reason !== undefined) row.reason = update.reason;
    if (update.source !== undefined) row.source = update.source;
    if (update.message !== undefined) row.message = clip(update.message);
    this.emit({ kind: 'task', job, task: row });
  }

  taskEnded(job: string, round: number, ended: { taskId: string; state: string; ok: boolean; reason?: string; message?: string }, tasksPerRound: number): void {
    const run = this.runFor(job, round, tasksPerRound);
    if (!run) return;
    const row = this.row(job, ended.taskId, round);
    if (row.endedAt !== undefined) return;
    const at = this.now();
    Object.assign(row, { state: ended.state, ok: ended.ok, updatedAt: at, endedAt: at });
    if (ended.reason !== undefined) row.reason = ended.reason;
    if (ended.message !== undefined) row.message = clip(ended.message);
    if (ended.ok) run.finished++;
    else {
      run.failed++;
      if (run.failures.length < FAILURES_LISTED) run.failures.push(failedTask(row, at));
      else run.failuresNotListed++;
    }
    this.emit({ kind: 'task', job, task: row });
    this.emit({ kind: 'run', job, run, what: 'updated' });
  }

  /** The task's ACCEPT never reached the master: it ends without counting, and the round launches another in its place. */
  taskUnlaunched(job: string, round: number, taskId: string, reason: string, tasksPerRound: number): void {
    if (!this.runFor(job, round, tasksPerRound)) return;
    const row = this.row(job, taskId, round);
    if (row.endedAt !== undefined) return;
    const at = this.now();
    Object.assign(row, { state: 'NOT_LAUNCHED', reason, updatedAt: at, endedAt: at });
    this.emit({ kind: 'task', job, task: row });
  }

  /** The machines' counts are the truth for the totals. `killed`: ended by us (a kill, a stop, a removal). */
  roundFinished(job: string, round: number, finished: number, failed: number, tasksPerRound: number, killed = false): void {
    const run = this.runFor(job, round, tasksPerRound);
    if (!run) return;
    run.finished = finished;
    run.failed = failed;
    run.failuresNotListed = Math.max(0, failed - run.failures.length);
    this.close(job, this.entry(job), run, killed ? 'killed' : failed > 0 ? 'failed' : 'succeeded');
  }

  /** The scheduler stops while rounds are open and will not carry them on (its state is reset). */
  interruptOpen(job: string): void {
    const entry = this.jobs.get(job);
    for (const run of [...(entry?.open ?? [])]) this.close(job, entry!, run, 'interrupted');
  }

  // ---- internals -----------------------------------------------------------

  private entry(job: string): JobEntry {
    let entry = this.jobs.get(job);
    if (!entry) {
      entry = { history: { nextRun: 1, runs: [] }, open: [], tasks: new Map() };
      this.jobs.set(job, entry);
    }
    return entry;
  }

  private sameFramework(entry: JobEntry, run: RunRecord): boolean {
    return run.frameworkId === undefined || entry.frameworkId === undefined || run.frameworkId === entry.frameworkId;
  }

  /**
   * The run of `round`: an open one; after a restart or takeover that carries
   * a round on (no roundStarted), the latest run of that round under the same
   * framework, reopened; else a new run. Undefined for an earlier round.
   */
  private runFor(job: string, round: number, tasksPerRound: number): RunRecord | undefined {
    const entry = this.entry(job);
    const open = entry.open;
    // One or two rounds are open: a scan is the cheapest look-up.
    for (const run of open) if (run.round === round) return run;
    if (open.some((r) => r.round > round)) return undefined;
    const last = entry.history.runs.at(-1);
    if (open.length === 0 && last && last.round === round && this.sameFramework(entry, last)) {
      if (last.outcome === 'running' || last.outcome === 'interrupted') {
        last.outcome = 'running';
        delete last.endedAt;
        delete last.durationMs;
        entry.open = [last];
        this.emit({ kind: 'run', job, run: last, what: 'updated' });
        return last;
      }
      return undefined; // a late update of a round already finished
    }
    for (const run of [...open]) this.close(job, entry, run, 'interrupted');
    return this.open(job, entry, round, tasksPerRound);
  }

  private open(job: string, entry: JobEntry, round: number, tasks: number): RunRecord {
    const run: RunRecord = {
      run: entry.history.nextRun++,
      round,
      ...(entry.frameworkId !== undefined ? { frameworkId: entry.frameworkId } : {}),
      startedAt: new Date(this.now()).toISOString(),
      outcome: 'running',
      tasks, launched: 0, finished: 0, failed: 0, retried: 0, failures: [], failuresNotListed: 0,
    };
    entry.history.runs.push(run);
    if (entry.history.runs.length > this.limit) entry.history.runs.splice(0, entry.history.runs.length - this.limit);
    // The tasks of rounds no longer in flight go; those of the rounds still open stay.
    if (entry.open.length === 0) entry.tasks = new Map();
    else for (const [id, row] of entry.tasks) if (!entry.open.some((r) => r.round === row.round)) entry.tasks.delete(id);
    entry.open = [...entry.open, run];
    this.emit({ kind: 'run', job, run, what: 'started' });
    return run;
  }

  private close(job: string, entry: JobEntry, run: RunRecord, outcome: RunRecord['outcome']): void {
    if (!entry.open.includes(run)) return;
    const at = this.now();
    run.outcome = outcome;
    run.endedAt = new Date(at).toISOString();
    run.durationMs = Math.max(0, at - Date.parse(run.startedAt));
    entry.open = entry.open.filter((r) => r !== run);
    this.emit({ kind: 'run', job, run, what: 'finished' });
  }

  private row(job: string, taskId: string, round: number): TaskRow {
    const tasks = this.entry(job).tasks;
    let row = tasks.get(taskId);
    if (!row) {
      row = { taskId, round, state: 'PENDING', updatedAt: this.now() };
      tasks.set(taskId, row);
    }
    return row;
  }

  private emit(change: HistoryChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // listeners must not throw; one that does must not stop the others
      }
    }
  }
}

function failedTask(row: TaskRow, at: number): FailedTask {
  return {
    taskId: row.taskId,
    state: row.state,
    ...(row.reason !== undefined ? { reason: row.reason } : {}),
    ...(row.source !== undefined ? { source: row.source } : {}),
    ...(row.message !== undefined ? { message: row.message } : {}),
    ...(row.agentId !== undefined ? { agentId: row.agentId } : {}),
    endedAt: new Date(at).toISOString(),
  };
}
