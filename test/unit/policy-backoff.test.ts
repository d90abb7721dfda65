import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, baseDelayMs, nextBackoff, truncatedExponentialMs } from '../../machines/policy/backoff.js';
import { nextRandom, seedState } from '../../machines/policy/prng.js';
import { DEFAULT_TIMING, resolveTiming } from '../../machines/policy/timing.js';

const policy = { initialMs: 500, maxMs: 15_000, factor: 2, jitter: 0.2 };

test('base delay grows by the factor from the initial delay and stops at the cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10, 100].map((a) => baseDelayMs(a, policy)), [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
});

test('a huge attempt number does not overflow past the cap', () => {
  assert.equal(baseDelayMs(5000, policy), 15_000);
  assert.equal(backoffDelayMs(5000, policy, 0.999), 12_003);
});

test('jitter only shortens the delay, by at most the jitter fraction', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const base = baseDelayMs(attempt, policy);
    assert.equal(backoffDelayMs(attempt, policy, 0), base);
    const shortest = backoffDelayMs(attempt, policy, 0.999999);
    assert.ok(shortest >= Math.floor(base * 0.8) && shortest <= base, `attempt ${attempt}: ${shortest}`);
  }
});

test('no jitter gives the exact exponential delay; jitter outside 0..1 is clamped', () => {
  assert.equal(backoffDelayMs(3, { ...policy, jitter: 0 }, 0.7), 4000);
  assert.equal(backoffDelayMs(3, { ...policy, jitter: 5 }, 0.5), 2000);
  assert.equal(backoffDelayMs(3, { ...policy, jitter: -1 }, 0.5), 4000);
});

test('nextBackoff is deterministic for a seed and advances the PRNG state', () => {
  const a = nextBackoff(2, policy, seedState(7));
  const b = nextBackoff(2, policy, seedState(7));
  assert.deepEqual(a, b);
  assert.notEqual(a.rngState, seedState(7));
  const c = nextBackoff(2, policy, a.rngState);
  assert.ok(c.delayMs > 1600 && c.delayMs <= 2000);
});

test('the PRNG draws uniform-looking values in [0, 1) and differs by seed', () => {
  let state = seedState(123);
  let sum = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const draw = nextRandom(state);
    assert.ok(draw.value >= 0 && draw.value < 1);
    sum += draw.value;
    seen.add(draw.value);
    state = draw.state;
  }
  assert.ok(Math.abs(sum / 2000 - 0.5) < 0.05);
  assert.equal(seen.size, 2000);
  assert.notEqual(nextRandom(seedState(1)).value, nextRandom(seedState(2)).value);
  assert.equal(seedState(-1), 0xffffffff);
  assert.equal(seedState(Number.NaN), 0);
});

test('truncated exponential doubles and caps (reconciliation retries)', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((a) => truncatedExponentialMs(a, 2000, 60_000)), [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

test('timing defaults: 500 ms ×2 capped at 15 s, 5 missed heartbeats; overrides apply, junk ignored', () => {
  assert.equal(DEFAULT_TIMING.backoffInitialMs, 500);
  assert.equal(DEFAULT_TIMING.backoffFactor, 2);
  assert.equal(DEFAULT_TIMING.backoffMaxMs, 15_000);
  assert.equal(DEFAULT_TIMING.missedHeartbeats, 5);
  const t = resolveTiming({ backoffMaxMs: 1000, reviveRepeatMs: Number.NaN });
  assert.equal(t.backoffMaxMs, 1000);
  assert.equal(t.reviveRepeatMs, DEFAULT_TIMING.reviveRepeatMs);
});
