/**
 * Offers, refusal filters, suppression, and the periodic allocation run.
 *
 * Like the Mesos hierarchical allocator (HierarchicalDRF), each run offers
 * every allocatable agent's free resources to active frameworks, to one of
 * each framework's roles at a time: the framework's unsuppressed role with the
 * smallest dominant share (over all frameworks) that is not filtered on that
 * agent gets it, so a MULTI_ROLE framework is offered resources for each of
 * its roles; offers and their resources carry `allocation_info.role`. All
 * offers for a framework go out in one OFFERS event. An agent's free
 * resources go to one framework per run; frameworks take turns being first
 * among equals, and the framework whose roles have the smallest dominant share
 * (of cpus or mem, as DRF) goes first.
 *
 * Efficiency: each framework keeps a set of candidate agents. An agent enters
 * the sets when resources come back to it and leaves when it is offered, found
 * empty, or filtered; a filter's expiry puts it back. A run therefore touches
 * only agents that changed, never all 10,000 agents.
 *
 * Filters follow Mesos' refused-offer filter, kept per (role, agent) as the
 * allocator keeps them: after DECLINE (or the unused part of an ACCEPT) with
 * refuse_seconds > 0, an agent is not offered to that framework for that role
 * while its free resources are contained in what was refused.
 */
import type { Event, Offer } from '../mesos/types.js';
import type { AgentRecord, FrameworkRecord, OfferRecord } from './model.js';
import { setLongTimeout } from './long-timeout.js';
import { charge, filterKey, frameworkSuppressed } from './model.js';
import { addBags, bagForRole, bagToResources, cloneBag, containsBag, isAllocatable, scalarTotals, subtractBags, type ResourceBag } from './resources.js';

function hasCapability(fw: FrameworkRecord, type: string): boolean {
  return (fw.info.capabilities ?? []).some((c) => c.type === type);
}

/** Mesos caps refuse_seconds at one year. */
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;
/** Emulated agents run inside this process on loopback; 5051 is the agent's default port. */
const AGENT_IP = '127.0.0.1';
const AGENT_PORT = 5051;
export const DEFAULT_REFUSE_SECONDS = 5;

export interface AllocatorHost {
  readonly frameworks: Map<string, FrameworkRecord>;
  readonly agents: Map<string, AgentRecord>;
  readonly offers: Map<string, OfferRecord>;
  newOfferId(): string;
  send(fw: FrameworkRecord, event: Event): void;
  /** Rescind offers after this long, if set (the master's --offer_timeout). */
  readonly offerTimeoutMs: number | undefined;
  readonly allocationPaused: () => boolean;
}

export class Allocator {
  private timer: NodeJS.Timeout | undefined;
  private turn = 0;
  private totals: { cpus: number; mem: number } | undefined;

  constructor(private readonly host: AllocatorHost, private readonly intervalMs: number) {}

