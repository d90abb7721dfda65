import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, createActor, setup, SimulatedClock } from 'xstate';
import {
  catchUp, decideStart, DEFAULT_MAX_IN_FLIGHT, lastStartAtOrBefore, MAX_TIMER_MS, nextStartAfter, timerChunk, type JobSchedule,
} from '../../machines/policy/schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const every = (everyMs: number, extra: Partial<JobSchedule> = {}): JobSchedule => ({ kind: 'every', everyMs, concurrency: 'forbid', ...extra } as JobSchedule);
const cron = (expr: string, timezone: string, extra: Partial<JobSchedule> = {}): JobSchedule => ({ kind: 'cron', cron: expr, timezone, concurrency: 'forbid', ...extra } as JobSchedule);

/** The next `n` starts after `fromIso`. */
function starts(schedule: JobSchedule, fromIso: string, n: number, anchorMs = 0): (string | null)[] {
  const out: (string | null)[] = [];
  let t: number | null = at(fromIso);
  for (let i = 0; i < n && t !== null; i++) {
    t = nextStartAfter(schedule, t, anchorMs);
    out.push(iso(t));
  }
  return out;
}

test('every: starts lie on the grid from the anchor; before the anchor the first start is the anchor', () => {
  const s = every(15 * MIN);
  const anchor = at('2026-01-01T00:00:00Z');
  assert.equal(iso(nextStartAfter(s, anchor - 5, anchor)), '2026-01-01T00:00:00.000Z');
  assert.equal(iso(nextStartAfter(s, anchor, anchor)), '2026-01-01T00:15:00.000Z');
  assert.equal(iso(nextStartAfter(s, anchor + 20 * MIN, anchor)), '2026-01-01T00:30:00.000Z');
  assert.equal(iso(lastStartAtOrBefore(s, anchor + 30 * MIN, anchor)), '2026-01-01T00:30:00.000Z');
  assert.equal(lastStartAtOrBefore(s, anchor - 1, anchor), null);
});

