/**
 * The job machine's setup: its types, the effect actions (supplied by
 * machines/index.ts), named delays and guards. Shared by job.actions.ts
 * (which builds the composite actions on it) and job.machine.ts.
 */
import { assign, setup } from 'xstate';
import type { Notification, PersistParams, SendCallParams, TaskInspection } from '../contract.js';
import { activeCount, type JobContext, type JobEvent, type JobInput, type JobOutput } from './job.context.js';
import { allLaunched, currentAlive, currentOpen, hasEarlierRounds, mayOverlap } from './job.rounds.js';

export const jobSetup = setup({
  types: {
    context: {} as JobContext,
    events: {} as JobEvent,
    input: {} as JobInput,
    output: {} as JobOutput,
  },
  actions: {
    /** Effects, supplied by machines/index.ts. */
    sendCall: (_, _params: SendCallParams) => {},
    persist: (_, _params: PersistParams) => {},
    notify: (_, _params: Notification) => {},
    inspectTask: (_, _params: TaskInspection) => {},
    setResult: assign(({ context }, params: { reason: JobOutput['reason'] }) => ({
      result: { reason: params.reason, allFinished: context.allFinished, completedRounds: context.completedRounds, unfinished: activeCount(context) },
    })),
  },
  delays: {
    reviveRepeat: ({ context }) => context.timing.reviveRepeatMs,
    cooldown: ({ context }) => context.cooldownMs,
    grace: ({ context }) => Math.max(0, context.config.graceSeconds * 1000),
    killWait: ({ context }) => context.timing.killWaitMs,
    reconcileRetry: ({ context }) => context.reconcileDelayMs,
    implicitReconcile: ({ context }) => context.timing.implicitReconcileMs,
    retryDelay: ({ context }) => context.retryQueue[0]?.delayMs ?? 0,
    sweepPeriod: ({ context }) => Math.max(1, context.timing.launchTimeoutMs),
  },
  guards: {
    isConnected: ({ context }) => context.connected,
    isPaused: ({ context }) => context.paused,
    isTriggered: ({ context }) => context.triggered,
    allRoundsDone: ({ context }) => context.config.rounds > 0 && context.completedRounds >= context.config.rounds,
    resumesInRound: ({ context }) => context.resume === 'round',
    resumesInCooldown: ({ context }) => context.resume === 'cooldown',
    allTasksLaunched: ({ context }) => allLaunched(context),
    /** The newest round has ended (earlier ones end on their own, see job.rounds.ts). */
    roundComplete: ({ context }) => currentOpen(context) && context.launchedInRound >= context.config.maxTasks && currentAlive(context) === 0
      && (context.retryQueue.length === 0 || context.retryQueue.every((r) => r.round !== context.round)),
    /** No round in flight: the newest is complete and no earlier one runs. */
    noRoundInFlight: ({ context }) => !currentOpen(context) && !hasEarlierRounds(context),
    /** `concurrency: allow`: a start (or run now) while rounds run starts another. */
    mayOverlap: ({ context }) => mayOverlap(context),
    retryQueued: ({ context }) => context.retryQueue.length > 0,
    noActiveTasks: ({ context }) => activeCount(context) === 0,
    hasActiveTasks: ({ context }) => activeCount(context) > 0,
    reconciliationComplete: ({ context }) => {
      for (const _ in context.reconcileRemaining) return false;
      return true;
    },
  },
});
