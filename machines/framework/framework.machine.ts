/**
 * The framework (root) machine: one Mesos framework's connection life and the
 * job it runs. Two parallel regions under `operating`:
 *
 * - `connection`: idle → session(subscribing → subscribed) → failover (backoff)
 *   → session … The `subscription` actor is invoked on `session`, so one
 *   stream lives across subscribing and subscribed; each entry to `session` is
 *   a new generation and events of older generations are ignored. In
 *   `subscribed` a heartbeat watchdog fails over after `missedHeartbeats`
 *   intervals of silence.
 * - `lifecycle`: running → draining | stoppingNow | handingOver → tearingDown
 *   (TEARDOWN) → completed | stopped | handedOver. `fatal` ends everything
 *   without TEARDOWN (it could be another scheduler's framework now).
 *
 * The job machine is invoked at the root for the whole life of the framework,
 * so it survives failovers; it gets offers, updates and connection changes.
 */
import { and, assign, enqueueActions, fromCallback, not, sendTo, setup, type EventObject } from 'xstate';
import type { ErrorRecord, FrameworkInput, FrameworkOutput, Notification, SendCallParams, SubscriptionInput } from '../contract.js';
import { jobMachine } from '../job/job.machine.js';
import { nextBackoff } from '../policy/backoff.js';
import { teardownCall, updateFrameworkCall } from '../policy/calls.js';
import { EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_TASKS_FAILED } from '../policy/exit-codes.js';
import { isFailedOverMessage, isFatalConnectionError, isFrameworkRemovedMessage } from '../policy/master-errors.js';
import {
  heartbeatTimeoutMs, initialFrameworkContext, jobInputOf, sameRoles, subscriptionInputOf, suppressedRolesOf,
  type FrameworkContext, type FrameworkEvent,
} from './framework.context.js';

/** Placeholder of the `subscription` callback actor; src/runtime provides the real one. */
export const subscriptionPlaceholder = fromCallback<EventObject, SubscriptionInput>(() => undefined);

function generationOf(event: FrameworkEvent): number | undefined {
  return 'generation' in event ? event.generation : undefined;
}

function errorOf(event: FrameworkEvent): ErrorRecord {
  if (event.type === 'conn.lost' || event.type === 'call.failed') return event.error;
  if (event.type === 'xstate.error.actor.subscription') {
    return { code: 'SUBSCRIPTION_ACTOR_FAILED', message: String((event.error as { message?: unknown } | null)?.message ?? event.error) };
  }
  return { code: 'UNKNOWN', message: event.type };
}

const base = setup({
  types: {
    context: {} as FrameworkContext,
    events: {} as FrameworkEvent,
    input: {} as FrameworkInput,
    output: {} as FrameworkOutput,
  },
  actors: { subscription: subscriptionPlaceholder, job: jobMachine },
  actions: {
    /** Effects, supplied by machines/index.ts. */
    sendCall: (_, _params: SendCallParams) => {},
    notify: (_, _params: Notification) => {},
    recordFatal: assign((_, params: { message: string }) => ({
      outcome: { exitCode: EXIT_FATAL, reason: 'fatal' as const, message: params.message },
    })),
  },
  delays: {
    reconnectDelay: ({ context }) => context.retryInMs,
    heartbeatTimeout: ({ context }) => heartbeatTimeoutMs(context),
    // A SUBSCRIBE that neither succeeds nor fails is given as long as a silent stream.
    subscribeTimeout: ({ context }) => heartbeatTimeoutMs(context),
    teardownWait: ({ context }) => context.timing.teardownWaitMs,
  },
  guards: {
    isCurrentGeneration: ({ context, event }) => generationOf(event) === context.generation,
    isFrameworkRemovedError: ({ event }) => event.type === 'mesos.error' && isFrameworkRemovedMessage(event.message),
    isFailedOverError: ({ event }) => event.type === 'mesos.error' && isFailedOverMessage(event.message),
    isFatalConnectionError: ({ event }) => event.type === 'conn.lost' && isFatalConnectionError(event.error.code),
    isSubscribed: ({ context }) => context.subscribed,
    hasFrameworkId: ({ context }) => context.frameworkId !== undefined,
    jobCompleted: ({ context }) => context.jobResult?.reason === 'completed',
    jobAborted: ({ context }) => context.jobResult?.reason === 'aborted',
    jobHandedOver: ({ event }) => event.type === 'xstate.done.actor.job' && event.output.reason === 'handover',
  },
});

// ---------------------------------------------------------------------------
// Connection

