/**
 * The job: rounds of `maxTasks` tasks with a cooldown between them, holding no
 * resources while idle. Invoked by the framework machine for its whole life,
 * so it survives failovers; the framework forwards offers, updates,
 * connection changes and calls that never reached the master to it.
 *
 * Four parallel regions:
 * - `link`: whether a subscription is up (calls made while offline are dropped
 *   by the runtime, so the job does not make them).
 * - `phase`: waiting → round.launching (REVIVE, place tasks on offers) →
 *   round.running (SUPPRESS, await the tasks; back to launching when tasks
 *   that never reached the master are taken back) → cooldown (SUPPRESS, wait)
 *   → next round … → done; draining on stop. The control API: job.runNow
 *   ends a cooldown at once; job.pause makes the end of a round (or the
 *   cooldown) `paused` until job.resume (→ cooldown) or job.runNow (one
 *   round, then paused again); job.kill kills the tasks of the rounds in
 *   flight, which end `killed` (as do rounds cut short by a stop or a
 *   removal: see job.rounds.ts).
 *   With `--jobs` a job with a schedule or parents waits in `idle` until
 *   the supervisor sends `job.start`, and takes the tasks the supervisor
 *   planned (`job.launch`).
 * - `reconciliation`: explicit RECONCILE of the known tasks after every
 *   (re)subscription, or of the silent ones the sweep found, with truncated
 *   exponential retries until each task has been heard of; implicit
 *   RECONCILE periodically.
 * - `sweep`: one timer for every task: each period the job asks the tasks not
 *   heard of since their launch whether they have been silent for a whole
 *   period (machines have no clock: the sweep count stands in for time).
 *
 * Tasks are data, not actors: each task of a round in flight is a task
 * machine snapshot in `context.active`, stepped by the job's actions
 * (machines/task/task.steps.ts); when it ends it is counted (in its round's
 * counters: with `concurrency: allow` rounds overlap, see job.rounds.ts) and
 * dropped, and only the round counters remember it.
 */
