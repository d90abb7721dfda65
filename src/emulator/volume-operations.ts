/**
 * CREATE, DESTROY, GROW_VOLUME and SHRINK_VOLUME of persistent volumes on the
 * emulated agents' root disk, as a 1.11 master validates them
 * (validation::operation::validate in src/master/validation.cpp) and converts
 * them (getResourceConversions in src/common/resources_utils.cpp):
 *
 * - CREATE: reserved disk -> a volume (disk.persistence.id,
 *   disk.volume.container_path, mode RW) with the same reservations;
 * - DESTROY: the volume -> its reserved disk (refused while a task or
 *   executor uses it);
 * - GROW_VOLUME: the volume + reserved disk with its reservations -> a larger
 *   volume; SHRINK_VOLUME: the volume -> a smaller one + the freed reserved
 *   disk. 1.11 agents have RESIZE_VOLUME, so both are applied (speculatively,
 *   as the master does; the result cannot be used by later operations of the
 *   same ACCEPT).
 *
 * Messages end with "; on agent ..." where the master adds it. Shared
 * volumes (Resource.shared) are not modelled: see sharedRefusal.
 */
import type { FrameworkInfo, Operation, Resource } from '../mesos/types.js';
import { validateId } from './task-validation.js';
import { addBags, emptyBag, round3, reservedAs, reservationStack, ResourceError, stackKey, stackRole, volumeBag, volumeOf, type ResourceBag, type Volume } from './resources.js';
import { amountsOf, describe, type Conversion } from './operations.js';

export interface VolumeContext {
  info: FrameworkInfo;
  frameworkId: string;
  /** stringify(*slave) as Mesos prints it. */
  onAgent: string;
  /** The agent's total (its checkpointed resources). */
  agentTotal: ResourceBag;
  /** Resources used by the agent's tasks and executors (slave->usedResources). */
  used: ResourceBag;
}

type Result = Conversion | { error: string };

/** resource::validatePersistentVolume. */
function notPersistentVolume(volumes: readonly Resource[]): string | undefined {
  for (const v of volumes) {
    if (!v.disk) return `Resource ${describe(v)} does not have DiskInfo`;
    if (!v.disk.persistence) return "'persistence' is not set in DiskInfo";
    if (!v.disk.volume) return "Expecting 'volume' to be set for persistent volume";
    if (v.disk.volume.mode === 'RO') return 'Read-only persistent volume not supported';
  }
  return undefined;
}

/** resource::validate's DiskInfo part (validateDiskInfo), as it wraps the message. */
function invalidDiskInfo(resources: readonly Resource[]): string | undefined {
  for (const r of resources) {
    const disk = r.disk;
    if (!disk) continue;
    let error: string | undefined;
    if (disk.persistence) {
      if ((r.reservations ?? []).length === 0 && (r.role ?? '*') === '*') error = 'Persistent volumes cannot be created from unreserved resources';
      else if (!disk.volume) error = "Expecting 'volume' to be set for persistent volume";
      else if (disk.volume.host_path !== undefined) error = "Expecting 'host_path' to be unset for persistent volume";
      else {
        const id = validateId(disk.persistence.id);
        if (id) error = `Invalid persistence ID for persistent volume: ${id}`;
      }
    } else if (disk.volume) error = 'Non-persistent volume not supported';
    else if (!disk.source) error = 'DiskInfo is set but empty';
    if (error) return `Invalid DiskInfo: ${error}`;
  }
  return undefined;
}

