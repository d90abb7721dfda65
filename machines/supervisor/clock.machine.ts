/**
 * The clock of one scheduled job (`schedule: { every | cron }` in the jobs
 * file), spawned by the supervisor: it waits for each start and tells the
 * supervisor `clock.due` with the start's time; the supervisor decides
 * whether the job starts (concurrency) and starts it.
 *
 * Machines have no clock: the time is `input.now` at the start and then the
 * time each wait was meant to end. Waits longer than a timer holds (2^31 − 1
 * ms, about 24.8 days) are chained in pieces (policy/schedule.ts timerChunk),
 * never fired at once. At the start a start missed while the scheduler was
 * down runs at once if it is younger than `starting-deadline` (catchUp); a
 * job that never started starts at once with `every`, at its next time with
 * `cron`.
 */
import { enqueueActions, setup } from 'xstate';
import { catchUp, nextStartAfter, timerChunk, type JobSchedule } from '../policy/schedule.js';

export interface ClockInput {
  job: string;
  schedule: JobSchedule;
  /** Wall clock when the clock starts (ms since epoch). */
  now: number;
  /** `every`: the job's first start (its grid); unset: the grid starts now. */
  anchorAt?: number;
  /** The job's last start by the schedule, as persisted; unset: it never started. */
  lastStartAt?: number;
}

export interface ClockContext {
  job: string;
  schedule: JobSchedule;
  anchorAt: number;
  /** The time as this clock knows it: when its last wait was meant to end. */
  now: number;
  /** The next start; null: the schedule never fires again. */
  nextAt: number | null;
  /** The current piece of the wait. */
  waitMs: number;
}

/** Sent to the supervisor when a start is due. */
export interface ClockDue {
  type: 'clock.due';
  job: string;
  /** The start's time (ms since epoch). */
  at: number;
  /** The start was missed while the scheduler was down and is caught up now. */
  catchUp: boolean;
}

function firstStart(input: ClockInput, anchorAt: number): { nextAt: number | null; catchUp: boolean } {
  if (input.lastStartAt === undefined) {
    if (input.schedule.kind === 'every') return { nextAt: input.now, catchUp: false };
    return { nextAt: nextStartAfter(input.schedule, input.now, anchorAt), catchUp: false };
  }
  const c = catchUp(input.schedule, input.lastStartAt, input.now, anchorAt);
  return c.runNow ? { nextAt: input.now, catchUp: true } : { nextAt: c.nextAt, catchUp: false };
}

export function initialClockContext(input: ClockInput): ClockContext & { catchUp: boolean } {
  const anchorAt = input.anchorAt ?? input.now;
  const { nextAt, catchUp: late } = firstStart(input, anchorAt);
  return {
    job: input.job, schedule: input.schedule, anchorAt, now: input.now, nextAt,
    waitMs: nextAt === null ? 0 : timerChunk(nextAt - input.now).waitMs, catchUp: late,
  };
}

export const clockMachine = setup({
  types: {
    context: {} as ClockContext & { catchUp: boolean },
    input: {} as ClockInput,
  },
  delays: {
    piece: ({ context }) => context.waitMs,
  },
  guards: {
    neverAgain: ({ context }) => context.nextAt === null,
  },
  actions: {
    /** A piece of the wait is over: the start is due, or wait the next piece. */
    tick: enqueueActions(({ context, enqueue }) => {
      const now = context.now + context.waitMs;
      const due = context.nextAt;
      if (due === null) return;
      if (now < due) {
        enqueue.assign({ now, waitMs: timerChunk(due - now).waitMs });
        return;
      }
      const event: ClockDue = { type: 'clock.due', job: context.job, at: due, catchUp: context.catchUp };
      enqueue.sendParent(event);
      const nextAt = nextStartAfter(context.schedule, due, context.anchorAt);
      enqueue.assign({ now, nextAt, catchUp: false, waitMs: nextAt === null ? 0 : timerChunk(nextAt - now).waitMs });
    }),
  },
}).createMachine({
  id: 'clock',
  context: ({ input }) => initialClockContext(input),
  initial: 'waiting',
  states: {
    waiting: {
      always: { guard: 'neverAgain', target: 'ended' },
      after: { piece: { target: 'waiting', reenter: true, actions: 'tick' } },
    },
    /** A cron that never fires again. */
    ended: { type: 'final' },
  },
});
