/**
 * The answers to ACCEPT operations other than LAUNCH and LAUNCH_GROUP, as
 * Master::accept/_accept (src/master/master.cpp) and validation::operation
 * (src/master/validation.cpp) give them for the emulated agents, which have
 * only unreserved cpus, mem, disk and ports, no persistent volumes and no
 * resource providers.
 *
 * An operation the master refuses is "dropped" (Master::drop): with an
 * `id` the framework gets an UPDATE_OPERATION_STATUS with OPERATION_ERROR,
 * the operation id and the reason (no uuid, nothing to acknowledge); without
 * one nothing is sent.
 *
 * Where the emulation is reduced: RESERVE of unreserved resources is valid in
 * Mesos (and applied); the emulated agents keep no reservations, so it is
 * dropped with a message that says so.
 */
import type { Event, Operation, Resource } from '../mesos/types.js';

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
    case 'RESERVE':
      if ((op.reserve?.source ?? []).length > 0) return 'Reservation updates are not yet implemented for the scheduler API.';
      return `RESERVE is not supported by the emulated agents: they keep no reservations (a real agent would reserve ${(op.reserve?.resources ?? []).map(describe).join('; ')})${at}`;
    case 'UNRESERVE': {
      for (const r of op.unreserve?.resources ?? []) {
        if (!isDynamicallyReserved(r)) return `Resource ${describe(r)} is not dynamically reserved${at}`;
      }
      return `Invalid UNRESERVE Operation: the offered resources do not contain ${(op.unreserve?.resources ?? []).map(describe).join('; ')}`;
    }
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
