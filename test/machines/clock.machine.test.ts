/**
 * The clock of a scheduled job (machines/supervisor/clock.machine.ts) under
 * xstate's SimulatedClock: `starting-deadline` catch-up at startup (a start
 * missed while down runs once, only while younger than the deadline, never
 * without one), and waits longer than a Node timer holds taken in pieces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assign, createActor, setup, SimulatedClock } from 'xstate';
import { clockMachine, type ClockDue, type ClockInput } from '../../machines/supervisor/clock.machine.js';
import { MAX_TIMER_MS, type JobSchedule } from '../../machines/policy/schedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string): number => Date.parse(iso);

/** A SimulatedClock that records every delay it is asked to hold. */
class RecordingClock extends SimulatedClock {
  readonly delays: number[] = [];
  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    this.delays.push(timeout);
    return super.setTimeout(fn, timeout);
  }
}

/** The clock as the supervisor runs it: a child that sends `clock.due` to its parent, which keeps them. */
function startClock(input: ClockInput) {
  const parent = setup({
    types: { context: {} as { dues: ClockDue[] }, events: {} as ClockDue },
    actors: { clock: clockMachine },
  }).createMachine({
    context: { dues: [] },
    invoke: { src: 'clock', input },
    on: { 'clock.due': { actions: assign({ dues: ({ context, event }) => [...context.dues, event] }) } },
  });
  const clock = new RecordingClock();
  const actor = createActor(parent, { clock }).start();
  // Waits of 0 ms fire on the next increment.
  clock.increment(0);
  return {
    clock,
    dues: () => actor.getSnapshot().context.dues.map((d) => ({ at: new Date(d.at).toISOString(), catchUp: d.catchUp })),
    /** Moves the simulated time on by `ms`, one timer at a time. */
    advance: (ms: number) => clock.increment(ms),
  };
}

const hourly = (startingDeadlineMs?: number): JobSchedule => ({
  kind: 'every', everyMs: HOUR, concurrency: 'forbid', ...(startingDeadlineMs !== undefined ? { startingDeadlineMs } : {}),
});
const anchorAt = at('2026-01-01T00:00:00Z');

test('a start missed while down runs once at startup when younger than starting-deadline, then the schedule goes on', () => {
  // Down from before 05:00 to 05:10; the 05:00 start is 10 minutes old.
  const c = startClock({ job: 'tick', schedule: hourly(15 * MIN), now: at('2026-01-01T05:10:00Z'), anchorAt, lastStartAt: at('2026-01-01T04:00:00Z') });
  assert.deepEqual(c.dues(), [{ at: '2026-01-01T05:10:00.000Z', catchUp: true }]);
  c.advance(50 * MIN - 1);
  assert.equal(c.dues().length, 1, 'nothing more before 06:00');
  c.advance(1);
  assert.deepEqual(c.dues().at(-1), { at: '2026-01-01T06:00:00.000Z', catchUp: false });
});

test('a missed start older than starting-deadline is not run; the next regular one is', () => {
  const c = startClock({ job: 'tick', schedule: hourly(5 * MIN), now: at('2026-01-01T05:10:00Z'), anchorAt, lastStartAt: at('2026-01-01T04:00:00Z') });
  assert.deepEqual(c.dues(), []);
  c.advance(50 * MIN - 1);
  assert.deepEqual(c.dues(), []);
  c.advance(1);
  assert.deepEqual(c.dues(), [{ at: '2026-01-01T06:00:00.000Z', catchUp: false }]);
});

test('without starting-deadline nothing is caught up, however young the missed start', () => {
  const c = startClock({ job: 'tick', schedule: hourly(), now: at('2026-01-01T05:00:01Z'), anchorAt, lastStartAt: at('2026-01-01T04:00:00Z') });
  assert.deepEqual(c.dues(), []);
  c.advance(HOUR - 1000 - 1);
  assert.deepEqual(c.dues(), []);
  c.advance(1);
  assert.deepEqual(c.dues(), [{ at: '2026-01-01T06:00:00.000Z', catchUp: false }]);
});

test('several starts missed while down are caught up once, not once each', () => {
  // Last start 01:00; 02:00, 03:00, 04:00 and 05:00 were missed; the deadline covers them all.
  const c = startClock({ job: 'tick', schedule: hourly(6 * HOUR), now: at('2026-01-01T05:10:00Z'), anchorAt, lastStartAt: at('2026-01-01T01:00:00Z') });
  assert.deepEqual(c.dues(), [{ at: '2026-01-01T05:10:00.000Z', catchUp: true }]);
  c.advance(50 * MIN - 1);
  assert.equal(c.dues().length, 1);
  c.advance(1);
  assert.deepEqual(c.dues().map((d) => d.at), ['2026-01-01T05:10:00.000Z', '2026-01-01T06:00:00.000Z']);
});

test('a cron start missed while down in a time zone is caught up inside the deadline', () => {
  // 03:00 Europe/Berlin is 01:00 UTC in summer; up again at 02:30 UTC, 90 minutes late.
  const schedule: JobSchedule = { kind: 'cron', cron: '0 3 * * *', timezone: 'Europe/Berlin', concurrency: 'forbid', startingDeadlineMs: 2 * HOUR };
  const c = startClock({ job: 'nightly', schedule, now: at('2026-06-02T02:30:00Z'), lastStartAt: at('2026-06-01T01:00:00Z') });
  assert.deepEqual(c.dues(), [{ at: '2026-06-02T02:30:00.000Z', catchUp: true }]);
  const late = startClock({ job: 'nightly', schedule: { ...schedule, startingDeadlineMs: HOUR }, now: at('2026-06-02T02:30:00Z'), lastStartAt: at('2026-06-01T01:00:00Z') });
  assert.deepEqual(late.dues(), []);
  late.advance(at('2026-06-03T01:00:00Z') - at('2026-06-02T02:30:00Z'));
  assert.deepEqual(late.dues(), [{ at: '2026-06-03T01:00:00.000Z', catchUp: false }]);
});

test('a start further away than a timer holds is waited for in pieces, never fired at once', () => {
  const now = at('2026-01-01T00:00:01Z');
  const schedule: JobSchedule = { kind: 'cron', cron: '0 0 1 1 *', timezone: 'UTC', concurrency: 'forbid' };
  const c = startClock({ job: 'yearly', schedule, now });
  const due = at('2027-01-01T00:00:00Z');
  let left = due - now;
  assert.ok(left > 10 * MAX_TIMER_MS);
  while (left > MAX_TIMER_MS) {
    c.advance(MAX_TIMER_MS);
    left -= MAX_TIMER_MS;
    assert.deepEqual(c.dues(), [], `${left} ms before the start`);
  }
  c.advance(left - 1);
  assert.deepEqual(c.dues(), []);
  c.advance(1);
  assert.deepEqual(c.dues(), [{ at: '2027-01-01T00:00:00.000Z', catchUp: false }]);
  assert.ok(c.clock.delays.every((d) => d <= MAX_TIMER_MS), `every delay fits a Node timer: ${c.clock.delays.join(', ')}`);
  // The pieces add up to the wait (and then on to the next year's start).
  const pieces = c.clock.delays.slice(0, Math.ceil((due - now) / MAX_TIMER_MS));
  assert.equal(pieces.reduce((a, b) => a + b, 0), due - now);
});
