/**
 * Agent resources as the emulator accounts them: the scalars cpus, mem and disk
 * and the `ports` ranges, which is what a default Mesos agent offers, unreserved
 * or dynamically reserved (RESERVE) with a stack of reservations (refined
 * reservations, each role a child of the one before), and persistent volumes
 * on reserved disk (CREATE). Scalars are kept in fixed point with 3 decimals,
 * as Mesos does, so 0.1 + 0.2 style sums compare exactly.
 */
import type { Labels, Range, Resource } from '../mesos/types.js';

/** One dynamic reservation (an entry of the refined format's `reservations`). */
export interface Reservation {
  role: string;
  principal?: string;
  labels?: Labels;
}

/** A persistent volume on the agent's root disk (Resource.disk.persistence, disk.volume in RW mode). */
export interface Volume {
  id: string;
  principal?: string;
  containerPath: string;
  size: number;
  /** The disk's reservations, outermost first. */
  reservations: readonly Reservation[];
}

export interface PlainBag {
  cpus: number;
  mem: number;
  disk: number;
  /** Sorted, non-overlapping, inclusive. */
  ports: Range[];
}

export interface ReservedPart extends PlainBag {
  /** Outermost first; the last one's role is the one the resources are reserved for. */
  reservations: readonly Reservation[];
}

/**
 * The unreserved resources, plus those reserved, by stackKey (resources with
 * different reservations never merge), plus persistent volumes by volumeKey
 * (a volume is used whole or not at all).
 */
export interface ResourceBag extends PlainBag {
  reserved?: ReadonlyMap<string, ReservedPart>;
  volumes?: ReadonlyMap<string, Volume>;
}

function oneKey(r: Reservation): unknown {
  return [r.role, r.principal ?? null, (r.labels?.labels ?? []).map((l) => [l.key, l.value ?? null])];
}

export function stackKey(stack: readonly Reservation[]): string {
  return JSON.stringify(stack.map(oneKey));
}

export function volumeKey(v: Volume): string {
  return JSON.stringify([v.reservations.map(oneKey), v.id, v.size, v.containerPath, v.principal ?? null]);
}

/** The role resources with these reservations are reserved for (Resources::reservationRole). */
export function stackRole(stack: readonly Reservation[]): string {
  return stack[stack.length - 1]?.role ?? '*';
}

/** roles::isStrictSubroleOf. */
export function isStrictSubrole(role: string, ancestor: string): boolean {
  return role.length > ancestor.length && role.startsWith(`${ancestor}/`);
}

/** Resources::isAllocatableTo for a reservation stack. */
function allocatableTo(stack: readonly Reservation[], role: string): boolean {
  const reservedFor = stackRole(stack);
  return stack.length === 0 || role === reservedFor || isStrictSubrole(role, reservedFor);
}

/** Mesos' smallest allocatable amounts (src/master/constants.hpp MIN_CPUS, MIN_MEM). */
const MIN_CPUS = 0.01;
const MIN_MEM = 32;

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function emptyBag(): ResourceBag {
  return { cpus: 0, mem: 0, disk: 0, ports: [] };
}

function clonePlain(b: PlainBag): PlainBag {
  return { cpus: b.cpus, mem: b.mem, disk: b.disk, ports: b.ports.map((r) => ({ begin: r.begin, end: r.end })) };
}

export function cloneBag(b: ResourceBag): ResourceBag {
  const out: ResourceBag = clonePlain(b);
  const reserved = b.reserved && b.reserved.size > 0
    ? { reserved: new Map([...b.reserved].map(([k, p]) => [k, { ...clonePlain(p), reservations: p.reservations }])) }
    : {};
  // Reservations and volumes are never changed in place: sharing them is safe.
  const volumes = b.volumes && b.volumes.size > 0 ? { volumes: new Map(b.volumes) } : {};
  return { ...out, ...reserved, ...volumes };
}

function plainAllocatable(b: PlainBag): boolean {
  return b.cpus >= MIN_CPUS || b.mem >= MIN_MEM;
}

/** Enough left to be worth offering (the allocator's minimum). */
export function isAllocatable(b: ResourceBag): boolean {
  return plainAllocatable(b) || [...(b.reserved?.values() ?? [])].some(plainAllocatable);
}

function plainEmpty(b: PlainBag): boolean {
  return b.cpus <= 0 && b.mem <= 0 && b.disk <= 0 && b.ports.length === 0;
}

/**
 * What may be offered to `role`: the unreserved resources and those reserved
 * for the role or one of its ancestors (Resources::allocatableTo); without
 * `refinement` (a framework without RESERVATION_REFINEMENT) none with refined
 * reservations (the allocator's stripIncapableResources).
 */