// The session's SUBSCRIBE carries the roles the jobs need now.
const nextGeneration = base.createAction(assign(({ context }) => ({
  generation: context.generation + 1,
  ...(context.frameworkInfo.roles !== undefined ? { announcedRoles: context.frameworkInfo.roles } : {}),
})));
const markUnsubscribed = base.createAction(assign({ subscribed: false }));

const notifySubscribed = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'conn.subscribed') return;
  enqueue({
    type: 'notify',
    params: { type: 'subscribed', frameworkId: event.frameworkId, master: event.master, resubscribe: context.frameworkId !== undefined },
  });
}));

const recordSubscription = base.createAction(assign(({ context, event }) => {
  if (event.type !== 'conn.subscribed') return {};
  return {
    frameworkId: event.frameworkId,
    streamId: event.streamId,
    master: event.master,
    heartbeatIntervalSeconds: event.heartbeatIntervalSeconds > 0 ? event.heartbeatIntervalSeconds : context.heartbeatIntervalSeconds,
    attempt: 0,
    subscribed: true,
    lastError: undefined,
  };
}));

const tellJobSubscribed = base.createAction(sendTo('job', ({ context, event }) => ({
  type: 'job.subscribed' as const,
  frameworkId: event.type === 'conn.subscribed' ? event.frameworkId : context.frameworkId ?? '',
  resubscribe: event.type === 'conn.subscribed' && context.frameworkId === event.frameworkId,
})));

const recordConnectionError = base.createAction(assign(({ event }) => ({ lastError: errorOf(event) })));

const recordSubscribeTimeout = base.createAction(assign(({ context }) => ({
  lastError: { code: 'SUBSCRIBE_TIMEOUT', message: `no answer to SUBSCRIBE within ${heartbeatTimeoutMs(context)} ms` },
})));

const recordHeartbeatLoss = base.createAction(assign(({ context }) => ({
  lastError: {
    code: 'HEARTBEAT_TIMEOUT',
    message: `no event from the master for ${heartbeatTimeoutMs(context)} ms (${context.timing.missedHeartbeats} heartbeat intervals)`,
  },
})));

/** Draws the next reconnect delay from the backoff policy and the PRNG in context. */
const scheduleReconnect = base.createAction(assign(({ context }) => {
  const { timing } = context;
  const { delayMs, rngState } = nextBackoff(context.attempt, {
    initialMs: timing.backoffInitialMs, maxMs: timing.backoffMaxMs, factor: timing.backoffFactor, jitter: timing.backoffJitter,
  }, context.rng);
  return { retryInMs: delayMs, rng: rngState, attempt: context.attempt + 1, streamId: undefined };
}));

const notifyDisconnected = base.createAction(enqueueActions(({ context, enqueue }) => {
  const error = context.lastError ?? { code: 'UNKNOWN', message: 'subscription lost' };
  enqueue({ type: 'notify', params: { type: 'disconnected', reason: error.code, message: error.message, retryInMs: context.retryInMs } });
}));

const tellJobDisconnected = base.createAction(sendTo('job', { type: 'job.disconnected' as const }));

const recordLeader = base.createAction(enqueueActions(({ event, enqueue }) => {
  if (event.type !== 'conn.leader') return;
  enqueue.assign({ master: event.master });
  enqueue({ type: 'notify', params: { type: 'leaderChanged', master: event.master } });
}));

const notifyFrameworkRemoved = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  enqueue({
    type: 'notify',
    params: { type: 'frameworkRemoved', frameworkId: context.frameworkId ?? '', message: event.type === 'mesos.error' ? event.message : '' },
  });
}));

/** The id is dead for good: the next SUBSCRIBE registers a new framework. */
const forgetFrameworkId = base.createAction(assign({ frameworkId: undefined, attempt: 0 }));
const tellJobFrameworkRemoved = base.createAction(sendTo('job', { type: 'job.frameworkRemoved' as const }));

const forwardToJob = base.createAction(sendTo('job', ({ event }) => event));

const notifyOffersReceived = base.createAction(enqueueActions(({ event, enqueue }) => {
  if (event.type !== 'mesos.offers') return;
  enqueue({ type: 'notify', params: { type: 'offersReceived', count: event.offers.length } });
}));

const notifyFatal = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'notify', params: { type: 'fatal', message: context.outcome?.message ?? 'fatal error' } });
}));

// ---------------------------------------------------------------------------
// Lifecycle

