/**
 * `--jobs`: one PersistedState for every job. Each job actor persists its own
 * state (its round, its tasks, and its entry in `jobs`: schedule position,
 * successes, consumed parent rounds, retries); this combines the newest state
 * of every job into the one state the store writes: every job's entry in
 * `jobs`, every job's tasks in `tasks` (each naming its job), the top-level
 * round fields summing them up, and the digest of the jobs file.
 *
 * Write-ahead is kept: a job's persist gives a combined persist at once, in
 * the same order. Whole states are read lazily, when the store writes one.
 * The jobs are those of the file, plus those the restored state knows and the
 * file does not, and those a reload removed, until they are forgotten (their
 * tasks have ended).
 */
import type { JobRun, PersistedJob, PersistedState, PersistParams, StateDelta } from '../../machines/contract.js';
import { jobStateOf } from '../../machines/supervisor/supervisor.context.js';

type Latest = { readonly state: PersistedState; readonly delta?: StateDelta };

export class JobsStateCombiner {
  private readonly frameworkName: string;
  /** Every job in the state, in order, with its definition (none for one only the restored state knows). */
  private readonly defs = new Map<string, JobRun | undefined>();
  /** The newest persist of each job (lazy states), or its part of the restored state. */
  private readonly latest = new Map<string, Latest>();
  /** When each job's current cooldown ends (its state says only that it is in one). */
  private readonly cooldowns = new Map<string, { round: number; until: number }>();
  private frameworkId: string | undefined;
  private readonly digest: string | undefined;

  constructor(options: { frameworkName: string; jobs: readonly JobRun[]; restored?: PersistedState; digest?: string }) {
    this.frameworkName = options.frameworkName;
    this.digest = options.digest;
    this.frameworkId = options.restored?.frameworkId;
    for (const own of options.restored?.jobs ?? []) this.defs.set(own.name, undefined);
    for (const job of options.jobs) this.defs.set(job.name, job);
    for (const name of this.defs.keys()) {
      const state = jobStateOf(options.restored, name);
      if (state !== undefined) this.latest.set(name, { state });
    }
  }

  /** The names of the jobs in the state. */
  names(): string[] {
    return [...this.defs.keys()];
  }

  /** A reload: new and changed definitions; removed jobs stay until forgotten. */
  setJobs(jobs: readonly JobRun[]): void {
    for (const job of jobs) this.defs.set(job.name, job);
  }

  /** A job's persist → the persist of the whole state. `at`: when it was made (stamps cooldown ends). */
  persist(params: PersistParams, at: number): PersistParams {
    const name = params.delta?.header.frameworkName ?? params.state.frameworkName;
    this.latest.set(name, params);
    if (!this.defs.has(name)) this.defs.set(name, undefined);
    if (params.delta !== undefined) this.frameworkId = params.delta.header.frameworkId;
    const fromState = params.delta === undefined ? params : undefined;
    const delta: StateDelta | undefined = params.delta === undefined ? undefined : {
      header: this.header(at),
      upsert: params.delta.upsert.map((t) => ({ ...t, job: name })),
      remove: params.delta.remove,
    };
    return this.change(at, delta, fromState);
  }

  /** A removed job has ended: it leaves the state, with whatever tasks it still had there. */
  forget(name: string, at: number): PersistParams {
    const tasks = this.latest.get(name)?.state.tasks ?? [];
    this.defs.delete(name);
    this.latest.delete(name);
    this.cooldowns.delete(name);
    return this.change(at, { header: this.header(at), upsert: [], remove: tasks.map((t) => t.taskId) });
  }

  private change(at: number, delta: StateDelta | undefined, fromState?: Latest): PersistParams {
    let state: PersistedState | undefined;
    const build = (): PersistedState => {
      if (fromState !== undefined) this.frameworkId = fromState.state.frameworkId;
      state ??= this.combine(at);
      return state;
    };
    return delta === undefined ? { get state() { return build(); } } : { delta, get state() { return build(); } };
  }

  private entryOf(name: string, at: number): PersistedJob | undefined {
    const latest = this.latest.get(name);
    if (latest === undefined) return undefined;
    // The header of a delta is cheap; the whole state is built only without one.
    const state = latest.delta?.header ?? latest.state;
    const def = this.defs.get(name);
    const own = state.jobs?.find((j) => j.name === name);
    const entry: PersistedJob = own !== undefined ? { ...own } : {
      name, round: state.round, completedRounds: state.completedRounds, allFinished: state.allFinished, phase: state.phase,
    };
    const clocked = def !== undefined && def.schedule === undefined && def.after.length === 0;
    if (entry.phase === 'cooldown' && clocked && entry.cooldownUntil === undefined) {
      let cooldown = this.cooldowns.get(name);
      if (cooldown === undefined || cooldown.round !== entry.round) {
        cooldown = { round: entry.round, until: at + def.waitSeconds * 1000 };
        this.cooldowns.set(name, cooldown);
      }
      entry.cooldownUntil = cooldown.until;
    }
    return entry;
  }

  private header(at: number): Omit<PersistedState, 'tasks'> {
    const jobs: PersistedJob[] = [];
    for (const name of this.defs.keys()) {
      const entry = this.entryOf(name, at);
      if (entry !== undefined) jobs.push(entry);
    }
    const header: Omit<PersistedState, 'tasks'> = {
      version: 1,
      frameworkName: this.frameworkName,
      round: jobs.reduce((n, j) => Math.max(n, j.round), 0),
      completedRounds: jobs.reduce((n, j) => n + j.completedRounds, 0),
      allFinished: jobs.every((j) => j.allFinished),
      phase: 'round',
      jobs,
    };
    if (this.frameworkId !== undefined) header.frameworkId = this.frameworkId;
    if (this.digest !== undefined) header.jobsDigest = this.digest;
    return header;
  }

  private combine(at: number): PersistedState {
    const tasks = [];
    for (const name of this.defs.keys()) {
      for (const task of this.latest.get(name)?.state.tasks ?? []) tasks.push({ ...task, job: name });
    }
    return { ...this.header(at), tasks };
  }
}
