/**
 * GET /master/state: the subset of the real endpoint's JSON that leader
 * detection and debugging use (field names as in src/master/readonly_handler.cpp).
 */
import type { MasterInfo } from '../mesos/types.js';
import { attributesJson } from './attributes.js';
import type { FrameworkRecord, TaskRecord } from './model.js';
import type { MasterCore } from './master.js';
import { addBags, bagToResources, emptyBag, flatten, reservationRoles, reservedForExactly, subtractBags, unreservedOnly, type ResourceBag } from './resources.js';

/** Scalars and ports summed over unreserved and reserved, as the endpoint's plain `resources` objects show them. */
function resourcesJson(bag: ResourceBag): Record<string, number | string> {
  const b = flatten(bag);
  const out: Record<string, number | string> = { cpus: b.cpus, mem: b.mem, disk: b.disk };
  if (b.ports.length > 0) out.ports = `[${b.ports.map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
  return out;
}

/** The agent's reserved resources by reservation role (Resources::reservations()). */
function reservedByRole(total: ResourceBag): Array<[string, ResourceBag]> {
  return reservationRoles(total).map((role) => [role, reservedForExactly(total, role)]);
}

function taskJson(t: TaskRecord): Record<string, unknown> {
  return {
    id: t.taskId,
    name: t.info.name,
    framework_id: t.frameworkId,
    executor_id: t.executorId ?? '',
    slave_id: t.agentId,
    state: t.state,
    resources: resourcesJson(t.resources),
    role: t.role,
    statuses: t.latestStatus ? [{ state: t.latestStatus.state, timestamp: t.latestStatus.timestamp }] : [],
    ...(t.info.labels ? { labels: (t.info.labels.labels ?? []).map((l) => ({ key: l.key, ...(l.value !== undefined ? { value: l.value } : {}) })) } : {}),
    ...(t.info.container ? { container: t.info.container } : {}),
  };
}

function frameworkJson(fw: FrameworkRecord): Record<string, unknown> {
  return {
    id: fw.id,
    name: fw.info.name,
    user: fw.info.user,
    ...(fw.info.principal !== undefined ? { principal: fw.info.principal } : {}),
    failover_timeout: fw.info.failover_timeout ?? 0,
    checkpoint: fw.info.checkpoint ?? false,
    role: fw.multiRole ? undefined : fw.roles[0],
    roles: fw.roles,
    capabilities: (fw.info.capabilities ?? []).map((c) => c.type),
    active: fw.active,
    connected: fw.connected,
    recovered: false,
    registered_time: fw.registeredAt / 1000,
    tasks: [...fw.tasks.values()].map(taskJson),
    completed_tasks: fw.completedTasks.map(taskJson),
    offers: [...fw.offers].map((id) => ({ id })),
  };
}

export function buildState(core: MasterCore, self: MasterInfo, leader: MasterInfo | undefined, electedAt: number | undefined): Record<string, unknown> {
  const agents = [...core.agents.values()];
  return {
    version: self.version,
    id: self.id,
    pid: self.pid,
    hostname: self.hostname,
    ...(leader ? { leader: leader.pid, leader_info: leader } : {}),
    ...(electedAt !== undefined ? { elected_time: electedAt / 1000 } : {}),
    activated_slaves: agents.filter((a) => a.registered).length,
    deactivated_slaves: 0,
    unreachable_slaves: agents.filter((a) => !a.registered).length,
    frameworks: [...core.frameworks.values()].map(frameworkJson),
    completed_frameworks: [...core.removedFrameworks.values()].map(frameworkJson),
    slaves: agents.filter((a) => a.registered).map((a) => {
      const offered = [...a.offers].reduce((acc, id) => { const o = core.offers.get(id); return o ? addBags(acc, o.resources) : acc; }, emptyBag());
      return {
        id: a.id,
        hostname: a.hostname,
        active: true,
        attributes: attributesJson(a.attributes),
        resources: resourcesJson(a.total),
        used_resources: resourcesJson(subtractBags(subtractBags(a.total, a.free), offered)),
        offered_resources: resourcesJson(offered),
        reserved_resources: Object.fromEntries(reservedByRole(a.total).map(([role, b]) => [role, resourcesJson(b)])),
        unreserved_resources: resourcesJson(unreservedOnly(a.total)),
        reserved_resources_full: Object.fromEntries(reservedByRole(a.total).map(([role, b]) => [role, bagToResources(b)])),
        unreserved_resources_full: bagToResources(unreservedOnly(a.total)),
      };
    }),
  };
}
