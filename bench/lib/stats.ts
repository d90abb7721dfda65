/** Small statistics helpers and a high-resolution wall clock. */
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch with sub-millisecond resolution (for RunDeps.now and spans). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `check` is true (polled), rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string, stepMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Full GC (needs --expose-gc) then heap used and RSS in bytes. */
export function memory(): { heapUsed: number; rss: number } {
  const gc = (globalThis as { gc?: (opts?: unknown) => void }).gc;
  if (gc) { gc(); gc(); }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}