const drainJob = base.createAction(sendTo('job', { type: 'job.drain' as const }));
const abortJob = base.createAction(sendTo('job', { type: 'job.abort' as const }));
const handOverJob = base.createAction(sendTo('job', { type: 'job.handover' as const }));
/**
 * `--jobs` (MULTI_ROLE): the roles the jobs need. A reload adds the roles of
 * its jobs before the supervisor sees them (so UPDATE_FRAMEWORK goes out
 * before the new jobs' REVIVE); the supervisor's `job.offersWanted` says the
 * roles exactly (a role leaves once its last job is forgotten). While
 * subscribed a change goes to the master at once as UPDATE_FRAMEWORK with the
 * whole FrameworkInfo and the roles to keep suppressed; otherwise the next
 * SUBSCRIBE carries it.
 */
function rolesNeeded(context: FrameworkContext, event: FrameworkEvent): string[] | undefined {
  const current = context.frameworkInfo.roles;
  if (current === undefined) return undefined;
  if (event.type === 'jobs.reload') return [...new Set([...current, ...event.jobs.map((job) => job.role)])];
  if (event.type === 'job.offersWanted') return event.roles;
  return undefined;
}

const updateRoles = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  const roles = rolesNeeded(context, event);
  const current = context.frameworkInfo.roles;
  if (roles === undefined || current === undefined || sameRoles(roles, current)) return;
  const frameworkInfo = { ...context.frameworkInfo, roles };
  const updated = { ...context, frameworkInfo, ...(event.type === 'job.offersWanted' && event.suppressedRoles !== undefined ? { suppressedRoles: event.suppressedRoles } : {}) };
  const sent = context.subscribed && context.frameworkId !== undefined;
  enqueue.assign({ frameworkInfo, ...(sent ? { announcedRoles: roles } : {}) });
  if (sent) enqueue({ type: 'sendCall', params: { call: updateFrameworkCall(frameworkInfo, context.frameworkId!, suppressedRolesOf(updated)) } });
  enqueue({
    type: 'notify',
    params: { type: 'rolesUpdated', roles, added: roles.filter((r) => !current.includes(r)), removed: current.filter((r) => !roles.includes(r)), sent },
  });
}));

/** Subscribed: roles that changed while the SUBSCRIBE was on its way go to the master now. */
const announceRoles = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  const roles = context.frameworkInfo.roles;
  if (event.type !== 'conn.subscribed' || roles === undefined || sameRoles(roles, context.announcedRoles)) return;
  const before = context.announcedRoles ?? [];
  enqueue.assign({ announcedRoles: roles });
  enqueue({ type: 'sendCall', params: { call: updateFrameworkCall(context.frameworkInfo, event.frameworkId, suppressedRolesOf(context)) } });
  enqueue({
    type: 'notify',
    params: { type: 'rolesUpdated', roles, added: roles.filter((r) => !before.includes(r)), removed: before.filter((r) => !roles.includes(r)), sent: true },
  });
}));

const recordOffersWanted = base.createAction(assign(({ event }) => {
  if (event.type !== 'job.offersWanted') return {};
  return event.suppressedRoles === undefined ? { offersWanted: event.wanted } : { offersWanted: event.wanted, suppressedRoles: event.suppressedRoles };
}));
const recordJobResult = base.createAction(assign(({ event }) => (event.type === 'xstate.done.actor.job' ? { jobResult: event.output } : {})));
const sendTeardown = base.createAction(enqueueActions(({ enqueue }) => {
  enqueue({ type: 'sendCall', params: { call: teardownCall() } });
}));

/** Exit code per the job result: 0 only if every task that ended ended TASK_FINISHED. */
const setJobOutcome = base.createAction(assign(({ context }) => {
  const result = context.jobResult;
  if (result === undefined) return { outcome: { exitCode: EXIT_INTERRUPTED, reason: 'stopped' as const, message: 'stopped before the job ended' } };
  const allFinished = result.allFinished && result.unfinished === 0;
  const abandoned = result.unfinished > 0 ? `, ${result.unfinished} task(s) not seen ending` : '';
  const summary = `${result.completedRounds} round(s) completed, ${allFinished ? 'every task finished' : 'some tasks did not finish'}${abandoned}`;
  if (result.reason === 'aborted') return { outcome: { exitCode: EXIT_INTERRUPTED, reason: 'stopped' as const, message: `stopped now, tasks killed; ${summary}` } };
  const exitCode = allFinished ? EXIT_OK : EXIT_TASKS_FAILED;
  return { outcome: { exitCode, reason: result.reason === 'completed' ? 'completed' as const : 'stopped' as const, message: summary } };
}));

