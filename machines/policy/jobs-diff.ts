/**
 * What a reload of the jobs file changes (pure): jobs added, removed, changed
 * and unchanged, matched by name. A changed job takes its new definition from
 * its next round; a removed one starts no new round, its running tasks get
 * its `grace` and are then killed. Definitions are plain data, compared by
 * value.
 */

export interface JobsDiff<T extends { name: string }> {
  added: T[];
  removed: T[];
  changed: { before: T; after: T }[];
  unchanged: T[];
}

/** Deep equality of plain data (objects, arrays, primitives). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function diffJobs<T extends { name: string }>(before: readonly T[], after: readonly T[]): JobsDiff<T> {
  const old = new Map(before.map((j) => [j.name, j]));
  const now = new Set(after.map((j) => j.name));
  const diff: JobsDiff<T> = { added: [], removed: before.filter((j) => !now.has(j.name)), changed: [], unchanged: [] };
  for (const job of after) {
    const previous = old.get(job.name);
    if (previous === undefined) diff.added.push(job);
    else if (sameData(previous, job)) diff.unchanged.push(job);
    else diff.changed.push({ before: previous, after: job });
  }
  return diff;
}
