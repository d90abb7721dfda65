/**
 * Level-based offer planning (pure): given the offers of one OFFERS event, how
 * many tasks are still wanted and what one task needs, decide which offers to
 * use for how many tasks and which to decline. Several tasks may share one
 * offer. Nothing is remembered between calls: the caller passes the wanted
 * count derived from desired vs. observed tasks.
 *
 * Mesos scalars have three decimal digits, so all arithmetic is done in integer
 * milli-units (0.1 + 0.2 cpus is exactly 300 milli-cpus, not 0.30000000000000004).
 *
 * Only unreserved or role-reserved, non-revocable, non-shared `cpus`, `mem` and (when asked for) `disk`
 * scalars are used. Each task's resources are carved out of the offer's own
 * resource entries, keeping their role / allocation_info / reservations, as
 * Mesos requires for LAUNCH.
 */
import type { Offer, Resource } from '../../src/mesos/types.js';

export interface TaskNeeds {
  cpus: number;
  memMb: number;
  /** Disk MB; unset or 0: no disk asked for. */
  diskMb?: number;
}

export interface OfferUse {
  offer: Offer;
  /** One resource list per task launched on this offer. */
  tasks: Resource[][];
}

export interface OfferPlan {
  accept: OfferUse[];
  decline: Offer[];
}

/** Rounds a Mesos scalar to integer milli-units. */
export function toMilli(value: number): number {
  return Math.round(value * 1000);
}

export function fromMilli(milli: number): number {
  return milli / 1000;
}

function usable(resource: Resource, name: string): boolean {
  return resource.name === name && resource.type === 'SCALAR' && resource.scalar !== undefined &&
    resource.revocable === undefined && resource.shared === undefined;
}

/** Total of a usable scalar resource in an offer, in milli-units. */
export function offeredMilli(offer: Offer, name: string): number {
  let total = 0;
  for (const r of offer.resources ?? []) if (usable(r, name)) total += Math.max(0, toMilli(r.scalar?.value ?? 0));
  return total;
}

/** How many tasks with these needs fit in the offer (by cpus, mem and disk). */
export function tasksFitting(offer: Offer, needs: TaskNeeds): number {
  const fit = (name: string, needMilli: number): number =>
    needMilli <= 0 ? Number.POSITIVE_INFINITY : Math.floor(offeredMilli(offer, name) / needMilli);
  const n = Math.min(fit('cpus', toMilli(needs.cpus)), fit('mem', toMilli(needs.memMb)), fit('disk', toMilli(needs.diskMb ?? 0)));
  return Number.isFinite(n) ? n : 0;
}

/** Copies a resource entry's identity (role, reservations...) with a new amount. */
function slice(from: Resource, milli: number): Resource {
  const out: Resource = { name: from.name, type: 'SCALAR', scalar: { value: fromMilli(milli) } };
  if (from.role !== undefined) out.role = from.role;
  if (from.allocation_info !== undefined) out.allocation_info = { ...from.allocation_info };
  if (from.reservations !== undefined) out.reservations = from.reservations.map((r) => ({ ...r }));
  return out;
}

/** Carves `count` task resource lists out of an offer that has room for them. */
export function carveTasks(offer: Offer, needs: TaskNeeds, count: number): Resource[][] {
  const left = new Map<Resource, number>();
  for (const r of offer.resources ?? []) left.set(r, Math.max(0, toMilli(r.scalar?.value ?? 0)));
  const take = (name: string, needMilli: number): Resource[] => {
    const parts: Resource[] = [];
    let need = needMilli;
    for (const r of offer.resources ?? []) {
      if (need <= 0) break;
      if (!usable(r, name)) continue;
      const available = left.get(r) ?? 0;
      const used = Math.min(available, need);
      if (used <= 0) continue;
      left.set(r, available - used);
      need -= used;
      parts.push(slice(r, used));
    }
    return parts;
  };
  const tasks: Resource[][] = [];
  for (let i = 0; i < count; i++) {
    tasks.push([...take('cpus', toMilli(needs.cpus)), ...take('mem', toMilli(needs.memMb)), ...take('disk', toMilli(needs.diskMb ?? 0))]);
  }
  return tasks;
}

/**
 * Plans one OFFERS event: fills offers in the order received until `wanted`
 * tasks are placed; every offer not used is declined (never held).
 */
export function planOffers(offers: readonly Offer[], wanted: number, needs: TaskNeeds): OfferPlan {
  const plan: OfferPlan = { accept: [], decline: [] };
  let remaining = Math.max(0, Math.floor(wanted));
  for (const offer of offers) {
    const count = Math.min(remaining, tasksFitting(offer, needs));
    if (count <= 0) {
      plan.decline.push(offer);
      continue;
    }
    plan.accept.push({ offer, tasks: carveTasks(offer, needs, count) });
    remaining -= count;
  }
  return plan;
}

/** Number of tasks a plan launches. */
export function plannedTaskCount(plan: OfferPlan): number {
  return plan.accept.reduce((n, use) => n + use.tasks.length, 0);
}
