/**
 * The job: rounds of `maxTasks` tasks with a cooldown between them, holding no
 * resources while idle. Invoked by the framework machine for its whole life,
 * so it survives failovers; the framework forwards offers, updates and
 * connection changes to it.
 *
 * Three parallel regions:
 * - `link`: whether a subscription is up (calls made while offline are dropped
 *   by the runtime, so the job does not make them).
 * - `phase`: waiting → round.launching (REVIVE, place tasks on offers) →
 *   round.running (SUPPRESS, await the tasks) → cooldown (SUPPRESS, wait) →
 *   next round … → done; draining on stop.
 * - `reconciliation`: explicit RECONCILE of the known tasks after every
 *   (re)subscription with truncated exponential retries until each task has
 *   been heard of; implicit RECONCILE periodically.
 *
 * One task actor per task of the current round; when it ends it reports
 * `task.ended`, is stopped, and only the round counters remember it.
 */
import { and } from 'xstate';
import { initialJobContext, activeCount } from './job.context.js';
import { jobActions } from './job.actions.js';
import { jobSetup } from './job.setup.js';

export const jobMachine = jobSetup.extend({ actions: jobActions }).createMachine({
  id: 'job',
  context: ({ input }) => initialJobContext(input),
  initial: 'active',
  states: {
    active: {
      type: 'parallel',
      entry: 'spawnRestoredTasks',
      on: {
        'mesos.update': { actions: ['recordUpdate', 'acknowledgeUpdate'] },
        'task.ended': { actions: 'countEndedTask' },
        'mesos.failure': { actions: 'reconcileAgentTasks' },
        'job.abort': { target: 'aborted', actions: 'killAllNow' },
        'job.handover': { target: 'handedOver', actions: 'persistState' },
      },
      states: {
        link: {
          initial: 'offline',
          states: {
            offline: {
              on: {
                'job.subscribed': { target: 'online', actions: 'recordSubscription' },
                'job.frameworkRemoved': { actions: ['forgetFramework', 'loseAllTasks'] },
              },
            },
            online: {
              on: {
                'job.subscribed': { target: 'online', reenter: true, actions: 'recordSubscription' },
                'job.disconnected': { target: 'offline', actions: 'recordDisconnection' },
                // The master removed the framework (its stream closes): its tasks are gone too.
                'job.frameworkRemoved': { target: 'offline', actions: ['forgetFramework', 'loseAllTasks'] },
              },
            },
          },
        },
        phase: {
          initial: 'waiting',
          on: {
            'mesos.offers': { actions: 'declineOffers' },
            'job.drain': { target: '.draining' },
          },
          states: {
            /** Before the first subscription. */
            waiting: {
              // Restored after the last round: done once connected (so the framework can TEARDOWN).
              // An eventless transition, because `link` takes job.subscribed first and a
              // transition leaving `active` on that same event would be pre-empted by it.
              always: { guard: and(['isConnected', 'allRoundsDone']), target: '#job.done' },
              on: {
                'job.subscribed': [
                  { guard: 'allRoundsDone' },
                  { guard: 'resumesInCooldown', target: 'cooldown', actions: 'resumeRestored' },
                  { guard: 'resumesInRound', target: 'round', actions: 'resumeRestored' },
                  { target: 'round', actions: 'startNextRound' },
                ],
              },
            },
            round: {
              initial: 'launching',
              always: [
                { guard: and(['roundComplete', 'isLastRound']), target: '#job.done', actions: 'finishRound' },
                { guard: 'roundComplete', target: 'cooldown', actions: 'finishRound' },
              ],
              states: {
                launching: {
                  entry: 'reviveOffers',
                  always: { guard: 'allTasksLaunched', target: 'running' },
                  on: { 'job.subscribed': { actions: 'reviveOffers' } },
                  initial: 'awaitingOffers',
                  states: {
                    awaitingOffers: {
                      on: { 'mesos.offers': { target: 'awaitingOffers', reenter: true, actions: 'launchOnOffers' } },
                      after: { reviveRepeat: { target: 'awaitingOffers', reenter: true, actions: 'reviveOffers' } },
                    },
                  },
                },
                running: { entry: 'ensureSuppressed' },
              },
            },
            cooldown: {
              entry: ['ensureSuppressed', 'announceCooldown'],
              after: { cooldown: { target: 'round', actions: 'startNextRound' } },
            },
            draining: {
              entry: 'ensureSuppressed',
              always: { guard: 'noActiveTasks', target: '#job.stopped' },
              on: { 'job.drain': {} },
              initial: 'grace',
              states: {
                grace: { after: { grace: 'killing' } },
                killing: {
                  entry: 'killAllTasks',
                  on: { 'job.subscribed': { actions: 'killAllTasks' } },
                  after: { killWait: '#job.stopped' },
                },
              },
            },
          },
        },
        reconciliation: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                'job.subscribed': { guard: 'hasActiveTasks', target: 'explicit' },
                'task.silent': { guard: 'isConnected', target: 'explicit' },
              },
              after: { implicitReconcile: { target: 'idle', reenter: true, actions: 'reconcileImplicitly' } },
            },
            explicit: {
              entry: 'beginReconciliation',
              always: { guard: 'reconciliationComplete', target: 'idle' },
              on: {
                'job.subscribed': { target: 'explicit', reenter: true },
                'job.disconnected': 'idle',
                'task.silent': { actions: 'reconcileSilentTask' },
              },
              initial: 'awaitingUpdates',
              states: {
                awaitingUpdates: {
                  after: { reconcileRetry: { target: 'awaitingUpdates', reenter: true, actions: 'retryReconciliation' } },
                },
              },
            },
          },
        },
      },
    },
    done: { type: 'final', entry: { type: 'setResult', params: { reason: 'completed' } } },
    stopped: { type: 'final', entry: { type: 'setResult', params: { reason: 'stopped' } } },
    aborted: { type: 'final', entry: { type: 'setResult', params: { reason: 'aborted' } } },
    handedOver: { type: 'final', entry: { type: 'setResult', params: { reason: 'handover' } } },
  },
  output: ({ context }) => context.result ?? {
    reason: 'stopped', allFinished: context.allFinished, completedRounds: context.completedRounds, unfinished: activeCount(context),
  },
});