/** No master came back in time: say so, Mesos keeps the framework until its failover timeout. */
const noteTeardownSkipped = base.createAction(assign(({ context }) => (context.outcome === undefined ? {} : {
  outcome: { ...context.outcome, message: `${context.outcome.message ?? ''}; TEARDOWN not sent (no master reachable)` },
})));

const setHandoverOutcome = base.createAction(assign({
  outcome: { exitCode: EXIT_OK, reason: 'handover' as const, message: 'handed over to a standby scheduler; tasks keep running' },
}));

// ---------------------------------------------------------------------------

export const frameworkMachine = base.extend({
  actions: {
    nextGeneration, markUnsubscribed, notifySubscribed, recordSubscription, tellJobSubscribed, recordConnectionError,
    recordHeartbeatLoss, recordSubscribeTimeout, scheduleReconnect, notifyDisconnected, tellJobDisconnected, recordLeader,
    notifyFrameworkRemoved, forgetFrameworkId, tellJobFrameworkRemoved, forwardToJob, notifyOffersReceived, notifyFatal,
    drainJob, abortJob, handOverJob, updateRoles, announceRoles, recordOffersWanted, recordJobResult, sendTeardown, setJobOutcome, noteTeardownSkipped, setHandoverOutcome,
  },
}).createMachine({
  id: 'framework',
  context: ({ input }) => initialFrameworkContext(input),
  invoke: {
    id: 'job',
    src: 'job',
    input: ({ context }) => jobInputOf(context),
  },
  on: {
    'job.offersWanted': { actions: ['updateRoles', 'recordOffersWanted'] },
    // An ACCEPT that never reached the master: the job takes its tasks back.
    'call.unsent': { actions: 'forwardToJob' },
    'job.runNow': { actions: 'forwardToJob' },
    'job.pause': { actions: 'forwardToJob' },
    'job.resume': { actions: 'forwardToJob' },
    'job.kill': { actions: 'forwardToJob' },
    'jobs.reload': { actions: ['updateRoles', 'forwardToJob'] },
    'xstate.error.actor.job': {
      target: '.fatal',
      actions: [{ type: 'recordFatal', params: ({ event }) => ({ message: `job machine failed: ${String((event as { error?: unknown }).error)}` }) }, 'notifyFatal'],
    },
  },
  initial: 'operating',
  states: {
    operating: {
      type: 'parallel',
      states: {
        connection: {
          initial: 'idle',
          states: {
            idle: { always: 'session' },
            session: {
              entry: 'nextGeneration',
              exit: 'markUnsubscribed',
              invoke: {
                id: 'subscription',
                src: 'subscription',
                input: ({ context }) => subscriptionInputOf(context),
                onError: { target: 'failover', actions: 'recordConnectionError' },
              },
              on: {
                'conn.lost': [
                  {
                    guard: and(['isCurrentGeneration', 'isFatalConnectionError']),
                    target: '#framework.fatal',
                    actions: [{ type: 'recordFatal', params: ({ event }) => ({ message: `cannot subscribe: ${errorOf(event).message} (${errorOf(event).code})` }) }, 'notifyFatal'],
                  },
                  { guard: 'isCurrentGeneration', target: 'failover', actions: 'recordConnectionError' },
                ],
                'call.failed': { guard: 'isCurrentGeneration', target: 'failover', actions: 'recordConnectionError' },
                'conn.leader': { guard: 'isCurrentGeneration', actions: 'recordLeader' },
                'mesos.error': [
                  {
                    // Only an id we subscribed with can have been removed (without one it would loop).
                    guard: and(['isCurrentGeneration', 'isFrameworkRemovedError', 'hasFrameworkId']),
                    target: 'session',
                    reenter: true,
                    actions: ['notifyFrameworkRemoved', 'forgetFrameworkId', 'tellJobFrameworkRemoved'],
                  },
                  {
                    guard: and(['isCurrentGeneration', 'isFailedOverError']),
                    target: '#framework.fatal',
                    actions: [{
                      type: 'recordFatal',
                      params: ({ context, event }) => ({
                        message: `another scheduler subscribed with framework id ${context.frameworkId ?? '?'}: ${event.type === 'mesos.error' ? event.message : ''}`,
                      }),
                    }, 'notifyFatal'],
                  },
                  {
                    guard: 'isCurrentGeneration',
                    target: '#framework.fatal',
                    actions: [{
                      type: 'recordFatal',
                      params: ({ event }) => ({ message: `the master refused the framework: ${event.type === 'mesos.error' ? event.message : ''}` }),
                    }, 'notifyFatal'],
                  },
                ],
              },
              initial: 'subscribing',
              states: {
                subscribing: {
                  after: {
                    subscribeTimeout: { target: '#framework.operating.connection.failover', actions: 'recordSubscribeTimeout' },
                  },
                  on: {
                    'conn.subscribed': {
                      guard: 'isCurrentGeneration',
                      target: 'subscribed',
                      actions: ['notifySubscribed', 'tellJobSubscribed', 'recordSubscription', 'announceRoles'],
                    },
                  },
                },
                subscribed: {
                  after: {
                    heartbeatTimeout: { target: '#framework.operating.connection.failover', actions: 'recordHeartbeatLoss' },
                  },
                  // Any event on the stream proves it alive: re-entering restarts the watchdog.
                  on: {
                    'mesos.heartbeat': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true },
                    'mesos.offers': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true, actions: ['notifyOffersReceived', 'forwardToJob'] },
                    'mesos.rescind': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true, actions: 'forwardToJob' },
                    'mesos.update': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true, actions: 'forwardToJob' },
                    'mesos.updates': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true, actions: 'forwardToJob' },
                    'mesos.failure': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true, actions: 'forwardToJob' },
                    'mesos.message': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true },
                    'mesos.other': { guard: 'isCurrentGeneration', target: 'subscribed', reenter: true },
                  },
                },
              },
            },
            failover: {
              entry: ['scheduleReconnect', 'notifyDisconnected', 'tellJobDisconnected'],
              after: { reconnectDelay: 'session' },
            },
          },
        },
        lifecycle: {
          initial: 'running',
          states: {
            running: {
              on: {
                'framework.stop': { target: 'draining', actions: 'drainJob' },
                'framework.stopNow': { target: 'stoppingNow', actions: 'abortJob' },
                'framework.handover': { target: 'handingOver', actions: 'handOverJob' },
                // Every round done: tear down.
                'xstate.done.actor.job': { target: 'tearingDown', actions: 'recordJobResult' },
              },
            },
            draining: {
              on: {
                'framework.stopNow': { target: 'stoppingNow', actions: 'abortJob' },
                'framework.handover': { target: 'handingOver', actions: 'handOverJob' },
                'xstate.done.actor.job': { target: 'tearingDown', actions: 'recordJobResult' },
              },
            },
            stoppingNow: {
              on: { 'xstate.done.actor.job': { target: 'tearingDown', actions: 'recordJobResult' } },
            },
            handingOver: {
              on: {
                'xstate.done.actor.job': [
                  { guard: 'jobHandedOver', target: '#framework.handedOver', actions: ['recordJobResult', 'setHandoverOutcome'] },
                  // The job ended on its own just before: it is over, tear down as usual.
                  { target: 'tearingDown', actions: 'recordJobResult' },
                ],
              },
            },
            /** TEARDOWN needs a subscription: send it now, or wait (bounded) for the next one. */
            tearingDown: {
              always: [
                { guard: and(['isSubscribed', 'jobCompleted']), target: '#framework.completed', actions: ['sendTeardown', 'setJobOutcome'] },
                { guard: 'isSubscribed', target: '#framework.stopped', actions: ['sendTeardown', 'setJobOutcome'] },
                // Never registered (or already removed by the master): nothing to tear down.
                { guard: and([not('hasFrameworkId'), 'jobCompleted']), target: '#framework.completed', actions: 'setJobOutcome' },
                { guard: not('hasFrameworkId'), target: '#framework.stopped', actions: 'setJobOutcome' },
                // Stop now means now: no waiting for a master.
                { guard: 'jobAborted', target: '#framework.stopped', actions: 'setJobOutcome' },
              ],
              on: { 'framework.stopNow': { target: '#framework.stopped', actions: 'setJobOutcome' } },
              after: {
                teardownWait: [
                  { guard: 'jobCompleted', target: '#framework.completed', actions: ['setJobOutcome', 'noteTeardownSkipped'] },
                  { target: '#framework.stopped', actions: ['setJobOutcome', 'noteTeardownSkipped'] },
                ],
              },
            },
          },
        },
      },
    },
    /** Every round ran; TEARDOWN sent. */
    completed: { type: 'final' },
    /** Stopped by a signal (drained or at once). */
    stopped: { type: 'final' },
    /** HA handover: no TEARDOWN, tasks keep running for the standby. */
    handedOver: { type: 'final' },
    /** Refused by the master or replaced by another scheduler: no TEARDOWN. */
    fatal: { type: 'final' },
  },
  output: ({ context }) => context.outcome ?? { exitCode: EXIT_FATAL, reason: 'fatal', message: 'ended without an outcome' },
});