test('every keeps real elapsed time across a daylight-saving change (it has no time zone)', () => {
  const s = every(HOUR);
  const anchor = at('2026-03-29T00:00:00Z');
  assert.deepEqual(starts(s, '2026-03-29T00:00:00Z', 3, anchor), ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z', '2026-03-29T03:00:00.000Z']);
});

test('cron in UTC: the next start is strictly after the given time', () => {
  const s = cron('0 3 * * *', 'UTC');
  assert.deepEqual(starts(s, '2026-01-01T03:00:00Z', 2), ['2026-01-02T03:00:00.000Z', '2026-01-03T03:00:00.000Z']);
  assert.equal(iso(nextStartAfter(s, at('2026-01-01T02:59:59.999Z'), 0)), '2026-01-01T03:00:00.000Z');
  assert.equal(iso(lastStartAtOrBefore(s, at('2026-01-03T03:00:00Z'), 0)), '2026-01-03T03:00:00.000Z');
  assert.equal(iso(lastStartAtOrBefore(s, at('2026-01-03T02:59:59Z'), 0)), '2026-01-02T03:00:00.000Z');
});

test('cron in Europe/Berlin: 03:00 local is 02:00 UTC in winter and 01:00 UTC in summer', () => {
  const s = cron('0 3 * * *', 'Europe/Berlin');
  assert.deepEqual(starts(s, '2026-03-27T12:00:00Z', 4), [
    '2026-03-28T02:00:00.000Z', // CET, UTC+1
    '2026-03-29T01:00:00.000Z', // the clocks went forward at 02:00: CEST, UTC+2
    '2026-03-30T01:00:00.000Z',
    '2026-03-31T01:00:00.000Z',
  ]);
});

test('Europe/Berlin spring-forward: a time in the skipped hour runs once, at the first valid time after the gap', () => {
  const s = cron('30 2 * * *', 'Europe/Berlin');
  assert.deepEqual(starts(s, '2026-03-27T12:00:00Z', 4), [
    '2026-03-28T01:30:00.000Z', // 02:30 CET
    '2026-03-29T01:00:00.000Z', // 02:30 does not exist on 29 March: 03:00 CEST
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
    '2026-03-31T00:30:00.000Z',
  ]);
});

test('Europe/Berlin fall-back: a time that occurs twice runs once, at its first occurrence', () => {
  const s = cron('30 2 * * *', 'Europe/Berlin');
  assert.deepEqual(starts(s, '2026-10-23T12:00:00Z', 4), [
    '2026-10-24T00:30:00.000Z', // 02:30 CEST
    '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two 02:30s; not again at 01:30Z
    '2026-10-26T01:30:00.000Z', // 02:30 CET
    '2026-10-27T01:30:00.000Z',
  ]);
});

test('an interval pattern keeps real time across the fall-back: the repeated hour runs twice', () => {
  const s = cron('*/30 * * * *', 'Europe/Berlin');
  assert.deepEqual(starts(s, '2026-10-24T23:50:00Z', 6), [
    '2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', // 02:00, 02:30 CEST
    '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z', // 02:00, 02:30 CET
    '2026-10-25T02:00:00.000Z', '2026-10-25T02:30:00.000Z',
  ]);
});

test('America/New_York: spring-forward and fall-back of a fixed-time job', () => {
  const s = cron('30 2 * * *', 'America/New_York');
  assert.deepEqual(starts(s, '2026-03-07T12:00:00Z', 3), [
    '2026-03-08T07:00:00.000Z', // 02:30 does not exist on 8 March: 03:00 EDT (UTC-4)
    '2026-03-09T06:30:00.000Z', // 02:30 EDT
    '2026-03-10T06:30:00.000Z',
  ]);
  assert.deepEqual(starts(s, '2026-10-31T12:00:00Z', 2), [
    '2026-11-01T07:30:00.000Z', // the clocks went back from 02:00 EDT to 01:00 EST: 02:30 happens once, in EST (UTC-5)
    '2026-11-02T07:30:00.000Z',
  ]);
  const oneThirty = cron('30 1 * * *', 'America/New_York');
  assert.deepEqual(starts(oneThirty, '2026-10-31T12:00:00Z', 2), [
    '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first of the two 01:30s
    '2026-11-02T06:30:00.000Z', // 01:30 EST
  ]);
});

test('a cron that never fires again gives null', () => {
  assert.equal(nextStartAfter(cron('0 0 30 2 *', 'UTC'), at('2026-01-01T00:00:00Z'), 0), null);
});

test('catch-up: a missed start runs at startup only while younger than starting-deadline', () => {
  const anchor = at('2026-01-01T00:00:00Z');
  const base = every(HOUR);
  const now = at('2026-01-01T05:10:00Z');
  const lastStart = at('2026-01-01T02:00:00Z');
  // No deadline: no catch-up, whatever was missed.
  assert.deepEqual(catchUp(base, lastStart, now, anchor), { missedAt: at('2026-01-01T05:00:00Z'), runNow: false, nextAt: at('2026-01-01T06:00:00Z') });
  // The newest missed start (05:00) is 10 minutes old.
  assert.equal(catchUp({ ...base, startingDeadlineMs: 15 * MIN }, lastStart, now, anchor).runNow, true);
  assert.equal(catchUp({ ...base, startingDeadlineMs: 10 * MIN }, lastStart, now, anchor).runNow, true);
  assert.equal(catchUp({ ...base, startingDeadlineMs: 5 * MIN }, lastStart, now, anchor).runNow, false);
  // Nothing missed: the last start is the newest due one.
  assert.deepEqual(catchUp({ ...base, startingDeadlineMs: DAY }, at('2026-01-01T05:00:00Z'), now, anchor), { missedAt: null, runNow: false, nextAt: at('2026-01-01T06:00:00Z') });
  // A job that never started has missed nothing.
  assert.equal(catchUp({ ...base, startingDeadlineMs: DAY }, undefined, now, anchor).missedAt, null);
});

test('catch-up of a cron schedule in a time zone', () => {
  const s = cron('0 3 * * *', 'Europe/Berlin', { startingDeadlineMs: 2 * HOUR });
  const lastStart = at('2026-06-01T01:00:00Z');
  const down = catchUp(s, lastStart, at('2026-06-02T02:30:00Z'), 0);
  assert.deepEqual(down, { missedAt: at('2026-06-02T01:00:00Z'), runNow: true, nextAt: at('2026-06-03T01:00:00Z') });
  assert.equal(catchUp(s, lastStart, at('2026-06-02T03:30:00Z'), 0).runNow, false);
});

test('concurrency: forbid skips a start while the last round runs, allow starts anyway', () => {
  assert.deepEqual(decideStart('forbid', 1), { start: false, reason: 'round-running' });
  assert.deepEqual(decideStart('forbid', 0), { start: true, overlap: false });
  assert.deepEqual(decideStart('allow', 1), { start: true, overlap: true });
  assert.deepEqual(decideStart('allow', 0), { start: true, overlap: false });
  assert.deepEqual(decideStart('allow', 2, 2), { start: false, reason: 'max-in-flight' });
  assert.deepEqual(decideStart('allow', DEFAULT_MAX_IN_FLIGHT - 1), { start: true, overlap: true });
  assert.deepEqual(decideStart('allow', DEFAULT_MAX_IN_FLIGHT), { start: false, reason: 'max-in-flight' });
});

test('timerChunk splits a wait into pieces a Node timer holds', () => {
  assert.deepEqual(timerChunk(0), { waitMs: 0, remainingMs: 0 });
  assert.deepEqual(timerChunk(-5), { waitMs: 0, remainingMs: 0 });
  assert.deepEqual(timerChunk(1000), { waitMs: 1000, remainingMs: 0 });
  assert.deepEqual(timerChunk(MAX_TIMER_MS), { waitMs: MAX_TIMER_MS, remainingMs: 0 });
  assert.deepEqual(timerChunk(MAX_TIMER_MS + 1), { waitMs: MAX_TIMER_MS, remainingMs: 1 });
});

/** A SimulatedClock that records every delay it is asked to hold. */
class RecordingClock extends SimulatedClock {
  readonly delays: number[] = [];
  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    this.delays.push(timeout);
    return super.setTimeout(fn, timeout);
  }
}

