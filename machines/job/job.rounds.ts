/**
 * Rounds in flight (`--jobs`, `concurrency: allow`): the newest round is the
 * context's own (`round`, `launchedInRound`, ...); rounds started before it
 * and still running are `earlier`, each with its own counters. Pure helpers
 * over the job context; each is O(1) in the tasks, and only those that start
 * or finish a round look at every round in flight (there are few: at most
 * the schedule's `max-in-flight`).
 */
import type { JobRun } from '../contract.js';
import { DEFAULT_MAX_IN_FLIGHT } from '../policy/schedule.js';
import type { EarlierRound, JobContext } from './job.context.js';

/** Whether the round `round` (the newest) is still in flight. */
export function currentOpen(context: Pick<JobContext, 'phase'>): boolean {
  return context.phase === 'round';
}

/** Tasks of the newest round in flight. */
export function currentAlive(context: Pick<JobContext, 'active' | 'earlierAlive'>): number {
  return context.active.size - context.earlierAlive;
}

export function hasEarlierRounds(context: Pick<JobContext, 'earlier'>): boolean {
  for (const _ in context.earlier) return true;
  return false;
}

/** Rounds in flight, the newest included when it is. */
export function roundsInFlight(context: Pick<JobContext, 'earlier' | 'phase' | 'round'>): number[] {
  const rounds = Object.values(context.earlier).map((r) => r.round);
  if (currentOpen(context)) rounds.push(context.round);
  return rounds;
}

/** Tasks the newest round still wants launched (never more than maxTasks of it alive). */
export function currentWanted(context: JobContext): number {
  if (!currentOpen(context)) return 0;
  const { maxTasks } = context.config;
  return Math.max(0, Math.min(maxTasks - context.launchedInRound, maxTasks - currentAlive(context)));
}

/** Tasks every round in flight still wants launched. */
export function wantedTasks(context: JobContext): number {
  return currentWanted(context) + context.earlierWanting;
}

/** Every round in flight has launched all its tasks. */
export function allLaunched(context: JobContext): boolean {
  return (!currentOpen(context) || context.launchedInRound >= context.config.maxTasks) && context.earlierWanting === 0;
}

/** The schedule's bound on rounds in flight. */
export function maxInFlight(context: Pick<JobContext, 'config'>): number {
  return (context.config as Partial<JobRun>).schedule?.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
}

/** `concurrency: allow`: a new round may start while others run (not paused, rounds left, under the bound). */
export function mayOverlap(context: JobContext): boolean {
  const schedule = (context.config as Partial<JobRun>).schedule;
  if (!context.shared || schedule?.concurrency !== 'allow' || context.paused) return false;
  const { rounds } = context.nextConfig ?? context.config;
  if (rounds > 0 && context.round >= rounds) return false;
  return roundsInFlight(context).length < maxInFlight(context);
}

export function earlierComplete(r: EarlierRound): boolean {
  return r.launched >= r.maxTasks && r.alive === 0 && r.retrying === 0;
}

/** The newest round as an earlier one (when a round starts over it). */
export function asEarlier(context: JobContext): EarlierRound {
  let retrying = 0;
  for (const r of context.retryQueue) if (r.round === context.round) retrying++;
  for (const r of context.retryCarry) if (r.round === context.round) retrying++;
  return {
    round: context.round, maxTasks: context.config.maxTasks, launched: context.launchedInRound, finished: context.finishedInRound,
    failed: context.failedInRound, lastIndex: context.lastIndex, alive: currentAlive(context), retrying,
  };
}

/** The fields an earlier round's change moves. */
export type EarlierFields = Pick<JobContext, 'earlier' | 'earlierAlive' | 'earlierWanting'>;

function wantOf(r: EarlierRound | undefined): number {
  return r === undefined ? 0 : Math.max(0, r.maxTasks - r.launched);
}

/**
 * `fields` with the earlier round `next` in place of its old self (or, with
 * `remove`, without it), the aggregates moved by the difference: O(rounds)
 * for the copy of the record of rounds, O(1) otherwise.
 */
export function withEarlier(fields: EarlierFields, next: EarlierRound, remove = false): EarlierFields {
  const before = fields.earlier[next.round];
  const earlier = { ...fields.earlier };
  if (remove) delete earlier[next.round];
  else earlier[next.round] = next;
  return {
    earlier,
    earlierAlive: fields.earlierAlive - (before?.alive ?? 0) + (remove ? 0 : next.alive),
    earlierWanting: fields.earlierWanting - wantOf(before) + (remove ? 0 : wantOf(next)),
  };
}

/** Whether the task of round `round` belongs to a round we killed (O(1)). */
export function roundIsKilled(context: Pick<JobContext, 'round' | 'roundKilled' | 'earlier'>, round: number): boolean {
  return round === context.round ? context.roundKilled : context.earlier[round]?.killed === true;
}

/**
 * Every round in flight ended by us (`job.kill`, or the kill after a stop's
 * grace): each is marked killed and counts as fully launched, and the
 * relaunches waiting for them are dropped (their tasks failed: each counts
 * as failed in its round). The rounds then end `killed` when their last task
 * ends. `notSuccess` (job.kill): the job's tasks no longer all finished, so
 * the exit status says so. O(rounds + retries waiting); never on the update path.
 */
export function killRoundsInFlight(context: JobContext, notSuccess: boolean): Partial<JobContext> {
  const dropped = new Map<number, number>();
  for (const r of [...context.retryQueue, ...context.retryCarry]) dropped.set(r.round, (dropped.get(r.round) ?? 0) + 1);
  let rounds: EarlierFields = context;
  for (const r of Object.values(context.earlier)) {
    rounds = withEarlier(rounds, {
      ...r, launched: Math.max(r.launched, r.maxTasks), retrying: 0, failed: r.failed + (dropped.get(r.round) ?? 0), killed: true,
    });
  }
  const open = currentOpen(context);
  const changes: Partial<JobContext> = {
    ...rounds, retryQueue: [], retryCarry: [],
    launchedInRound: Math.max(context.launchedInRound, context.config.maxTasks),
    failedInRound: context.failedInRound + (dropped.get(context.round) ?? 0),
  };
  if (open) changes.roundKilled = true;
  if ((notSuccess && (open || hasEarlierRounds(context))) || dropped.size > 0) changes.allFinished = false;
  return changes;
}