export function bagForRole(b: ResourceBag, role: string, refinement = true): ResourceBag {
  const fits = (stack: readonly Reservation[]): boolean => allocatableTo(stack, role) && (refinement || stack.length <= 1);
  const reserved = new Map([...(b.reserved ?? [])].filter(([, p]) => fits(p.reservations)));
  const volumes = new Map([...(b.volumes ?? [])].filter(([, v]) => fits(v.reservations)));
  return cloneBag({ cpus: b.cpus, mem: b.mem, disk: b.disk, ports: b.ports, ...(reserved.size > 0 ? { reserved } : {}), ...(volumes.size > 0 ? { volumes } : {}) });
}

/** The resources reserved for exactly `role` (Resources::reservations(), by reservation role), volumes included. */
export function reservedForExactly(b: ResourceBag, role: string): ResourceBag {
  const reserved = new Map([...(b.reserved ?? [])].filter(([, p]) => stackRole(p.reservations) === role));
  const volumes = new Map([...(b.volumes ?? [])].filter(([, v]) => stackRole(v.reservations) === role));
  return cloneBag({ ...emptyBag(), ...(reserved.size > 0 ? { reserved } : {}), ...(volumes.size > 0 ? { volumes } : {}) });
}

/** Every reservation role the bag holds resources for. */
export function reservationRoles(b: ResourceBag): string[] {
  const roles = new Set([...(b.reserved?.values() ?? [])].map((p) => stackRole(p.reservations)));
  for (const v of b.volumes?.values() ?? []) roles.add(stackRole(v.reservations));
  return [...roles].sort();
}

/** Scalars summed over unreserved and reserved (for fair shares). */
export function scalarTotals(b: ResourceBag): { cpus: number; mem: number } {
  let cpus = b.cpus;
  let mem = b.mem;
  for (const p of b.reserved?.values() ?? []) { cpus += p.cpus; mem += p.mem; }
  return { cpus: round3(cpus), mem: round3(mem) };
}

/** The unreserved part alone. */
export function unreservedOnly(b: ResourceBag): ResourceBag {
  return { cpus: b.cpus, mem: b.mem, disk: b.disk, ports: b.ports };
}

function normalise(ranges: Range[]): Range[] {
  const sorted = ranges.filter((r) => r.end >= r.begin).sort((a, b) => a.begin - b.begin);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ begin: r.begin, end: r.end });
  }
  return out;
}

function rangesContain(outer: Range[], inner: Range[]): boolean {
  return inner.every((r) => outer.some((o) => o.begin <= r.begin && r.end <= o.end));
}

function subtractRanges(from: Range[], take: Range[]): Range[] {
  let out = from.map((r) => ({ ...r }));
  for (const t of take) {
    const next: Range[] = [];
    for (const r of out) {
      if (t.end < r.begin || t.begin > r.end) { next.push(r); continue; }
      if (t.begin > r.begin) next.push({ begin: r.begin, end: t.begin - 1 });
      if (t.end < r.end) next.push({ begin: t.end + 1, end: r.end });
    }
    out = next;
  }
  return out;
}

function addPlain(a: PlainBag, b: PlainBag): PlainBag {
  return {
    cpus: round3(a.cpus + b.cpus),
    mem: round3(a.mem + b.mem),
    disk: round3(a.disk + b.disk),
    ports: normalise([...a.ports, ...b.ports]),
  };
}

function subtractPlain(a: PlainBag, b: PlainBag): PlainBag {
  return {
    cpus: Math.max(0, round3(a.cpus - b.cpus)),
    mem: Math.max(0, round3(a.mem - b.mem)),
    disk: Math.max(0, round3(a.disk - b.disk)),
    ports: subtractRanges(a.ports, b.ports),
  };
}

function containsPlain(outer: PlainBag, inner: PlainBag): boolean {
  return round3(outer.cpus - inner.cpus) >= 0 && round3(outer.mem - inner.mem) >= 0
    && round3(outer.disk - inner.disk) >= 0 && rangesContain(outer.ports, inner.ports);
}

function withReserved(plain: PlainBag, reserved: Map<string, ReservedPart>, volumes?: Map<string, Volume>): ResourceBag {
  for (const [k, p] of reserved) if (plainEmpty(p)) reserved.delete(k);
  return { ...plain, ...(reserved.size > 0 ? { reserved } : {}), ...(volumes && volumes.size > 0 ? { volumes } : {}) };
}

