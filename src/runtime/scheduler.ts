/**
 * runScheduler: wires the framework machine to the Mesos client, the state
 * store, logs and signals, runs it until it stops, and resolves with the
 * exit code of its FrameworkOutput.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createActor, toPromise, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import type { FrameworkInput, FrameworkOutput, PersistedState, PersistParams, RuntimeEvent, SubscriptionEvent, TaskInspection, Timing } from '../../machines/contract.js';
import { CallSender } from '../client/calls.js';
import { isConnectionRefused } from '../client/errors.js';
import type { LeaderSource } from '../client/leader-source.js';
import { SessionHolder } from '../client/session.js';
import { createSubscriptionLogic } from '../client/subscription.js';
import { MesosTransport } from '../client/transport.js';
import type { Config } from '../config/run-config.js';
import type { Call, FrameworkInfo } from '../mesos/types.js';
import type { StateStore } from '../state/store.js';
import { buildFrameworkMachine } from '../../machines/index.js';
import { handleNotification } from './notifications.js';
import { OfferTracker } from './offer-tracker.js';
import { Signals } from './signals.js';
import { initialStatus, type SchedulerStatus } from './status.js';
import { handleStopSignals, type SignalSource } from './stop-signals.js';

export interface RunDeps {
  log: Logger;
  /** Where the leading master is found (static list, ZooKeeper, embedded master). */
  source: LeaderSource;
  store: StateStore;
  signals?: Signals;
  status?: SchedulerStatus;
  /** SIGINT/SIGTERM come from here; default the process. */
  signalSource?: SignalSource;
  now?: () => number;
  seed?: number;
  timing?: Partial<Timing>;
  /**
   * What the first SIGINT/SIGTERM does: 'drain' (default: launch nothing more,
   * let tasks finish within --grace, TEARDOWN) or 'handover' (HA: stop without
   * TEARDOWN so a standby scheduler carries on with the same framework).
   */
  stopMode?: 'drain' | 'handover';
  /** The Stately inspector's observer (`--inspect`): sees every actor of the machine tree. */
  inspect?: Observer<InspectionEvent>;
  /** The Stately inspector's view of tasks (data, not actors): the machines' `inspectTask` effect. */
  inspectTask?: (step: TaskInspection) => void;
  /** Gets the framework actor once it is created (the status endpoint reads machine states from it). */
  onActor?: (actor: AnyActorRef) => void;
  /** Gets a way to send RuntimeEvents to the running framework actor (HA leadership loss). */
  onStarted?: (send: (event: RuntimeEvent) => void) => void;
}

export function buildFrameworkInfo(config: Config): FrameworkInfo {
  return {
    user: config.job.user,
    name: config.job.name,
    role: config.job.role,
    failover_timeout: config.failoverTimeoutSeconds,
    checkpoint: true,
    hostname: hostname(),
    // The task machine handles TASK_KILLING (killing → killed) when asked to stop tasks.
    capabilities: [{ type: 'TASK_KILLING_STATE' }],
    ...(config.principal !== undefined ? { principal: config.principal } : {}),
  };
}

/** The state of a framework that has not subscribed yet. */
export function freshState(frameworkName: string, at: number): PersistedState {
  return { version: 1, frameworkName, round: 0, completedRounds: 0, allFinished: true, tasks: [], phase: 'round', updatedAt: at };
}

