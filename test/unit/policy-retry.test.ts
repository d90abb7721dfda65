import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideTaskEnd, retryDelay, RETRY_JITTER, type RetryPolicy, type TaskEnd } from '../../machines/policy/retry.js';
import { baseDelayMs } from '../../machines/policy/backoff.js';
import { seedState } from '../../machines/policy/prng.js';

const policy: RetryPolicy = { max: 3, backoffMs: 10_000, backoffMaxMs: 60_000 };
const seed = seedState(42);
const end = (state: string, extra: Partial<TaskEnd> = {}): TaskEnd => ({ state, killedByUs: false, reachedMaster: true, retriesSpent: 0, ...extra });

test('the retry delay starts at backoff, doubles, stops at backoff-max, and jitter only shortens it', () => {
  const bases = [0, 1, 2, 3, 4, 10].map((n) => baseDelayMs(n, { initialMs: policy.backoffMs, maxMs: policy.backoffMaxMs, factor: 2, jitter: 0 }));
  assert.deepEqual(bases, [10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  let state = seed;
  for (let n = 0; n < 8; n++) {
    const base = bases[Math.min(n, 3)]!;
    const { delayMs, rngState } = retryDelay(n, policy, state);
    assert.ok(delayMs <= base && delayMs >= Math.floor(base * (1 - RETRY_JITTER)), `retry ${n}: ${delayMs} of ${base}`);
    assert.notEqual(rngState, state);
    state = rngState;
  }
});

test('the same PRNG state gives the same delay', () => {
  assert.deepEqual(retryDelay(2, policy, seed), retryDelay(2, policy, seed));
});

test('backoff-max below backoff does not shorten the first delay', () => {
  const { delayMs } = retryDelay(0, { max: 1, backoffMs: 10_000, backoffMaxMs: 1_000 }, seed);
  assert.ok(delayMs > 1_000);
});

const cases: { name: string; end: TaskEnd; policy: RetryPolicy | undefined; outcome: string; spendsRetry?: boolean }[] = [
  { name: 'TASK_FINISHED is a success', end: end('TASK_FINISHED'), policy, outcome: 'finished' },
  { name: 'TASK_FINISHED of a task we were killing is still a success', end: end('TASK_FINISHED', { killedByUs: true }), policy, outcome: 'finished' },
  { name: 'TASK_FAILED with retries left is relaunched', end: end('TASK_FAILED'), policy, outcome: 'relaunch', spendsRetry: true },
  { name: 'TASK_LOST of a task the master saw is a failure and retried', end: end('TASK_LOST'), policy, outcome: 'relaunch', spendsRetry: true },
  { name: 'TASK_ERROR is retried', end: end('TASK_ERROR'), policy, outcome: 'relaunch', spendsRetry: true },
  { name: 'TASK_KILLED by someone else is retried', end: end('TASK_KILLED'), policy, outcome: 'relaunch', spendsRetry: true },
  { name: 'a task that has spent its retries fails', end: end('TASK_FAILED', { retriesSpent: 3 }), policy, outcome: 'failed' },
  { name: 'the last retry is still granted', end: end('TASK_FAILED', { retriesSpent: 2 }), policy, outcome: 'relaunch', spendsRetry: true },
  { name: 'without a retry policy a failure fails', end: end('TASK_FAILED'), policy: undefined, outcome: 'failed' },
  { name: 'max 0 never retries', end: end('TASK_FAILED'), policy: { ...policy, max: 0 }, outcome: 'failed' },
  { name: 'a task killed by our own stop, grace, /kill or removal is never retried', end: end('TASK_KILLED', { killedByUs: true }), policy, outcome: 'stopped' },
  { name: 'killed by us but ended otherwise is not retried either', end: end('TASK_FAILED', { killedByUs: true }), policy, outcome: 'stopped' },
  { name: 'a task that never reached the master is relaunched without spending a retry', end: end('TASK_LOST', { reachedMaster: false, retriesSpent: 3 }), policy, outcome: 'relaunch', spendsRetry: false },
  { name: 'never reached the master, without a retry policy: relaunched all the same', end: end('TASK_UNKNOWN', { reachedMaster: false }), policy: undefined, outcome: 'relaunch', spendsRetry: false },
  { name: 'never reached the master but killed by our stop: not relaunched', end: end('TASK_LOST', { reachedMaster: false, killedByUs: true }), policy, outcome: 'stopped' },
];

for (const c of cases) {
  test(`decideTaskEnd: ${c.name}`, () => {
    const decision = decideTaskEnd(c.end, c.policy, seed);
    assert.equal(decision.outcome, c.outcome);
    if (decision.outcome === 'relaunch') {
      assert.equal(decision.spendsRetry, c.spendsRetry);
      if (!decision.spendsRetry) {
        assert.equal(decision.delayMs, 0, 'at once');
        assert.equal(decision.rngState, seed, 'no draw');
      } else {
        assert.deepEqual({ delayMs: decision.delayMs, rngState: decision.rngState }, retryDelay(c.end.retriesSpent, c.policy!, seed));
      }
    }
  });
}
