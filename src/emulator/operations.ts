/**
 * The answers to ACCEPT operations other than LAUNCH and LAUNCH_GROUP, as
 * Master::accept/_accept (src/master/master.cpp) and validation::operation
 * (src/master/validation.cpp) give them for the emulated agents, which have
 * cpus, mem, disk and ports, unreserved or dynamically reserved, no
 * persistent volumes and no resource providers.
 *
 * An operation the master refuses is "dropped" (Master::drop): with an
 * `id` the framework gets an UPDATE_OPERATION_STATUS with OPERATION_ERROR,
 * the operation id and the reason (no uuid, nothing to acknowledge); without
 * one nothing is sent.
 *
 * RESERVE and UNRESERVE of unreserved / dynamically reserved cpus, mem, disk
 * and ports are applied (reserveConversion, unreserveConversion); an
 * operation with an `id` then gets OPERATION_FINISHED from the agent, as a
 * 1.11 agent (AGENT_OPERATION_FEEDBACK, RESOURCE_PROVIDER) sends it.
 */
import type { Event, FrameworkInfo, Operation, Resource } from '../mesos/types.js';
import { addBags, emptyBag, flatten, formatBag, reservationOf, reservedAs, ResourceError, resourcesToBag, type ResourceBag } from './resources.js';

export interface Conversion {
  consumed: ResourceBag;
  converted: ResourceBag;
}

function frameworkRoles(info: FrameworkInfo): string[] {
  return info.roles ?? (info.role !== undefined ? [info.role] : ['*']);
}

/**
 * validation::operation::validate(Reserve) for a framework, after the master
 * injected the offer's allocation role into resources without one; then the
 * conversion unreserved -> reserved.
 */
export function reserveConversion(op: Operation, info: FrameworkInfo, offerRole: string, onAgent: string): Conversion | { error: string } {
  const at = `; on agent ${onAgent}`;
  const resources = op.reserve?.resources ?? [];
  if ((op.reserve?.source ?? []).length > 0) return { error: 'Reservation updates are not yet implemented for the scheduler API.' };
  const roles = frameworkRoles(info);
  let consumed = emptyBag();
  let converted = emptyBag();
  for (const r of resources) {
    let reservation;
    let amounts;
    try {
      reservation = reservationOf(r);
      amounts = flatten(resourcesToBag([{ ...r, reservations: [], role: '*' }]));
    } catch (err) {
      if (err instanceof ResourceError) return { error: `Invalid resources: ${err.message}${at}` };
      throw err;
    }
    if (!reservation) return { error: `Resource ${describe(r)} is not dynamically reserved${at}` };
    if (reservation.role === '*' || reservation.role === '') return { error: `Invalid resources: Invalid reservation: role "*" cannot be reserved${at}` };
    if (info.principal !== undefined) {
      if (reservation.principal === undefined) {
        return { error: `A reserve operation was attempted by principal '${info.principal}', but there is a reserved resource in the request with no principal set${at}` };
      }
      if (reservation.principal !== info.principal) {
        return { error: `A reserve operation was attempted by authenticated principal '${info.principal}', which does not match a reserved resource in the request with principal '${reservation.principal}'${at}` };
      }
    }
    const allocated = r.allocation_info?.role ?? offerRole;
    if (allocated !== reservation.role) {
      return { error: `A reserve operation was attempted for a resource with role '${reservation.role}', but the resource was allocated to role '${allocated}'${at}` };
    }
    if (!roles.includes(allocated)) {
      return { error: `A reserve operation was attempted for a resource allocated to role '${allocated}', but the framework only has roles '{ ${roles.join(', ')} }'${at}` };
    }
    consumed = addBags(consumed, reservedAs(amounts, undefined));
    converted = addBags(converted, reservedAs(amounts, reservation));
  }
  return { consumed, converted };
}