import { and, not } from 'xstate';
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
      entry: 'inspectRestoredTasks',
      on: {
        'mesos.update': { actions: 'recordUpdate' },
        'mesos.updates': { actions: 'recordUpdate' },
        'call.unsent': { actions: 'forgetUnsentLaunch' },
        'mesos.failure': { actions: 'reconcileAgentTasks' },
        'job.abort': { target: 'aborted', actions: 'killAllNow' },
        'job.handover': { target: 'handedOver', actions: 'persistState' },
        // --jobs: a plan that comes while the job is not launching gets an empty answer.
        'job.launch': { actions: 'declinePlanned' },
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
            // --jobs: removed by a reload (or unknown to the file): drain like a stop.
            'job.remove': { target: '.draining' },
            'job.update': { actions: 'updateDefinition' },
            'job.pause': { actions: 'pause' },
            'job.resume': { actions: 'resume' },
            // --jobs: a start the job cannot take now (paused, or no round may start alongside): the supervisor keeps or skips it.
            'job.start': { actions: 'refuseStart' },
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
                  { guard: and(['resumesInCooldown', 'isTriggered']), target: 'idle', actions: 'resumeRestored' },
                  // Restored paused (the flag is persisted): no new round until job.resume or job.runNow.
                  { guard: and(['resumesInCooldown', 'isPaused']), target: 'paused', actions: 'resumeRestored' },
                  { guard: 'resumesInCooldown', target: 'cooldown', actions: 'resumeRestored' },
                  { guard: 'resumesInRound', target: 'round', actions: ['resumeRestored', 'killRestoredRounds'] },
                  { guard: 'isTriggered', target: 'idle' },
                  { guard: 'isPaused', target: 'paused' },
                  { target: 'round', actions: 'startNextRound' },
                ],
              },
            },
            /**
             * One or more rounds in flight: the newest (`round`) and, with
             * `concurrency: allow`, earlier ones that still run. Each ends on
             * its own (an earlier one when its last task ends); the phase
             * moves on when none is left.
             */
            round: {
              initial: 'launching',
              always: [
                { guard: 'roundComplete', actions: 'finishRound' },
                { guard: and(['noRoundInFlight', 'allRoundsDone']), target: '#job.done' },
                { guard: and(['noRoundInFlight', 'isPaused']), target: 'paused' },
                { guard: and(['noRoundInFlight', 'isTriggered']), target: 'idle' },
                { guard: 'noRoundInFlight', target: 'cooldown' },
              ],
              on: {
                'job.kill': { actions: 'killRound' },
                // `concurrency: allow`: another round starts alongside the running ones.
                'job.start': { guard: 'mayOverlap', target: 'round', reenter: true, actions: 'startOverlappingRound' },
                'job.runNow': { guard: 'mayOverlap', target: 'round', reenter: true, actions: 'startOverlappingRound' },
              },
              states: {
                launching: {
                  entry: 'reviveOffers',
                  always: { guard: 'allTasksLaunched', target: 'running' },
                  on: { 'job.subscribed': { actions: 'reviveOffers' } },
                  initial: 'awaitingOffers',
                  states: {
                    awaitingOffers: {
                      on: {
                        'mesos.offers': { target: 'awaitingOffers', reenter: true, actions: 'launchOnOffers' },
                        // --jobs: the supervisor planned the offers.
                        'job.launch': { target: 'awaitingOffers', reenter: true, actions: 'launchPlanned' },
                      },
                      after: { reviveRepeat: { target: 'awaitingOffers', reenter: true, actions: 'reviveOffers' } },
                    },
                  },
                },
                running: {
                  entry: 'ensureSuppressed',
                  // Tasks that never reached the master were taken back: launch again.
                  always: { guard: not('allTasksLaunched'), target: 'launching' },
                },
              },
            },
            /** `--jobs`, a job with a schedule or parents: no round until the supervisor starts one. */
            idle: {
              entry: ['ensureSuppressed', 'reportIdle'],
              // A reload took its schedule and parents away: back to rounds and cooldowns.
              always: { guard: not('isTriggered'), target: 'cooldown' },
              on: {
                'job.start': { target: 'round', actions: 'startNextRound' },
                'job.runNow': { target: 'round', actions: 'startNextRound' },
                'job.pause': { target: 'paused', actions: 'pause' },
              },
            },
            cooldown: {
              entry: ['ensureSuppressed', 'announceCooldown'],
              after: { cooldown: { target: 'round', actions: 'startNextRound' } },
              on: {
                'job.runNow': { target: 'round', actions: 'startNextRound' },
                'job.pause': { target: 'paused', actions: 'pause' },
              },
            },
            /** Control API: between rounds, holding no resources, until resumed or run now. */
            paused: {
              entry: 'ensureSuppressed',
              on: {
                // A job with a schedule or parents goes back to waiting for them (a start kept while paused comes then).
                'job.resume': [{ guard: 'isTriggered', target: 'idle', actions: 'resume' }, { target: 'cooldown', actions: 'resume' }],
                'job.runNow': { target: 'round', actions: 'startNextRound' },
              },
            },
            draining: {
              entry: 'ensureSuppressed',
              always: { guard: 'noActiveTasks', target: '#job.stopped' },
              on: { 'job.drain': {}, 'job.remove': {} },
              initial: 'grace',
              states: {
                grace: { after: { grace: 'killing' } },
                killing: {
                  entry: 'killForStop',
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
                'job.silent': { guard: 'isConnected', target: 'explicit' },
              },
              after: { implicitReconcile: { target: 'idle', reenter: true, actions: 'reconcileImplicitly' } },
            },
            explicit: {
              entry: 'beginReconciliation',
              always: { guard: 'reconciliationComplete', target: 'idle' },
              on: {
                'job.subscribed': { target: 'explicit', reenter: true },
                'job.disconnected': 'idle',
                'job.silent': { actions: 'reconcileSilentTasks' },
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
        /** `retries`: relaunches wait their backoff here, one after another; then the round wants them. */
        retry: {
          initial: 'idle',
          states: {
            idle: { always: { guard: 'retryQueued', target: 'waiting' } },
            waiting: { after: { retryDelay: { target: 'idle', actions: 'releaseRetry' } } },
          },
        },
        sweep: {
          initial: 'watching',
          states: {
            watching: {
              after: { sweepPeriod: { target: 'watching', reenter: true, actions: 'sweepTasks' } },
            },
          },
        },
      },
    },
    done: { type: 'final', entry: { type: 'setResult', params: { reason: 'completed' } } },
    // Rounds still in flight when the job stops end here (killed when cut short).
    stopped: { type: 'final', entry: ['endRoundsInFlight', { type: 'setResult', params: { reason: 'stopped' } }] },
    aborted: { type: 'final', entry: ['endRoundsInFlight', { type: 'setResult', params: { reason: 'aborted' } }] },
    handedOver: { type: 'final', entry: { type: 'setResult', params: { reason: 'handover' } } },
  },
  output: ({ context }) => context.result ?? {
    reason: 'stopped', allFinished: context.allFinished, completedRounds: context.completedRounds, unfinished: activeCount(context),
  },
});
