/**
 * Sharing one offer event among the jobs that want tasks (pure).
 *
 * Jobs are served by `priority`, higher first. Jobs of equal priority take
 * turns, one task each per turn, so two equal jobs that together want more
 * than the event holds both launch from it. The turn order of a priority
 * tier starts one job further on every event (`rotation`), so with room for
 * one task per event equal jobs still alternate and none starves.
 *
 * The caller says whether one more task of a job fits (`tryPlace`: it carves
 * the task out of the remaining offers, with the job's constraints, and
 * returns false when nothing fits). A job that did not fit is not asked again
 * in this event.
 */

export interface Demand {
  job: string;
  priority: number;
  /** Tasks the job still wants now. */
  wanted: number;
}

export interface Share {
  /** Tasks placed per job (jobs with none are left out). */
  placed: Record<string, number>;
  /** The rotation to pass with the next offer event. */
  rotation: number;
}

/** Priority tiers, highest first; jobs in a tier ordered by name and turned by `rotation`. */
export function turnOrder(demands: readonly Demand[], rotation: number): Demand[][] {
  const tiers = new Map<number, Demand[]>();
  for (const d of demands) if (d.wanted > 0) tiers.set(d.priority, [...(tiers.get(d.priority) ?? []), d]);
  return [...tiers.entries()]
    .sort(([a], [b]) => b - a)
    .map(([, tier]) => {
      const sorted = [...tier].sort((x, y) => (x.job < y.job ? -1 : x.job > y.job ? 1 : 0));
      const start = ((rotation % sorted.length) + sorted.length) % sorted.length;
      return [...sorted.slice(start), ...sorted.slice(0, start)];
    });
}

export function shareOffers(demands: readonly Demand[], rotation: number, tryPlace: (job: string) => boolean): Share {
  const placed: Record<string, number> = {};
  for (const tier of turnOrder(demands, rotation)) {
    const left = new Map(tier.map((d) => [d.job, d.wanted]));
    while (left.size > 0) {
      for (const [job, want] of [...left]) {
        if (!tryPlace(job)) {
          left.delete(job);
          continue;
        }
        placed[job] = (placed[job] ?? 0) + 1;
        if (want <= 1) left.delete(job);
        else left.set(job, want - 1);
      }
    }
  }
  return { placed, rotation: rotation + 1 };
}
