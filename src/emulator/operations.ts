/**
 * The answers to ACCEPT operations other than LAUNCH and LAUNCH_GROUP, as
 * Master::accept/_accept (src/master/master.cpp) and validation::operation
 * (src/master/validation.cpp) give them for the emulated agents, which have
 * cpus, mem, disk and ports, unreserved or dynamically reserved (refined
 * reservations too), persistent volumes (volume-operations.ts) and no
 * resource providers.
 *
 * An operation the master refuses is "dropped" (Master::drop): with an
 * `id` the framework gets an UPDATE_OPERATION_STATUS with OPERATION_ERROR,
 * the operation id and the reason (no uuid, nothing to acknowledge); without
 * one nothing is sent.
 *
 * RESERVE and UNRESERVE of unreserved / dynamically reserved cpus, mem, disk
 * and ports are applied (reserveConversion, unreserveConversion); an
 * operation with an `id` then gets OPERATION_FINISHED from the agent, as a
 * 1.11 agent (AGENT_OPERATION_FEEDBACK, RESOURCE_PROVIDER) sends it, until
 * acknowledged (operation-feedback.ts).
 */
import type { Event, FrameworkInfo, Operation, Resource } from '../mesos/types.js';
import { roleNameError } from './role-name.js';
import { addBags, emptyBag, formatBag, isStrictSubrole, reservationStack, reservedAs, ResourceError, resourcesToBag, stackRole, type PlainBag, type Reservation, type ResourceBag } from './resources.js';

export interface Conversion {
  consumed: ResourceBag;
  converted: ResourceBag;
}

export function frameworkRoles(info: FrameworkInfo): string[] {
  return info.roles ?? (info.role !== undefined ? [info.role] : ['*']);
}

/** The resources an operation names (what accept()'s validateAndUpgradeResources checks). */
function operationResources(op: Operation): Resource[] {
  switch (op.type) {
    case 'RESERVE': return [...(op.reserve?.resources ?? []), ...(op.reserve?.source ?? [])];
    case 'UNRESERVE': return op.unreserve?.resources ?? [];
    case 'CREATE': return op.create?.volumes ?? [];
    case 'DESTROY': return op.destroy?.volumes ?? [];
    case 'GROW_VOLUME': return op.grow_volume ? [op.grow_volume.volume, op.grow_volume.addition] : [];
    case 'SHRINK_VOLUME': return op.shrink_volume ? [op.shrink_volume.volume] : [];
    default: return [];
  }
}

/**
 * Resources::validate of one resource, the parts a scheduler can get wrong
 * here: the scalar, DiskInfo on a resource other than disk, and the
 * reservation format (role "*", refinements that are not children).
 */
function resourceFormatError(r: Resource): string | undefined {
  if (r.type === 'SCALAR' && (!r.scalar || !Number.isFinite(r.scalar.value))) return 'Invalid scalar resource';
  if (r.type === 'SCALAR' && r.scalar!.value < 0) return 'Invalid scalar resource: value < 0';
  if (r.disk && r.name !== 'disk') return `DiskInfo should not be set for ${r.name} resource`;
  const stack = r.reservations ?? [];
  if (stack.length === 0) {
    const roleError = roleNameError(r.role ?? '*');
    if (roleError) return roleError;
    if (r.reservation && (r.role ?? '*') === '*') return 'Invalid reservation: role "*" cannot be dynamically reserved';
    return undefined;
  }
  for (const one of stack) {
    if (one.type === undefined) return "Invalid reservation: 'Resource.ReservationInfo.type' field must be set.";
    if (one.role === undefined) return "Invalid reservation: 'Resource.ReservationInfo.role' field must be set.";
    const roleError = roleNameError(one.role);
    if (roleError) return roleError;
    if (one.role === '*') return 'Invalid reservation: role "*" cannot be reserved';
  }
  for (let i = 1; i < stack.length; i++) {
    if (stack[i]!.type === 'STATIC') return 'Invalid refined reservation: A refined reservation cannot be STATIC';
    if (!isStrictSubrole(stack[i]!.role!, stack[i - 1]!.role!)) {
      return `Invalid refined reservation: role '${stack[i]!.role!}' is not a refinement of '${stack[i - 1]!.role!}'`;
    }
  }
  return undefined;
}

/**
 * accept()'s checks before _accept for operations other than launches: the
 * resources' format, and RESERVE with `source`, which the scheduler API
 * refuses. The master drops the operation with this message.
 */
export function acceptError(op: Operation): string | undefined {
  for (const r of operationResources(op)) {
    const error = resourceFormatError(r);
    if (error) return `Operation attempted with invalid resources: ${error}`;
  }
  if (op.type === 'RESERVE' && (op.reserve?.source ?? []).length > 0) {
    return 'Operation attempted with invalid resources: Reservation updates are not yet implemented for the scheduler API.';
  }
  return undefined;
}

/** A resource's amounts, without reservations or disk info. */
export function amountsOf(r: Resource): PlainBag {
  const { reservations: _s, reservation: _r, role: _role, disk: _d, allocation_info: _a, ...plain } = r;
  return resourcesToBag([plain]);
}

