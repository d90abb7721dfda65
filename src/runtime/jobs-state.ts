/**
 * `--jobs`: one PersistedState for every job. Each job actor persists its own
 * state (its round, its tasks, and its entry in `jobs`: schedule position,
 * successes, consumed parent rounds); this combines the newest state of every
 * job into the one state the store writes: every job's entry in `jobs`, every
 * job's tasks in `tasks` (each naming its job), the top-level round fields
 * summing them up.
 *
 * Write-ahead is kept: a job's persist gives a combined persist at once, in
 * the same order. The states are read lazily, when the store writes.
 */
import type { JobRun, PersistedJob, PersistedState, PersistParams, StateDelta } from '../../machines/contract.js';
import { jobStateOf } from '../../machines/supervisor/supervisor.context.js';

export class JobsStateCombiner {
  private readonly frameworkName: string;
  private readonly jobs: readonly JobRun[];
  /** The newest persist of each job (lazy states), or its part of the restored state. */
  private readonly latest = new Map<string, { readonly state: PersistedState; readonly delta?: StateDelta }>();
  /** When each job's current cooldown ends (its state says only that it is in one). */
  private readonly cooldowns = new Map<string, { round: number; until: number }>();
  private frameworkId: string | undefined;
  private readonly digest: string | undefined;

  constructor(options: { frameworkName: string; jobs: readonly JobRun[]; restored?: PersistedState; digest?: string }) {
    this.frameworkName = options.frameworkName;
    this.jobs = options.jobs;
    this.digest = options.digest;
    this.frameworkId = options.restored?.frameworkId;
    for (const job of options.jobs) {
      const state = jobStateOf(options.restored, job.name);
      if (state !== undefined) this.latest.set(job.name, { state });
    }
  }

  /** A job's persist → the persist of the whole state. `at`: when it was made (stamps cooldown ends). */
  persist(params: PersistParams, at: number): PersistParams {
    const name = params.delta?.header.frameworkName ?? params.state.frameworkName;
    this.latest.set(name, params);
    const fromDelta = params.delta !== undefined;
    if (fromDelta) this.frameworkId = params.delta.header.frameworkId;
    let state: PersistedState | undefined;
    const build = (): PersistedState => {
      if (!fromDelta) this.frameworkId = params.state.frameworkId;
      state ??= this.combine(at);
      return state;
    };
    if (params.delta === undefined) return { get state() { return build(); } };
    const delta: StateDelta = {
      header: this.header(at),
      upsert: params.delta.upsert.map((t) => ({ ...t, job: name })),
      remove: params.delta.remove,
    };
    return { delta, get state() { return build(); } };
  }

  private entryOf(name: string, at: number): PersistedJob | undefined {
    const latest = this.latest.get(name);
    if (latest === undefined) return undefined;
    // The header of a delta is cheap; the whole state is built only without one.
    const state = latest.delta?.header ?? latest.state;
    const def = this.jobs.find((j) => j.name === name);
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
    for (const job of this.jobs) {
      const entry = this.entryOf(job.name, at);
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
    for (const job of this.jobs) {
      for (const task of this.latest.get(job.name)?.state.tasks ?? []) tasks.push({ ...task, job: job.name });
    }
    return { ...this.header(at), tasks };
  }
}
