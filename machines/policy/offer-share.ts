/**
 * Plans one OFFERS event for several jobs at once (pure): which offer gets
 * which job's tasks, with what resources, and which offers are declined.
 *
 * - Order of service: priority.ts (higher priority first, equal jobs one task
 *   each in turn, the turn order rotating from event to event).
 * - A task goes on the first offer, in the order received, that is allocated
 *   to the job's role (MULTI_ROLE: each offer belongs to one of the
 *   framework's roles), still has room for it after the tasks planned before
 *   (offer-plan.ts carves cpus, mem and disk in milli-units), and meets the
 *   job's constraints given where its tasks are (constraints.ts). Each planned
 *   task counts as placed for the next.
 * - Offers that get no task are declined; nothing is held.
 */
import type { Offer, Resource } from '../../src/mesos/types.js';
import { meetsConstraints, type Constraint, type Placement } from './constraints.js';
import { carveTasks, tasksFitting, toMilli, fromMilli, type TaskNeeds } from './offer-plan.js';
import { shareOffers, type Demand } from './priority.js';

export interface JobDemand extends Demand {
  role: string;
  needs: TaskNeeds;
  constraints: readonly Constraint[];
  /** Where the job's tasks that run or are being launched are. */
  placed: readonly Placement[];
  /** Tasks the job places in all this round (GROUP_BY spreads this many). */
  roundSize: number;
}

export interface SharedOfferUse {
  offer: Offer;
  /** One entry per task launched on this offer. */
  tasks: { job: string; resources: Resource[] }[];
}

export interface SharedPlan {
  accept: SharedOfferUse[];
  decline: Offer[];
  /** Pass to the next event's plan. */
  rotation: number;
}

/** Whether the offer may be used by a job of this role. */
export function offerServesRole(offer: Offer, role: string): boolean {
  const allocated = offer.allocation_info?.role;
  return allocated === undefined || allocated === role;
}

/** The offer less the resources of one carved task (entries taken in the order carveTasks takes them). */
function without(offer: Offer, taken: readonly Resource[]): Offer {
  const owed = new Map<string, number>();
  for (const r of taken) owed.set(r.name, (owed.get(r.name) ?? 0) + toMilli(r.scalar?.value ?? 0));
  const resources = (offer.resources ?? []).map((r) => {
    const due = owed.get(r.name) ?? 0;
    if (due <= 0 || r.type !== 'SCALAR' || r.scalar === undefined || r.revocable !== undefined || r.shared !== undefined) return r;
    const have = Math.max(0, toMilli(r.scalar.value));
    const used = Math.min(have, due);
    owed.set(r.name, due - used);
    return { ...r, scalar: { value: fromMilli(have - used) } };
  });
  return { ...offer, resources };
}

export function planSharedOffers(offers: readonly Offer[], demands: readonly JobDemand[], rotation: number): SharedPlan {
  const rooms = offers.map((offer) => ({ offer, left: offer, tasks: [] as SharedOfferUse['tasks'] }));
  const byJob = new Map(demands.map((d) => [d.job, d]));
  const placed = new Map(demands.map((d) => [d.job, [...d.placed]]));
  const share = shareOffers(demands, rotation, (job) => {
    const demand = byJob.get(job)!;
    const where = placed.get(job)!;
    for (const room of rooms) {
      if (!offerServesRole(room.offer, demand.role) || tasksFitting(room.left, demand.needs) < 1) continue;
      if (!meetsConstraints(demand.constraints, room.offer, where, demand.roundSize)) continue;
      const resources = carveTasks(room.left, demand.needs, 1)[0]!;
      room.left = without(room.left, resources);
      room.tasks.push({ job, resources });
      where.push({ hostname: room.offer.hostname, ...(room.offer.attributes ? { attributes: room.offer.attributes } : {}) });
      return true;
    }
    return false;
  });
  return {
    accept: rooms.filter((r) => r.tasks.length > 0).map((r) => ({ offer: r.offer, tasks: r.tasks })),
    decline: rooms.filter((r) => r.tasks.length === 0).map((r) => r.offer),
    rotation: share.rotation,
  };
}
