/**
 * A tiny deterministic PRNG (the mulberry32 mixing function) so machines can
 * draw jitter without Math.random: the state lives in machine context, is
 * seeded from input, and every draw returns the next state. Same seed, same
 * sequence — reproducible tests and runs.
 */

export interface RandomDraw {
  /** Uniform in [0, 1). */
  value: number;
  /** The state to keep for the next draw. */
  state: number;
}

/** Normalises any number (seed) to a 32-bit unsigned state. */
export function seedState(seed: number): number {
  return Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
}

export function nextRandom(state: number): RandomDraw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: next };
}