export function addBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  const reserved = new Map(a.reserved ?? []);
  for (const [k, p] of b.reserved ?? []) {
    const mine = reserved.get(k);
    reserved.set(k, { ...addPlain(mine ?? emptyBag(), p), reservations: p.reservations });
  }
  const volumes = new Map(a.volumes ?? []);
  for (const [k, v] of b.volumes ?? []) volumes.set(k, v);
  return withReserved(addPlain(a, b), reserved, volumes);
}

export function subtractBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  const reserved = new Map(a.reserved ?? []);
  for (const [k, p] of b.reserved ?? []) {
    const mine = reserved.get(k);
    if (mine) reserved.set(k, { ...subtractPlain(mine, p), reservations: mine.reservations });
  }
  const volumes = new Map(a.volumes ?? []);
  for (const k of b.volumes?.keys() ?? []) volumes.delete(k);
  return withReserved(subtractPlain(a, b), reserved, volumes);
}

export function containsBag(outer: ResourceBag, inner: ResourceBag): boolean {
  if (!containsPlain(outer, inner)) return false;
  for (const [k, p] of inner.reserved ?? []) {
    if (plainEmpty(p)) continue;
    const mine = outer.reserved?.get(k);
    if (!mine || !containsPlain(mine, p)) return false;
  }
  for (const k of inner.volumes?.keys() ?? []) if (!outer.volumes?.has(k)) return false;
  return true;
}

/** The same amounts with the reservation stack `stack` (empty: unreserved). */
export function reservedAs(b: PlainBag, stack: readonly Reservation[]): ResourceBag {
  const plain = clonePlain(b);
  if (stack.length === 0) return plain;
  return withReserved(emptyBag(), new Map([[stackKey(stack), { ...plain, reservations: stack }]]));
}

/** A bag holding one persistent volume. */
export function volumeBag(v: Volume): ResourceBag {
  return { ...emptyBag(), volumes: new Map([[volumeKey(v), v]]) };
}

/** Every part's amounts, unreserved, volumes as disk (what the state endpoint sums). */
export function flatten(b: ResourceBag): PlainBag {
  let out = clonePlain(b);
  for (const p of b.reserved?.values() ?? []) out = addPlain(out, p);
  for (const v of b.volumes?.values() ?? []) out = addPlain(out, { ...emptyBag(), disk: v.size });
  return out;
}

/**
 * Resources in the JSON mapping, as an offer carries them: unreserved with
 * role '*'; reserved ones in the refined format (`reservations`), or with
 * `preRefinement` as the master converts them for frameworks without the
 * RESERVATION_REFINEMENT capability (`role` and `reservation`).
 */
export function bagToResources(b: ResourceBag, allocationRole?: string, preRefinement = false): Resource[] {
  const out: Resource[] = [];
  const alloc = allocationRole === undefined ? {} : { allocation_info: { role: allocationRole } };
  const reservationFields = (stack: readonly Reservation[]): Record<string, unknown> => {
    if (preRefinement && stack.length === 1) {
      const { role, principal, labels } = stack[0]!;
      return { role, reservation: { ...(principal !== undefined ? { principal } : {}), ...(labels ? { labels: structuredClone(labels) } : {}) } };
    }
    return {
      reservations: stack.map(({ role, principal, labels }) => ({
        type: 'DYNAMIC', role, ...(principal !== undefined ? { principal } : {}), ...(labels ? { labels: structuredClone(labels) } : {}),
      })),
    };
  };
  const push = (p: PlainBag, reservation: Record<string, unknown>): void => {
    const scalar = (name: string, value: number): void => {
      if (value > 0) out.push({ name, type: 'SCALAR', scalar: { value }, ...reservation, ...alloc });
    };
    scalar('cpus', p.cpus);
    scalar('mem', p.mem);
    scalar('disk', p.disk);
    if (p.ports.length > 0) {
      out.push({ name: 'ports', type: 'RANGES', ranges: { range: p.ports.map((r) => ({ ...r })) }, ...reservation, ...alloc });
    }
  };
  push(b, { role: '*' });
  for (const p of b.reserved?.values() ?? []) push(p, reservationFields(p.reservations));
  for (const v of b.volumes?.values() ?? []) {
    out.push({
      name: 'disk', type: 'SCALAR', scalar: { value: v.size }, ...reservationFields(v.reservations),
      disk: { persistence: { id: v.id, ...(v.principal !== undefined ? { principal: v.principal } : {}) }, volume: { mode: 'RW', container_path: v.containerPath } },
      ...alloc,
    });
  }
  return out;
}

export class ResourceError extends Error {}