test('a 60-day wait is chained through the xstate clock in pieces, never fired at once', () => {
  const waiter = setup({
    types: { context: {} as { remainingMs: number; pieces: number }, input: {} as { delayMs: number } },
    delays: { piece: ({ context }) => timerChunk(context.remainingMs).waitMs },
  }).createMachine({
    context: ({ input }) => ({ remainingMs: input.delayMs, pieces: 0 }),
    initial: 'waiting',
    states: {
      waiting: {
        after: {
          piece: [
            { guard: ({ context }) => timerChunk(context.remainingMs).remainingMs === 0, target: 'due' },
            {
              target: 'waiting',
              reenter: true,
              actions: assign({ remainingMs: ({ context }) => timerChunk(context.remainingMs).remainingMs, pieces: ({ context }) => context.pieces + 1 }),
            },
          ],
        },
      },
      due: { type: 'final' },
    },
  });
  const clock = new RecordingClock();
  const sixtyDays = 60 * DAY;
  const actor = createActor(waiter, { clock, input: { delayMs: sixtyDays } }).start();

  clock.increment(MAX_TIMER_MS);
  assert.equal(actor.getSnapshot().value, 'waiting', 'not due after the first piece');
  clock.increment(MAX_TIMER_MS);
  assert.equal(actor.getSnapshot().value, 'waiting', 'not due after the second piece');
  clock.increment(sixtyDays - 2 * MAX_TIMER_MS - 1);
  assert.equal(actor.getSnapshot().value, 'waiting', 'not due 1 ms early');
  clock.increment(1);
  assert.equal(actor.getSnapshot().value, 'due');

  assert.ok(clock.delays.every((d) => d <= MAX_TIMER_MS), `every delay fits a Node timer: ${clock.delays.join(', ')}`);
  assert.equal(clock.delays.reduce((a, b) => a + b, 0), sixtyDays);
  assert.equal(clock.delays.length, 3);
});

test('croner, used inside machines/, imports nothing (no node: modules, no timers started by a calculation)', async () => {
  const { readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const entry = createRequire(import.meta.url).resolve('croner').replace(/croner\.cjs$/, 'croner.js');
  const source = await readFile(entry, 'utf8');
  assert.doesNotMatch(source, /\bimport\s*[\w{*]|\bimport\(|\brequire\(/);
});