/** validation::operation::validate(Unreserve); then the conversion reserved -> unreserved. */
export function unreserveConversion(op: Operation, onAgent: string): Conversion | { error: string } {
  const at = `; on agent ${onAgent}`;
  const resources = op.unreserve?.resources ?? [];
  for (const r of resources) {
    if (!isDynamicallyReserved(r) && !(r.reservation && r.role !== undefined && r.role !== '*')) {
      return { error: `Resource ${describe(r)} is not dynamically reserved${at}` };
    }
    if (r.disk?.persistence) {
      return { error: `A dynamically reserved persistent volume ${describe(r)} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource${at}` };
    }
  }
  try {
    const consumed = resourcesToBag(resources);
    return { consumed, converted: flatten(consumed) };
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Invalid resources: ${err.message}${at}` };
    throw err;
  }
}

/** ResourceConversion::apply's refusal when the offer lacks what the operation consumes. */
export function notContained(available: ResourceBag, consumed: ResourceBag): string {
  return `${formatBag(available)} does not contain ${formatBag(consumed)}`;
}

/** How Mesos prints an agent in these messages (stringify(*slave)). */
export function describeAgent(agentId: string, hostname: string): string {
  return `${agentId} at slave(1)@127.0.0.1:5051 (${hostname})`;
}

function describe(r: Resource): string {
  const value = r.scalar ? String(r.scalar.value)
    : r.ranges ? `[${(r.ranges.range ?? []).map((x) => `${x.begin}-${x.end}`).join(', ')}]`
      : r.set ? `{${(r.set.item ?? []).join(', ')}}` : '';
  return `${r.name}:${value}`;
}

function isDynamicallyReserved(r: Resource): boolean {
  const last = r.reservations?.[r.reservations.length - 1];
  return last?.type === 'DYNAMIC';
}

function notPersistentVolume(volumes: readonly Resource[]): string | undefined {
  // resource::validatePersistentVolume
  for (const v of volumes) {
    if (!v.disk) return `Resource ${describe(v)} does not have DiskInfo`;
    if (!v.disk.persistence) return "'persistence' is not set in DiskInfo";
    if (!v.disk.volume) return "Expecting 'volume' to be set for persistent volume";
    if (v.disk.volume.mode === 'RO') return 'Read-only persistent volume not supported';
  }
  return undefined;
}

/**
 * Why the operation cannot be applied on an emulated agent (the message the
 * master would drop it with, "; on agent ..." included where Mesos adds it).
 */
export function refuseOperation(op: Operation, onAgent: string): string {
  const at = `; on agent ${onAgent}`;
  switch (op.type) {
    case 'CREATE': {
      const volumes = op.create?.volumes ?? [];
      const invalid = notPersistentVolume(volumes);
      if (invalid) return `Not a persistent volume: ${invalid}${at}`;
      return `Invalid CREATE Operation: persistent volumes need reserved disk, and the offered resources hold none: ${volumes.map(describe).join('; ')}`;
    }
    case 'DESTROY': {
      const invalid = notPersistentVolume(op.destroy?.volumes ?? []);
      if (invalid) return `Not a persistent volume: ${invalid}${at}`;
      return `Persistent volumes not found${at}`;
    }
    case 'GROW_VOLUME': {
      const g = op.grow_volume;
      if (!g || (g.addition.scalar?.value ?? 0) <= 0) return `The size of 'GrowVolume.addition' field must be greater than zero${at}`;
      const invalid = notPersistentVolume([g.volume]);
      if (invalid) return `Invalid persistent volume ${describe(g.volume)}: ${invalid}${at}`;
      return `Invalid GROW_VOLUME operation: the offered resources do not contain ${describe(g.volume)}`;
    }
    case 'SHRINK_VOLUME': {
      const sh = op.shrink_volume;
      if (!sh || sh.subtract.value <= 0) return `Value of 'ShrinkVolume.subtract' must be greater than zero${at}`;
      const invalid = notPersistentVolume([sh.volume]);
      if (invalid) return `Invalid persistent volume ${describe(sh.volume)}: ${invalid}${at}`;
      return `Invalid SHRINK_VOLUME operation: the offered resources do not contain ${describe(sh.volume)}`;
    }
    case 'CREATE_DISK':
      return `'source' is not managed by a resource provider${at}`;
    case 'DESTROY_DISK':
      return `'source' is not managed by a resource provider${at}`;
    default:
      return 'Ignoring unknown operation';
  }
}

/** Master::drop: OPERATION_ERROR for an operation with an id, nothing otherwise. */
export function dropEvent(op: Operation, message: string): Event | undefined {
  if (!op.id) return undefined;
  return { type: 'UPDATE_OPERATION_STATUS', update_operation_status: { status: { operation_id: op.id, state: 'OPERATION_ERROR', message } } };
}
