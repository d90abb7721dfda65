/**
 * The jobs this scheduler runs, as everything outside the machines sees them:
 * the API and the dashboard (their definitions), the run history (a recorder
 * per job) and the metrics (a `job` label per job). The flags' one job, or
 * the jobs of a `--jobs` file; the one owner of that list.
 *
 * A SIGHUP reload changes it as the supervisor took the new file: added jobs
 * come in, changed ones get their new definition. A removed job stays until
 * it is forgotten (its running tasks got their grace and ended), and then
 * leaves. Every change is announced once, as the `jobsChanged` signal.
 */
import type { JobConfig } from '../../machines/contract.js';
import type { Signals } from './signals.js';

export type CatalogueJob = Readonly<Omit<JobConfig, 'runId'>>;

export class JobCatalogue {
  private readonly jobs = new Map<string, CatalogueJob>();
  private listed: readonly CatalogueJob[] | undefined;
  private named: readonly string[] | undefined;

  constructor(jobs: readonly CatalogueJob[], private readonly signals: Signals) {
    for (const job of jobs) this.jobs.set(job.name, job);
  }

  /** Every job, in the order they came (the file's, added ones last). */
  list(): readonly CatalogueJob[] {
    this.listed ??= [...this.jobs.values()];
    return this.listed;
  }

  /** Cheap: read for every task signal (which job a task id names). */
  names(): readonly string[] {
    this.named ??= [...this.jobs.keys()];
    return this.named;
  }

  get(name: string): CatalogueJob | undefined {
    return this.jobs.get(name);
  }

  /**
   * A reload as the supervisor took it: the jobs it added and changed, with
   * their definitions from `definitions` (the new file). Removed jobs stay
   * until `forget`.
   */
  reloaded(definitions: readonly CatalogueJob[], taken: { added: readonly string[]; changed: readonly string[] }): void {
    const byName = new Map(definitions.map((job) => [job.name, job]));
    const added = taken.added.filter((name) => byName.has(name));
    const changed = taken.changed.filter((name) => byName.has(name));
    // An added job goes last (also one added back after it was forgotten).
    for (const name of added) this.jobs.delete(name);
    for (const name of [...added, ...changed]) this.jobs.set(name, byName.get(name)!);
    this.changed(added, changed, []);
  }

  /** A removed job has ended: it leaves. */
  forget(name: string): void {
    if (!this.jobs.delete(name)) return;
    this.changed([], [], [name]);
  }

  private changed(added: string[], changed: string[], removed: string[]): void {
    if (added.length + changed.length + removed.length === 0) return;
    this.listed = undefined;
    this.named = undefined;
    this.signals.emit('jobsChanged', { added, changed, removed });
  }
}