/**
 * Reads task resources. Unknown names or types (gpus, static reservations,
 * disk sources) are refused: the emulated agents have none, so Mesos would
 * find the task does not fit its offers.
 */
export function resourcesToBag(resources: readonly Resource[] | undefined): ResourceBag {
  let out: ResourceBag = emptyBag();
  for (const r of resources ?? []) {
    const stack = reservationStack(r);
    const volume = volumeOf(r, stack);
    out = addBags(out, volume ? volumeBag(volume) : reservedAs(plainOf(r), stack));
  }
  return out;
}

/** The persistent volume a resource names, if it is one. */
export function volumeOf(r: Resource, stack = reservationStack(r)): Volume | undefined {
  const persistence = r.disk?.persistence;
  if (!persistence) return undefined;
  if (r.disk?.source) throw new ResourceError(`resource '${r.name}' is on a disk source, which the emulated agents do not hold`);
  const { disk: _disk, ...plain } = r;
  const size = plainOf(plain).disk;
  return {
    id: persistence.id, ...(persistence.principal !== undefined ? { principal: persistence.principal } : {}),
    containerPath: r.disk?.volume?.container_path ?? '', size, reservations: stack,
  };
}

/** The resource's dynamic reservations, outermost first (refined `reservations`, or the pre-refinement `role` + `reservation`); empty if unreserved. */
export function reservationStack(r: Resource): Reservation[] {
  const stack = r.reservations ?? [];
  const pre = r.reservation;
  if (stack.length === 0 && r.role !== undefined && r.role !== '*') {
    if (!pre) throw new ResourceError(`resource '${r.name}' is statically reserved for '${r.role}', which the emulated agents do not hold`);
    return [{ role: r.role, ...(pre.principal !== undefined ? { principal: pre.principal } : {}), ...(pre.labels ? { labels: pre.labels } : {}) }];
  }
  return stack.map((one) => {
    if (one.type === 'STATIC') throw new ResourceError(`resource '${r.name}' is statically reserved for '${one.role ?? ''}', which the emulated agents do not hold`);
    return { role: one.role ?? '', ...(one.principal !== undefined ? { principal: one.principal } : {}), ...(one.labels ? { labels: one.labels } : {}) };
  });
}

function plainOf(r: Resource): PlainBag {
  const bag = emptyBag();
  {
    if (r.disk?.source) throw new ResourceError(`resource '${r.name}' is on a disk source, which the emulated agents do not hold`);
    if (r.name === 'ports') {
      if (r.type !== 'RANGES') throw new ResourceError(`resource 'ports' must be RANGES, got ${r.type}`);
      bag.ports = normalise([...bag.ports, ...(r.ranges?.range ?? [])]);
      return bag;
    }
    if (r.name !== 'cpus' && r.name !== 'mem' && r.name !== 'disk') {
      throw new ResourceError(`resource '${r.name}' is not offered by the emulated agents`);
    }
    if (r.type !== 'SCALAR' || !r.scalar || !Number.isFinite(r.scalar.value)) {
      throw new ResourceError(`resource '${r.name}' must be a SCALAR with a finite value`);
    }
    if (r.scalar.value < 0) throw new ResourceError(`resource '${r.name}' is negative`);
    bag[r.name] = round3(bag[r.name] + r.scalar.value);
  }
  return bag;
}

/** Resources as Mesos prints them: `cpus:1; mem(reservations: [(DYNAMIC,dev,alice)]):64`. */
export function formatBag(b: ResourceBag): string {
  const parts: string[] = [];
  const push = (p: PlainBag, tag: string): void => {
    if (p.cpus > 0) parts.push(`cpus${tag}:${p.cpus}`);
    if (p.mem > 0) parts.push(`mem${tag}:${p.mem}`);
    if (p.disk > 0) parts.push(`disk${tag}:${p.disk}`);
    if (p.ports.length > 0) parts.push(`ports${tag}:[${p.ports.map((r) => `${r.begin}-${r.end}`).join(', ')}]`);
  };
  const tag = (stack: readonly Reservation[]): string => stack.length === 0 ? '' :
    `(reservations: [${stack.map(({ role, principal }) => `(DYNAMIC,${role}${principal !== undefined ? `,${principal}` : ''})`).join(', ')}])`;
  push(b, '');
  for (const p of b.reserved?.values() ?? []) push(p, tag(p.reservations));
  for (const v of b.volumes?.values() ?? []) parts.push(`disk${tag(v.reservations)}[${v.id}:${v.containerPath}]:${v.size}`);
  return parts.join('; ') || '{}';
}