/** A short random part of every task id, so restarts never reuse an id. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

export async function runScheduler(config: Config, deps: RunDeps): Promise<number> {
  const { log, source, store } = deps;
  const now = deps.now ?? Date.now;
  const restored = await store.load(config.job.name);
  if (restored && (restored.frameworkId !== undefined || restored.round > 0)) {
    log.info({ state: store.description, frameworkId: restored.frameworkId, round: restored.round },
      `carrying on from ${store.description}: framework id ${restored.frameworkId ?? '(none)'}, round ${restored.round}`);
  }
  const signals = deps.signals ?? new Signals();
  const status = deps.status ?? initialStatus();
  const transport = new MesosTransport({
    format: config.contentType, callTimeoutMs: config.callTimeoutMs,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.caPem !== undefined ? { caPem: config.caPem } : {}),
  });
  const session = new SessionHolder();
  const offers = new OfferTracker(signals, now);
  const inFlight = new Set<Promise<unknown>>();
  /**
   * The write-ahead queue: state writes and the calls that must not go out
   * before the writes queued ahead of them, in order.
   */
  let tail: Promise<unknown> = Promise.resolve();
  /**
   * Group commit: the newest persisted state that no write has taken yet, and
   * when it was persisted. Every PersistedState is a full snapshot, so one
   * write of the newest covers every older one still waiting.
   */
  let unwritten: { params: PersistParams; at: number } | undefined;
  /** ACCEPTs waiting in the write queue, not sent yet. */
  let queuedAccepts = 0;
  /** SUPPRESS/REVIVE calls waiting in the write queue, not sent yet. */
  let queuedInterest = 0;
  let hinted = false;
  let cooldown: { round: number; until: number } | undefined;
  signals.on('cooldown', (c) => { cooldown = c; });

  let sendToMachine: (event: RuntimeEvent) => void = () => {};
  const sender = new CallSender({
    transport, session, log,
    onSubscriptionLost: (generation, error) => sendToMachine({ type: 'call.failed', generation, error }),
  });

  const observe = (event: SubscriptionEvent): void => {
    if (event.type.startsWith('mesos.') || event.type === 'conn.subscribed') {
      status.lastEventAt = now();
      status.lastEventType = event.type;
      signals.emit('event', { type: event.type, at: status.lastEventAt });
    }
    if (event.type === 'mesos.offers') offers.offered(event.offers.map((o) => o.id.value), event.receivedAt);
    else if (event.type === 'mesos.rescind') offers.rescinded(event.offerId);
    else if (event.type === 'conn.subscribed' || event.type === 'conn.lost') {
      offers.clear();
      status.subscribed = event.type === 'conn.subscribed';
    }
  };

  const dispatch = (call: Call): void => {
    offers.answered(call);
    const sent = sender.send(call);
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  const enqueue = (what: string, step: () => unknown): void => {
    tail = tail.then(step).catch((err: unknown) => {
      log.error({ err }, `${what} failed: ${(err as Error).message}`);
    });
  };

  /** Resolves when every call queued so far (and any queued meanwhile) has been answered. */
  const drained = async (): Promise<void> => {
    await Promise.resolve();
    let seen: Promise<unknown>;
    do {
      seen = tail;
      await tail;
      await Promise.allSettled([...inFlight]);
    } while (seen !== tail);
  };

  const subscription = createSubscriptionLogic({
    source, transport, session, log, now, observe, beforeClose: drained,
    onUnreachable: (_base, err) => {
      if (!hinted && config.master.kind === 'static' && config.master.isDefault && isConnectionRefused(err)) {
        hinted = true;
        log.warn(`no master at ${config.master.text}; to try without a cluster run with --master local`);
      }
    },
  });

  const stamp = (state: PersistedState, at: number): PersistedState => {
    if (state.phase !== 'cooldown') return { ...state, updatedAt: at };
    let until = state.cooldownUntil;
    if (until === undefined) {
      if (!cooldown || cooldown.round !== state.round) cooldown = { round: state.round, until: at + config.job.waitSeconds * 1000 };
      until = cooldown.until;
    }
    return { ...state, updatedAt: at, cooldownUntil: until };
  };

  const machine = buildFrameworkMachine({
    subscription,
    // Calls that depend on a state write (ACCEPT on its write-ahead, ACKNOWLEDGE
    // of a terminal update on the write recording it, KILL/RECONCILE naming tasks whose
    // ACCEPT may still be queued, TEARDOWN last) go through the write queue:
    // a write lands before any later call goes out. The others skip it and go
    // out at once (in the order made: one connection, no pipelining):
    // - DECLINE depends on nothing; nor does a call the machines mark
    //   `independent` (the ACK of a non-terminal update).
    // - SUPPRESS and REVIVE depend on no write, but keep their order among
    //   themselves (REVIVE then SUPPRESS must stay so) and never overtake an
    //   ACCEPT made before them (a REVIVE must clear that ACCEPT's refuse
    //   filter): while such an ACCEPT, or an earlier SUPPRESS/REVIVE, waits in
    //   the queue, they queue behind it.
    sendCall: ({ call, independent }) => {
      const what = `${call.type ?? 'UNKNOWN'} call`;
      const interest = call.type === 'SUPPRESS' || call.type === 'REVIVE';
      if (call.type === 'DECLINE') {
        // At once, inside the step that made it (before that step starts the
        // tasks it launches): an offer declined is an offer held no longer,
        // and nothing waits for a DECLINE or is overtaken harmfully by one.
        try {
          dispatch(call);
        } catch (err) {
          log.error({ err }, `${what} failed: ${(err as Error).message}`);
        }
        return;
      }
      if (independent === true || (interest && queuedAccepts === 0 && queuedInterest === 0)) {
        // A microtask (FIFO), as the queue's steps: after the machine's current
        // step, still ahead of anything that waits for a write.
        queueMicrotask(() => {
          try {
            dispatch(call);
          } catch (err) {
            log.error({ err }, `${what} failed: ${(err as Error).message}`);
          }
        });
        return;
      }
      const accept = call.type === 'ACCEPT';
      if (accept) queuedAccepts++;
      if (interest) queuedInterest++;
      enqueue(what, () => {
        if (accept) queuedAccepts--;
        if (interest) queuedInterest--;
        dispatch(call);
      });
    },
    // Group commit with write-ahead kept: a persist either joins the write
    // already queued and not started (it writes the newest state when it
    // starts) or queues a new one. Any call queued after a persist is queued
    // after that write, so it goes out only once a state at least as new is on
    // disk. The write starts from setImmediate, after the events already read,
    // so a burst of updates costs one write; but at once when an ACCEPT waits
    // for it (holding an offer costs more than one more write).
    persist: (params) => {
      const joined = unwritten !== undefined;
      unwritten = { params, at: now() };
      if (joined) return;
      enqueue(`saving state to ${store.description}`, async () => {
        if (queuedAccepts === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const newest = unwritten;
        unwritten = undefined;
        if (newest !== undefined) await store.save(stamp(newest.params.state, newest.at));
      });
    },
    notify: (notification) => handleNotification(notification, { log, signals, status, now }),
    ...(deps.inspectTask ? { inspectTask: deps.inspectTask } : {}),
  });

  const input: FrameworkInput = {
    frameworkInfo: buildFrameworkInfo(config),
    job: { ...config.job, env: { ...config.job.env }, uris: [...config.job.uris], runId: newRunId() },
    ...(restored ? { restored } : {}),
    seed: deps.seed ?? randomInt(0, 2 ** 31),
    ...(deps.timing ? { timing: deps.timing } : {}),
  };
  log.info({ master: source.description, framework: config.job.name, rounds: config.job.rounds, maxTasks: config.job.maxTasks },
    `starting framework ${config.job.name} against ${source.description}`);

  const actor = createActor(machine, { input, ...(deps.inspect ? { inspect: deps.inspect } : {}) });
  deps.onActor?.(actor);
  sendToMachine = (event) => actor.send(event);
  const firstStop: RuntimeEvent = deps.stopMode === 'handover' ? { type: 'framework.handover' } : { type: 'framework.stop' };
  const removeSignalHandlers = handleStopSignals(
    { stop: () => actor.send(firstStop), stopNow: () => actor.send({ type: 'framework.stopNow' }) },
    log, deps.stopMode === 'handover' ? undefined : config.job.graceSeconds, deps.signalSource,
  );
  deps.onStarted?.((event) => actor.send(event));
  let output: FrameworkOutput;
  try {
    try {
      actor.start();
      output = (await toPromise(actor)) as FrameworkOutput;
    } finally {
      removeSignalHandlers();
      actor.stop();
      await drained();
    }
    // The framework was torn down: its id is gone for good, so the next run starts afresh.
    if (output.reason === 'completed' || output.reason === 'stopped') {
      await store.save(freshState(config.job.name, now())).catch((err: unknown) => {
        log.error({ err }, `cannot reset ${store.description}: ${(err as Error).message}`);
      });
    }
    await store.flush().catch(() => {});
  } finally {
    await Promise.allSettled([store.close(), source.close(), transport.close()]);
  }
  const line = `${output.reason}${output.message ? `: ${output.message}` : ''}`;
  if (output.exitCode === 0) log.info({ exitCode: 0, reason: output.reason }, `done (${line})`);
  else log.warn({ exitCode: output.exitCode, reason: output.reason }, `exiting with status ${output.exitCode} (${line})`);
  return output.exitCode;
}