/**
 * validation::operation::validate(Reserve) for a framework, after the master
 * injected the offer's allocation role into resources without one; then the
 * conversion: the stack below the new top reservation -> the whole stack
 * (unreserved -> reserved, or a refinement to a child role).
 */
export function reserveConversion(op: Operation, info: FrameworkInfo, offerRole: string, onAgent: string): Conversion | { error: string } {
  const at = `; on agent ${onAgent}`;
  const resources = op.reserve?.resources ?? [];
  const roles = frameworkRoles(info);
  let consumed = emptyBag();
  let converted = emptyBag();
  for (const r of resources) {
    let stack: Reservation[];
    let amounts: PlainBag;
    try {
      stack = reservationStack(r);
      amounts = amountsOf(r);
    } catch (err) {
      if (err instanceof ResourceError) return { error: `Invalid resources: ${err.message}${at}` };
      throw err;
    }
    const top = stack[stack.length - 1];
    if (!top) return { error: `Resource ${describe(r)} is not dynamically reserved${at}` };
    if (info.principal !== undefined) {
      if (top.principal === undefined) {
        return { error: `A reserve operation was attempted by principal '${info.principal}', but there is a reserved resource in the request with no principal set${at}` };
      }
      if (top.principal !== info.principal) {
        return { error: `A reserve operation was attempted by authenticated principal '${info.principal}', which does not match a reserved resource in the request with principal '${top.principal}'${at}` };
      }
    }
    const allocated = r.allocation_info?.role ?? offerRole;
    if (allocated !== top.role) {
      return { error: `A reserve operation was attempted for a resource with role '${top.role}', but the resource was allocated to role '${allocated}'${at}` };
    }
    if (!roles.includes(allocated)) {
      return { error: `A reserve operation was attempted for a resource allocated to role '${allocated}', but the framework only has roles '{ ${roles.join(', ')} }'${at}` };
    }
    consumed = addBags(consumed, reservedAs(amounts, stack.slice(0, -1)));
    converted = addBags(converted, reservedAs(amounts, stack));
  }
  return { consumed, converted };
}

/** validation::operation::validate(Unreserve); then the conversion: the top reservation is popped. */
export function unreserveConversion(op: Operation, onAgent: string): Conversion | { error: string } {
  const at = `; on agent ${onAgent}`;
  let consumed = emptyBag();
  let converted = emptyBag();
  for (const r of op.unreserve?.resources ?? []) {
    let stack: Reservation[];
    try {
      stack = reservationStack(r);
    } catch (err) {
      if (err instanceof ResourceError) return { error: `Resource ${describe(r)} is not dynamically reserved${at}` };
      throw err;
    }
    if (stack.length === 0) return { error: `Resource ${describe(r)} is not dynamically reserved${at}` };
    if (r.disk?.persistence) {
      return { error: `A dynamically reserved persistent volume ${describe(r)} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource${at}` };
    }
    try {
      const amounts = amountsOf(r);
      consumed = addBags(consumed, reservedAs(amounts, stack));
      converted = addBags(converted, reservedAs(amounts, stack.slice(0, -1)));
    } catch (err) {
      if (err instanceof ResourceError) return { error: `Invalid resources: ${err.message}${at}` };
      throw err;
    }
  }
  return { consumed, converted };
}

/** ResourceConversion::apply's refusal when the offer lacks what the operation consumes. */
export function notContained(available: ResourceBag, consumed: ResourceBag): string {
  return `${formatBag(available)} does not contain ${formatBag(consumed)}`;
}

/** How Mesos prints an agent in these messages (stringify(*slave)). */
export function describeAgent(agentId: string, hostname: string): string {
  return `${agentId} at slave(1)@127.0.0.1:5051 (${hostname})`;
}

/** A resource as Mesos prints it (reduced): `disk(reservations: [(DYNAMIC,dev,alice)])[v1:data]:10`. */
export function describe(r: Resource): string {
  const value = r.scalar ? String(r.scalar.value)
    : r.ranges ? `[${(r.ranges.range ?? []).map((x) => `${x.begin}-${x.end}`).join(', ')}]`
      : r.set ? `{${(r.set.item ?? []).join(', ')}}` : '';
  let stack: Reservation[] = [];
  try { stack = reservationStack(r); } catch { /* printed without reservations */ }
  const reservations = stack.length > 0
    ? `(reservations: [${stack.map((s) => `(DYNAMIC,${s.role}${s.principal !== undefined ? `,${s.principal}` : ''})`).join(', ')}])` : '';
  const disk = r.disk?.persistence ? `[${r.disk.persistence.id}${r.disk.volume ? `:${r.disk.volume.container_path}` : ''}]` : '';
  return `${r.name}${reservations}${disk}:${value}`;
}

/** The role a resource is reserved for, '*' when unreserved. */
export function reservationRoleOf(r: Resource): string {
  try { return stackRole(reservationStack(r)); } catch { return r.role ?? '*'; }
}

/**
 * Why the operation cannot be applied on an emulated agent (the message the
 * master would drop it with, "; on agent ..." included where Mesos adds it):
 * the emulated agents have no resource providers.
 */
export function refuseOperation(op: Operation, onAgent: string): string {
  const at = `; on agent ${onAgent}`;
  switch (op.type) {
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