/** CREATE's and DESTROY's common checks (resource::validate, validatePersistentVolume); then the volumes. */
function validVolumes(resources: readonly Resource[], at: string): Volume[] | { error: string } {
  const diskInfo = invalidDiskInfo(resources);
  if (diskInfo) return { error: `Invalid resources: ${diskInfo}${at}` };
  const invalid = notPersistentVolume(resources);
  if (invalid) return { error: `Not a persistent volume: ${invalid}${at}` };
  try {
    return resources.map((r) => volumeOf(r)!);
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Invalid resources: ${err.message}${at}` };
    throw err;
  }
}

/** The emulated agents keep no shared volumes (Resource.shared): refused with the master's text when the framework cannot hold them, with ours otherwise. */
function sharedRefusal(volume: Resource, ctx: VolumeContext): string | undefined {
  if (!volume.shared) return undefined;
  const capable = (ctx.info.capabilities ?? []).some((c) => c.type === 'SHARED_RESOURCES');
  if (!capable) return `Create volume operation for '${describe(volume)}' has been attempted by framework '${ctx.frameworkId}' with no SHARED_RESOURCES capability`;
  return `Shared persistent volume '${describe(volume)}' cannot be created on an emulated agent (the emulator does not model shared resources)`;
}

/** Reserved disk of the volume's size and reservations (the volume stripped of its DiskInfo). */
function strippedDisk(v: Volume, size = v.size): ResourceBag {
  return reservedAs({ ...emptyBag(), disk: size }, v.reservations);
}

export function createConversion(op: Operation, ctx: VolumeContext): Result {
  const at = `; on agent ${ctx.onAgent}`;
  const resources = op.create?.volumes ?? [];
  const volumes = validVolumes(resources, at);
  if ('error' in volumes) return volumes;
  // validateUniquePersistenceID over the agent's checkpointed volumes and the new ones: unique per role.
  const seen = new Set([...(ctx.agentTotal.volumes?.values() ?? [])].map((v) => JSON.stringify([stackRole(v.reservations), v.id])));
  for (const v of volumes) {
    const key = JSON.stringify([stackRole(v.reservations), v.id]);
    if (seen.has(key)) return { error: `Persistence ID '${v.id}' is not unique${at}` };
    seen.add(key);
  }
  for (const [i, r] of resources.entries()) {
    const shared = sharedRefusal(r, ctx);
    if (shared) return { error: `${shared}${at}` };
    const principal = ctx.info.principal;
    if (principal !== undefined) {
      const own = volumes[i]!.principal;
      if (own === undefined) {
        return { error: `Create volume operation attempted by principal '${principal}', but there is a volume in the operation with no principal set in 'disk.persistence'${at}` };
      }
      if (own !== principal) {
        return { error: `Create volume operation attempted by authenticated principal '${principal}', which does not match a volume in the operation with principal '${own}' set in 'disk.persistence'${at}` };
      }
    }
  }
  let consumed = emptyBag();
  let converted = emptyBag();
  for (const v of volumes) {
    consumed = addBags(consumed, strippedDisk(v));
    converted = addBags(converted, volumeBag(v));
  }
  return { consumed, converted };
}

export function destroyConversion(op: Operation, ctx: VolumeContext): Result {
  const at = `; on agent ${ctx.onAgent}`;
  const resources = op.destroy?.volumes ?? [];
  const volumes = validVolumes(resources, at);
  if ('error' in volumes) return volumes;
  const checkpointed = ctx.agentTotal.volumes;
  for (const v of volumes) if (!hasVolume(checkpointed, v)) return { error: `Persistent volumes not found${at}` };
  for (const v of volumes) if (hasVolume(ctx.used.volumes, v)) return { error: `Persistent volumes in use${at}` };
  let consumed = emptyBag();
  let converted = emptyBag();
  for (const v of volumes) {
    consumed = addBags(consumed, volumeBag(v));
    converted = addBags(converted, strippedDisk(v));
  }
  return { consumed, converted };
}

function hasVolume(volumes: ResourceBag['volumes'], v: Volume): boolean {
  const bag = volumeBag(v);
  const key = [...bag.volumes!.keys()][0]!;
  return volumes?.has(key) ?? false;
}

export function growConversion(op: Operation, onAgent: string): Result {
  const at = `; on agent ${onAgent}`;
  const g = op.grow_volume;
  if (!g) return { error: `A GROW_VOLUME operation must have the Offer.Operation.grow_volume field set` };
  if ((g.addition.scalar?.value ?? 0) <= 0) return { error: `The size of 'GrowVolume.addition' field must be greater than zero${at}` };
  if (hasProvider(g.volume)) return { error: `Growing a volume from a resource provider is not supported${at}` };
  const invalid = notPersistentVolume([g.volume]);
  if (invalid) return { error: `Invalid persistent volume in the 'GrowVolume.volume' field: ${invalid}${at}` };
  if (g.volume.shared) return { error: `Growing a shared persistent volume is not supported${at}` };
  let volume: Volume;
  let additionStack;
  try {
    volume = volumeOf(g.volume)!;
    additionStack = reservationStack(g.addition);
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Invalid resource in the 'GrowVolume.volume' field: ${err.message}${at}` };
    throw err;
  }
  if (g.addition.name !== 'disk' || g.addition.disk || g.addition.type !== 'SCALAR' || stackKey(additionStack) !== stackKey(volume.reservations)) {
    return { error: `Incompatible resources in the 'GrowVolume.volume' and 'GrowVolume.addition' fields${at}` };
  }
  const addition = amountsOf(g.addition).disk;
  return {
    consumed: addBags(volumeBag(volume), strippedDisk(volume, addition)),
    converted: volumeBag({ ...volume, size: round3(volume.size + addition) }),
  };
}

export function shrinkConversion(op: Operation, onAgent: string): Result {
  const at = `; on agent ${onAgent}`;
  const sh = op.shrink_volume;
  if (!sh) return { error: 'A SHRINK_VOLUME offer operation must have the Offer.Operation.shrink_volume field set' };
  if (sh.subtract.value <= 0) return { error: `Value of 'ShrinkVolume.subtract' must be greater than zero${at}` };
  if ((sh.volume.scalar?.value ?? 0) <= sh.subtract.value) {
    return { error: `Value of 'ShrinkVolume.subtract' must be smaller than the size of 'ShrinkVolume.volume'${at}` };
  }
  if (hasProvider(sh.volume)) return { error: `Shrinking a volume from a resource provider is not supported${at}` };
  if (sh.volume.disk?.source?.type === 'MOUNT') return { error: `Shrinking a volume on a MOUNT disk is not supported${at}` };
  const invalid = notPersistentVolume([sh.volume]);
  if (invalid) return { error: `Invalid persistent volume in the 'ShrinkVolume.volume' field: ${invalid}${at}` };
  if (sh.volume.shared) return { error: `Shrinking a shared persistent volume is not supported${at}` };
  let volume: Volume;
  try {
    volume = volumeOf(sh.volume)!;
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Invalid resource in the 'ShrinkVolume.volume' field: ${err.message}${at}` };
    throw err;
  }
  const subtract = round3(sh.subtract.value);
  return {
    consumed: volumeBag(volume),
    converted: addBags(volumeBag({ ...volume, size: round3(volume.size - subtract) }), strippedDisk(volume, subtract)),
  };
}

/** Resources::hasResourceProvider. */
function hasProvider(r: Resource): boolean {
  return (r as { provider_id?: unknown }).provider_id !== undefined;
}
