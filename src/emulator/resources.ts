/**
 * Agent resources as the emulator accounts them: the scalars cpus, mem and disk
 * and the `ports` ranges, which is what a default Mesos agent offers, unreserved
 * or dynamically reserved for a role (RESERVE). Scalars are kept in fixed point
 * with 3 decimals, as Mesos does, so 0.1 + 0.2 style sums compare exactly.
 */
import type { Labels, Range, Resource } from '../mesos/types.js';

/** One dynamic reservation (the refined format's single `reservations` entry). */
export interface Reservation {
  role: string;
  principal?: string;
  labels?: Labels;
}

export interface PlainBag {
  cpus: number;
  mem: number;
  disk: number;
  /** Sorted, non-overlapping, inclusive. */
  ports: Range[];
}

export interface ReservedPart extends PlainBag {
  reservation: Reservation;
}

/** The unreserved resources, plus those reserved, by reservationKey (resources with different reservations never merge). */
export interface ResourceBag extends PlainBag {
  reserved?: ReadonlyMap<string, ReservedPart>;
}

export function reservationKey(r: Reservation): string {
  return JSON.stringify([r.role, r.principal ?? null, (r.labels?.labels ?? []).map((l) => [l.key, l.value ?? null])]);
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
  return b.reserved && b.reserved.size > 0
    ? { ...out, reserved: new Map([...b.reserved].map(([k, p]) => [k, { ...clonePlain(p), reservation: structuredClone(p.reservation) }])) }
    : out;
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

export function isEmptyBag(b: ResourceBag): boolean {
  return plainEmpty(b) && [...(b.reserved?.values() ?? [])].every(plainEmpty);
}

/** What may be offered to `role`: the unreserved resources and those reserved for the role. */
export function bagForRole(b: ResourceBag, role: string): ResourceBag {
  const reserved = new Map([...(b.reserved ?? [])].filter(([, p]) => p.reservation.role === role));
  return cloneBag(reserved.size > 0 ? { ...b, reserved } : { cpus: b.cpus, mem: b.mem, disk: b.disk, ports: b.ports });
}

/** Scalars summed over unreserved and reserved (for fair shares). */
export function scalarTotals(b: ResourceBag): { cpus: number; mem: number } {
  let cpus = b.cpus;
  let mem = b.mem;
  for (const p of b.reserved?.values() ?? []) { cpus += p.cpus; mem += p.mem; }
  return { cpus: round3(cpus), mem: round3(mem) };
}

/** The reserved part alone (an empty unreserved part). */
export function reservedOnly(b: ResourceBag): ResourceBag {
  return { ...emptyBag(), ...(b.reserved ? { reserved: b.reserved } : {}) };
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

function withReserved(plain: PlainBag, reserved: Map<string, ReservedPart>): ResourceBag {
  for (const [k, p] of reserved) if (plainEmpty(p)) reserved.delete(k);
  return reserved.size > 0 ? { ...plain, reserved } : plain;
}

export function addBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  const reserved = new Map(a.reserved ?? []);
  for (const [k, p] of b.reserved ?? []) {
    const mine = reserved.get(k);
    reserved.set(k, { ...addPlain(mine ?? emptyBag(), p), reservation: p.reservation });
  }
  return withReserved(addPlain(a, b), reserved);
}

export function subtractBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  const reserved = new Map(a.reserved ?? []);
  for (const [k, p] of b.reserved ?? []) {
    const mine = reserved.get(k);
    if (mine) reserved.set(k, { ...subtractPlain(mine, p), reservation: mine.reservation });
  }
  return withReserved(subtractPlain(a, b), reserved);
}

export function containsBag(outer: ResourceBag, inner: ResourceBag): boolean {
  if (!containsPlain(outer, inner)) return false;
  for (const [k, p] of inner.reserved ?? []) {
    if (plainEmpty(p)) continue;
    const mine = outer.reserved?.get(k);
    if (!mine || !containsPlain(mine, p)) return false;
  }
  return true;
}

/** The same amounts reserved with `reservation` (RESERVE) or unreserved (UNRESERVE, `reservation` undefined). */
export function reservedAs(b: PlainBag, reservation: Reservation | undefined): ResourceBag {
  const plain = clonePlain(b);
  if (!reservation) return plain;
  return withReserved(emptyBag(), new Map([[reservationKey(reservation), { ...plain, reservation }]]));
}

/** Every part's amounts, unreserved (what UNRESERVE / RESERVE convert from). */
export function flatten(b: ResourceBag): PlainBag {
  let out = clonePlain(b);
  for (const p of b.reserved?.values() ?? []) out = addPlain(out, p);
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
  for (const p of b.reserved?.values() ?? []) {
    const { role, principal, labels } = p.reservation;
    const info = { ...(principal !== undefined ? { principal } : {}), ...(labels ? { labels: structuredClone(labels) } : {}) };
    push(p, preRefinement ? { role, reservation: info } : { reservations: [{ type: 'DYNAMIC', role, ...info }] });
  }
  return out;
}

export class ResourceError extends Error {}

/**
 * Reads task resources. Unknown names or types (gpus, reservations, volumes)
 * are refused: the emulated agents have none, so Mesos would find the task
 * does not fit its offers.
 */
export function resourcesToBag(resources: readonly Resource[] | undefined): ResourceBag {
  let out: ResourceBag = emptyBag();
  for (const r of resources ?? []) {
    const reservation = reservationOf(r);
    const one = plainOf(r);
    out = addBags(out, reservedAs(one, reservation));
  }
  return out;
}

/** The resource's dynamic reservation (refined `reservations`, or the pre-refinement `role` + `reservation`), undefined if unreserved. */
export function reservationOf(r: Resource): Reservation | undefined {
  const stack = r.reservations ?? [];
  if (stack.length > 1) throw new ResourceError(`resource '${r.name}' has refined reservations, which the emulated agents do not hold`);
  const top = stack[0];
  const pre = r.reservation;
  if (!top && r.role !== undefined && r.role !== '*') {
    if (!pre) throw new ResourceError(`resource '${r.name}' is statically reserved for '${r.role}', which the emulated agents do not hold`);
    return { role: r.role, ...(pre.principal !== undefined ? { principal: pre.principal } : {}), ...(pre.labels ? { labels: pre.labels } : {}) };
  }
  if (!top) return undefined;
  if (top.type === 'STATIC') throw new ResourceError(`resource '${r.name}' is statically reserved for '${top.role ?? ''}', which the emulated agents do not hold`);
  return { role: top.role ?? '', ...(top.principal !== undefined ? { principal: top.principal } : {}), ...(top.labels ? { labels: top.labels } : {}) };
}

function plainOf(r: Resource): PlainBag {
  const bag = emptyBag();
  {
    if (r.disk?.persistence || r.disk?.source) throw new ResourceError(`resource '${r.name}' is a persistent volume or disk source, which the emulated agents do not hold`);
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
  push(b, '');
  for (const p of b.reserved?.values() ?? []) {
    const { role, principal } = p.reservation;
    push(p, `(reservations: [(DYNAMIC,${role}${principal !== undefined ? `,${principal}` : ''})])`);
  }
  return parts.join('; ') || '{}';
}