  start(): void {
    this.timer = setInterval(() => this.allocate(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const offer of this.host.offers.values()) if (offer.timer) clearTimeout(offer.timer);
    for (const fw of this.host.frameworks.values()) this.clearFilters(fw);
  }

  /** One allocation run. */
  allocate(): void {
    if (this.host.allocationPaused()) return;
    const fws = [...this.host.frameworks.values()].filter((fw) => fw.active && fw.connected && !frameworkSuppressed(fw));
    if (fws.length === 0) return;
    const start = this.turn++ % fws.length;
    const rotated = [...fws.slice(start), ...fws.slice(0, start)];
    const totals = this.clusterTotals();
    const roleShares = this.roleShares(totals);
    // Roles by their share first, then frameworks (within a role) by their own share.
    const roleShare = (fw: FrameworkRecord): number => {
      const roles = fw.roles.filter((r) => !fw.suppressedRoles.has(r));
      return Math.min(...roles.map((r) => roleShares.get(r) ?? 0));
    };
    const ownShare = (fw: FrameworkRecord): number => this.share(fw.allocated, totals);
    if (rotated.length > 1) rotated.sort((a, b) => roleShare(a) - roleShare(b) || ownShare(a) - ownShare(b));
    for (const fw of rotated) {
      const offers: Offer[] = [];
      for (const agentId of fw.candidates) {
        fw.candidates.delete(agentId);
        const agent = this.host.agents.get(agentId);
        if (!agent || !agent.registered || agent.recovering || !isAllocatable(agent.free)) continue;
        const role = this.pickRole(fw, agent, roleShares);
        if (role === undefined) continue; // filtered for every role: back in candidates when a filter expires
        const offer = this.makeOffer(fw, agent, role);
        roleShares.set(role, this.share(this.roleAllocation(role), totals));
        offers.push(offer);
      }
      if (offers.length > 0) this.host.send(fw, { type: 'OFFERS', offers: { offers } });
    }
  }

  /** The unsuppressed, unfiltered role of the framework with the smallest share. */
  private pickRole(fw: FrameworkRecord, agent: AgentRecord, roleShares: ReadonlyMap<string, number>): string | undefined {
    let best: string | undefined;
    for (const role of fw.roles) {
      if (fw.suppressedRoles.has(role)) continue;
      const filter = fw.filters.get(filterKey(role, agent.id));
      // Without RESERVATION_REFINEMENT no refined reservations are offered (stripIncapableResources).
      const forRole = bagForRole(agent.free, role, hasCapability(fw, 'RESERVATION_REFINEMENT'));
      if (!isAllocatable(forRole)) continue;
      if (filter && containsBag(filter.refused, forRole)) continue;
      if (best === undefined || (roleShares.get(role) ?? 0) < (roleShares.get(best) ?? 0)) best = role;
    }
    return best;
  }

  private roleAllocation(role: string): { cpus: number; mem: number } {
    const sum = { cpus: 0, mem: 0 };
    for (const fw of this.host.frameworks.values()) {
      const a = fw.allocatedByRole.get(role);
      if (a) { sum.cpus += a.cpus; sum.mem += a.mem; }
    }
    return sum;
  }

  private share(a: { cpus: number; mem: number }, totals: { cpus: number; mem: number }): number {
    return Math.max(a.cpus / totals.cpus, a.mem / totals.mem);
  }

  /** Dominant share of every role some framework is subscribed to. */
  private roleShares(totals: { cpus: number; mem: number }): Map<string, number> {
    const shares = new Map<string, number>();
    for (const fw of this.host.frameworks.values()) {
      for (const role of fw.roles) if (!shares.has(role)) shares.set(role, this.share(this.roleAllocation(role), totals));
    }
    return shares;
  }

  private makeOffer(fw: FrameworkRecord, agent: AgentRecord, role: string): Offer {
    const record: OfferRecord = {
      id: this.host.newOfferId(), frameworkId: fw.id, agentId: agent.id, resources: bagForRole(agent.free, role, hasCapability(fw, 'RESERVATION_REFINEMENT')), role, timer: undefined,
    };
    // Resources reserved for other roles stay with the agent.
    agent.free = subtractBags(agent.free, record.resources);
    agent.offers.add(record.id);
    fw.offers.add(record.id);
    charge(fw, record.resources, 1, role);
    this.host.offers.set(record.id, record);
    if (this.host.offerTimeoutMs !== undefined) {
      record.timer = setTimeout(() => this.rescind(record.id), this.host.offerTimeoutMs);
      record.timer.unref();
    }
    const alloc = fw.multiRole ? role : undefined;
    return {
      id: { value: record.id },
      framework_id: { value: fw.id },
      agent_id: { value: agent.id },
      hostname: agent.hostname,
      // As the master does: the agent's libprocess address (emulated agents
      // have none of their own, so the conventional agent port).
      url: { scheme: 'http', address: { hostname: agent.hostname, ip: AGENT_IP, port: AGENT_PORT }, path: '/slave(1)' },
      // Empty repeated fields (attributes, executor_ids) are left out, as the master's JSON leaves them out.
      resources: bagToResources(record.resources, alloc, !hasCapability(fw, 'RESERVATION_REFINEMENT')),
      ...(agent.attributes.length > 0 ? { attributes: agent.attributes.map((a) => structuredClone(a)) } : {}),
      ...(alloc !== undefined ? { allocation_info: { role: alloc } } : {}),
    };
  }

  /** Removes an offer and gives its resources back to the agent (no event). */
  removeOffer(offerId: string): OfferRecord | undefined {
    const offer = this.host.offers.get(offerId);
    if (!offer) return undefined;
    if (offer.timer) clearTimeout(offer.timer);
    this.host.offers.delete(offerId);
    const fw = this.host.frameworks.get(offer.frameworkId);
    if (fw) {
      fw.offers.delete(offerId);
      charge(fw, offer.resources, -1, offer.role);
    }
    const agent = this.host.agents.get(offer.agentId);
    agent?.offers.delete(offerId);
    return offer;
  }

  /** Withdraws an offer, tells the framework (RESCIND) and makes the resources available again. */
  rescind(offerId: string): void {
    const offer = this.removeOffer(offerId);
    if (!offer) return;
    const fw = this.host.frameworks.get(offer.frameworkId);
    if (fw?.connected) this.host.send(fw, { type: 'RESCIND', rescind: { offer_id: { value: offerId } } });
    this.recover(offer.agentId, offer.resources);
  }

  /** Withdraws an offer silently (framework disconnected, failed over, removed). */
  discard(offerId: string): void {
    const offer = this.removeOffer(offerId);
    if (offer) this.recover(offer.agentId, offer.resources);
  }

  /**
   * Resources come back to an agent. With `refusedBy` and `refuseSeconds` > 0,
   * that framework gets a filter for them.
   */
  recover(agentId: string, resources: ResourceBag, refusedBy?: FrameworkRecord, refuseSeconds?: number, role = '*'): void {
    const agent = this.host.agents.get(agentId);
    if (!agent || !agent.registered) return;
    agent.free = addBags(agent.free, resources);
    if (refusedBy) {
      const seconds = Math.min(refuseSeconds ?? DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
      if (seconds > 0 && Number.isFinite(seconds)) this.setFilter(refusedBy, agentId, cloneBag(resources), role, seconds * 1000);
    }
    this.agentChanged(agent);
  }

  /** Takes resources from an agent's free pool (used by tasks launched from offers). */
  take(agent: AgentRecord, resources: ResourceBag): void {
    agent.free = subtractBags(agent.free, resources);
  }

  /** Registered agents' total cpus and mem (cached; call invalidateTotals when agents come or go). */
  private clusterTotals(): { cpus: number; mem: number } {
    if (!this.totals) {
      let cpus = 0;
      let mem = 0;
      for (const a of this.host.agents.values()) if (a.registered) { const t = scalarTotals(a.total); cpus += t.cpus; mem += t.mem; }
      this.totals = { cpus: cpus || 1, mem: mem || 1 };
    }
    return this.totals;
  }

  invalidateTotals(): void {
    this.totals = undefined;
  }

  /** The agent may now have something for everyone. */
  agentChanged(agent: AgentRecord): void {
    if (!isAllocatable(agent.free)) return;
    for (const fw of this.host.frameworks.values()) fw.candidates.add(agent.id);
  }

  /** Every registered agent is a candidate again (subscribe, revive). */
  considerAllAgents(fw: FrameworkRecord): void {
    for (const agent of this.host.agents.values()) if (agent.registered) fw.candidates.add(agent.id);
  }

  /** Drops the framework's filters (only those of `roles`, if given). */
  clearFilters(fw: FrameworkRecord, roles?: readonly string[]): void {
    for (const [key, f] of fw.filters) {
      if (roles && !roles.includes(f.role)) continue;
      f.timer.cancel();
      fw.filters.delete(key);
    }
  }

  private setFilter(fw: FrameworkRecord, agentId: string, refused: ResourceBag, role: string, ms: number): void {
    const key = filterKey(role, agentId);
    fw.filters.get(key)?.timer.cancel();
    const timer = setLongTimeout(() => {
      fw.filters.delete(key);
      fw.candidates.add(agentId);
    }, ms);
    fw.filters.set(key, { refused, role, agentId, timer });
  }
}

