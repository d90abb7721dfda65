/** Bench sizes: full by default, small with BENCH_QUICK=1 (development, CI smoke). */
export interface BenchOptions {
  quick: boolean;
  /** Where bench/.work lives (mesos-framework is installed there). */
  workDir: string;
  log: (line: string) => void;
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

export function envList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const list = raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n) && n > 0);
  return list.length > 0 ? list : fallback;
}
