/**
 * The dependency graph of a jobs file (pure): `after: [parent, ...]`.
 *
 * Chronos's rule: a job with parents runs a round when every parent has
 * completed a successful round since this job's last one. The state that
 * needs is per job: each parent's count of successful rounds, and per child
 * the counts it consumed when it last started. A child is ready when every
 * parent's count is above what the child consumed; starting a round consumes
 * the current counts. A parent that succeeds twice before its child runs
 * still gives one round of the child.
 */

export interface JobNode {
  name: string;
  after: readonly string[];
}

/** Names in `after` that are no job's name, as [job, unknown parent] pairs. */
export function unknownParents(jobs: readonly JobNode[]): [string, string][] {
  const names = new Set(jobs.map((j) => j.name));
  const out: [string, string][] = [];
  for (const job of jobs) for (const parent of job.after) if (!names.has(parent)) out.push([job.name, parent]);
  return out;
}

/**
 * The cycles of the graph, each as the names along it starting and ending
 * with the same job (`['a', 'b', 'a']`); a job after itself is `['a', 'a']`.
 * Each cycle is reported once. Unknown parents are ignored.
 */
export function findCycles(jobs: readonly JobNode[]): string[][] {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const parent of byName.get(name)?.after ?? []) {
      if (!byName.has(parent)) continue;
      const s = state.get(parent);
      if (s === 'visiting') {
        const cycle = stack.slice(stack.indexOf(parent));
        const key = [...cycle].sort().join('\0');
        if (!seen.has(key)) {
          seen.add(key);
          // Written in the direction of the runs: parent before child.
          const forward = [...cycle].reverse();
          cycles.push([...forward, forward[0]!]);
        }
      } else if (s === undefined) {
        visit(parent);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const job of jobs) if (!state.has(job.name)) visit(job.name);
  return cycles;
}

/** Per parent: successful rounds completed. */
export type SuccessCounts = Readonly<Record<string, number>>;

/** Whether a job with these parents may start a round (a job without parents is never held back here). */
export function isReady(parents: readonly string[], successes: SuccessCounts, consumed: SuccessCounts): boolean {
  return parents.every((p) => (successes[p] ?? 0) > (consumed[p] ?? 0));
}

/** What a child records when it starts a round: the parents' counts as they are now. */
export function consume(parents: readonly string[], successes: SuccessCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parents) out[p] = successes[p] ?? 0;
  return out;
}

/** The jobs that name `parent` in their `after`. */
export function childrenOf(jobs: readonly JobNode[], parent: string): string[] {
  return jobs.filter((j) => j.after.includes(parent)).map((j) => j.name);
}
