/**
 * Agent resources as the emulator accounts them: the scalars cpus, mem and disk
 * and the `ports` ranges, which is what a default Mesos agent offers. Scalars
 * are kept in fixed point with 3 decimals, as Mesos does, so 0.1 + 0.2 style
 * sums compare exactly.
 */
import type { Range, Resource } from '../mesos/types.js';

export interface ResourceBag {
  cpus: number;
  mem: number;
  disk: number;
  /** Sorted, non-overlapping, inclusive. */
  ports: Range[];
}

/** Mesos' smallest allocatable amounts (src/master/constants.hpp MIN_CPUS, MIN_MEM). */
const MIN_CPUS = 0.01;
const MIN_MEM = 32;

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function emptyBag(): ResourceBag {
  return { cpus: 0, mem: 0, disk: 0, ports: [] };
}

export function cloneBag(b: ResourceBag): ResourceBag {
  return { cpus: b.cpus, mem: b.mem, disk: b.disk, ports: b.ports.map((r) => ({ begin: r.begin, end: r.end })) };
}

/** Enough left to be worth offering (the allocator's minimum). */
export function isAllocatable(b: ResourceBag): boolean {
  return b.cpus >= MIN_CPUS || b.mem >= MIN_MEM;
}

export function isEmptyBag(b: ResourceBag): boolean {
  return b.cpus <= 0 && b.mem <= 0 && b.disk <= 0 && b.ports.length === 0;
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

export function addBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  return {
    cpus: round3(a.cpus + b.cpus),
    mem: round3(a.mem + b.mem),
    disk: round3(a.disk + b.disk),
    ports: normalise([...a.ports, ...b.ports]),
  };
}

export function subtractBags(a: ResourceBag, b: ResourceBag): ResourceBag {
  return {
    cpus: Math.max(0, round3(a.cpus - b.cpus)),
    mem: Math.max(0, round3(a.mem - b.mem)),
    disk: Math.max(0, round3(a.disk - b.disk)),
    ports: subtractRanges(a.ports, b.ports),
  };
}

export function containsBag(outer: ResourceBag, inner: ResourceBag): boolean {
  return round3(outer.cpus - inner.cpus) >= 0 && round3(outer.mem - inner.mem) >= 0
    && round3(outer.disk - inner.disk) >= 0 && rangesContain(outer.ports, inner.ports);
}

/** Resources in the JSON mapping, as an offer carries them (role '*', unreserved). */
export function bagToResources(b: ResourceBag, allocationRole?: string): Resource[] {
  const out: Resource[] = [];
  const alloc = allocationRole === undefined ? {} : { allocation_info: { role: allocationRole } };
  const scalar = (name: string, value: number): void => {
    if (value > 0) out.push({ name, type: 'SCALAR', scalar: { value }, role: '*', ...alloc });
  };
  scalar('cpus', b.cpus);
  scalar('mem', b.mem);
  scalar('disk', b.disk);
  if (b.ports.length > 0) {
    out.push({ name: 'ports', type: 'RANGES', ranges: { range: b.ports.map((r) => ({ ...r })) }, role: '*', ...alloc });
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
  const bag = emptyBag();
  for (const r of resources ?? []) {
    if (r.name === 'ports') {
      if (r.type !== 'RANGES') throw new ResourceError(`resource 'ports' must be RANGES, got ${r.type}`);
      bag.ports = normalise([...bag.ports, ...(r.ranges?.range ?? [])]);
      continue;
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

export function formatBag(b: ResourceBag): string {
  const parts: string[] = [];
  if (b.cpus > 0) parts.push(`cpus:${b.cpus}`);
  if (b.mem > 0) parts.push(`mem:${b.mem}`);
  if (b.disk > 0) parts.push(`disk:${b.disk}`);
  if (b.ports.length > 0) parts.push(`ports:[${b.ports.map((r) => `${r.begin}-${r.end}`).join(', ')}]`);
  return parts.join('; ') || '{}';
}
