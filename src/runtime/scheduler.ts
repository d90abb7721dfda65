/**
 * runScheduler: wires the framework machine to the Mesos client, the state
 * store, logs and signals, runs it until it stops, and resolves with the
 * exit code of its FrameworkOutput.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createActor, toPromise, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import type { FrameworkInput, FrameworkOutput, JobRun, PersistedState, PersistParams, RuntimeEvent, SubscriptionEvent, TaskInspection, Timing } from '../../machines/contract.js';
import { CallSender } from '../client/calls.js';
import { isConnectionRefused } from '../client/errors.js';
import type { LeaderSource } from '../client/leader-source.js';
import { SessionHolder } from '../client/session.js';
import { createSubscriptionLogic } from '../client/subscription.js';
import { MesosTransport } from '../client/transport.js';
import type { Config } from '../config/run-config.js';
import type { Call, FrameworkInfo } from '../mesos/types.js';
import type { StateChange, StateStore } from '../state/store.js';
import { buildFrameworkMachine } from '../../machines/index.js';
import { jobOfTask, rolesOf } from '../../machines/supervisor/supervisor.context.js';
import { CallQueue } from './call-order.js';
import { JobsStateCombiner } from './jobs-state.js';
import { jobsDigest } from '../jobs/digest.js';
import type { JobCatalogue } from './job-catalogue.js';
import { reloadOnHangup } from './jobs-reload.js';
import { stateForCluster } from './cluster-identity.js';
import { handleNotification } from './notifications.js';
import { OfferTracker } from './offer-tracker.js';
import { Signals } from './signals.js';
import { StateWriter } from './state-writer.js';
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
  /** SIGHUP (`--jobs`: reload the file) comes from here; default the process. */
  hangupSource?: SignalSource;
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
  /** The cluster the state must belong to (src/runtime/cluster-identity.ts); unset for the embedded master. */
  cluster?: string;
  /** Backoff of failed state writes (ms); default 100 doubling to 5000. */
  storeRetry?: { initialMs: number; maxMs: number };
  /** `--jobs`: told of the jobs a reload added or changed and of removed jobs once forgotten. */
  catalogue?: JobCatalogue;
}

/**
 * A persist as the store takes it: the delta's header stamped now (cheap), the
 * whole state stamped the same way but built only if the store reads it.
 */
export function stampedChange<H extends Omit<PersistedState, 'tasks'>>(
  params: PersistParams, at: number, stamp: (header: H, at: number) => H,
): StateChange {
  const delta = params.delta ? { ...params.delta, header: stamp(params.delta.header as H, at) } : undefined;
  let state: PersistedState | undefined;
  return {
    get state(): PersistedState {
      state ??= stamp(params.state as unknown as H, at) as unknown as PersistedState;
      return state;
    },
    ...(delta ? { delta } : {}),
  };
}

export function buildFrameworkInfo(config: Config): FrameworkInfo {
  if (config.jobs !== undefined) {
    // --jobs: MULTI_ROLE with every job's role, so offers can be suppressed and revived per role.
    return {
      user: config.job.user,
      name: config.job.name,
      roles: rolesOf(config.jobs),
      failover_timeout: config.failoverTimeoutSeconds,
      checkpoint: true,
      hostname: hostname(),
      capabilities: [{ type: 'TASK_KILLING_STATE' }, { type: 'MULTI_ROLE' }],
      ...(config.principal !== undefined ? { principal: config.principal } : {}),
    };
  }
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
  const loaded = await store.load(config.job.name);
  const restored = stateForCluster(loaded, { cluster: deps.cluster, reset: config.resetState, where: store.description, log });
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
  let hinted = false;
  let cooldown: { round: number; until: number } | undefined;
  signals.on('cooldown', (c) => { cooldown = c; });

  let sendToMachine: (event: RuntimeEvent) => void = () => {};
  const sender = new CallSender({
    transport, session, log,
    onSubscriptionLost: (generation, error) => sendToMachine({ type: 'call.failed', generation, error }),
  });
  const writer = new StateWriter(store, {
    log, now,
    ...(deps.storeRetry ? { retryInitialMs: deps.storeRetry.initialMs, retryMaxMs: deps.storeRetry.maxMs } : {}),
    onHealth: (health) => {
      status.store = health;
      signals.emit('storeHealth', health);
    },
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

  /** Sends a call made under subscription `generation`; an ACCEPT that never reached the master is reported to the machine. */
  const dispatch = (call: Call, generation: number | undefined): void => {
    try {
      offers.answered(call);
    } catch (err) {
      log.error({ err }, `${call.type ?? 'UNKNOWN'} call failed: ${(err as Error).message}`);
    }
    const sent = sender.send(call, generation).then((outcome) => {
      if (call.type !== 'ACCEPT') return;
      if (outcome.kind === 'dropped') sendToMachine({ type: 'call.unsent', call, reason: outcome.reason });
      else if (outcome.kind === 'failed' && !outcome.reached) sendToMachine({ type: 'call.unsent', call, reason: outcome.error.message });
    });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  const calls = new CallQueue({
    writes: writer,
    dispatch,
    unsent: (call, reason) => {
      log.debug({ call: call.type, offers: call.accept?.offer_ids?.length ?? 0, reason }, `ACCEPT not sent (${reason}); its offers were declined`);
      sendToMachine({ type: 'call.unsent', call, reason });
    },
    dropped: (call, reason) => log.warn({ call: call.type, reason }, `${call.type ?? 'UNKNOWN'} call not sent: ${reason}`),
  });
  // --reset-state: the old state's journal is replaced by a fresh snapshot before anything else is written.
  if (loaded !== undefined && restored === undefined) writer.write({ state: freshState(config.job.name, now()) });
  writer.onDurable(() => calls.pump());
  writer.onFailure(() => calls.writeFailed());

  /** Resolves when every call made so far (and any made meanwhile) has gone out and been answered. */
  const drained = async (): Promise<void> => {
    do {
      await Promise.resolve();
      await calls.whenIdle();
      await Promise.allSettled([...inFlight]);
    } while (calls.size > 0 || inFlight.size > 0);
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

  const runId = newRunId();
  const jobs = config.jobs?.map((job) => ({ ...job, runId }));
  const digest = config.jobs === undefined ? undefined : jobsDigest(config.jobs);
  // --jobs: every job persists its own part; the combiner makes the one state the store keeps.
  const combiner = jobs === undefined ? undefined : new JobsStateCombiner({
    frameworkName: config.job.name, jobs, ...(restored ? { restored } : {}), ...(digest !== undefined ? { digest } : {}),
  });
  let jobNames = combiner?.names() ?? [];
  /** The definitions of the last reload (the supervisor says which it took). */
  let reloading: readonly JobRun[] = [];
  if (restored?.jobsDigest !== undefined && digest !== undefined && restored.jobsDigest !== digest) {
    const unknown = (restored.jobs ?? []).map((j) => j.name).filter((name) => !config.jobs!.some((d) => d.name === name));
    log.warn({ before: restored.jobsDigest, now: digest, unknown },
      `the jobs file differs from the one ${store.description} was written with (digest ${restored.jobsDigest.slice(0, 19)}, now ${digest.slice(0, 19)}): jobs it no longer lists are stopped (their grace, then kill)${unknown.length > 0 ? `: ${unknown.join(', ')}` : ''}, the others carry on`);
  }

  /** The runtime's part of a persisted header: when it was written and, in cooldown, when the cooldown ends. */
  const stamp = <H extends Omit<PersistedState, 'tasks'>>(header: H, at: number): H => {
    if (header.phase !== 'cooldown') return { ...header, updatedAt: at };
    let until = header.cooldownUntil;
    if (until === undefined) {
      if (!cooldown || cooldown.round !== header.round) cooldown = { round: header.round, until: at + config.job.waitSeconds * 1000 };
      until = cooldown.until;
    }
    return { ...header, updatedAt: at, cooldownUntil: until };
  };

  const machine = buildFrameworkMachine({
    subscription,
    // Which call waits for which write: src/runtime/call-order.ts.
    sendCall: ({ call, independent }) => calls.submit(call, independent === true, session.current?.generation),
    // Every change goes to the state writer (group commit, retries); the calls
    // made after it wait for it as call-order.ts says. The whole state is read
    // only when the store writes a snapshot.
    persist: (params) => {
      const at = now();
      writer.write(stampedChange(combiner === undefined ? params : combiner.persist(params, at), at, stamp));
    },
    notify: (notification) => {
      handleNotification(notification, {
        log, signals, status, now, ...(jobs !== undefined ? { jobOf: (taskId: string) => jobOfTask(taskId, jobNames) } : {}),
      });
      if (notification.type === 'jobsReloaded') deps.catalogue?.reloaded(reloading, notification);
      // A removed job has drained: it leaves the state.
      if (notification.type === 'jobRemoved' && combiner !== undefined) {
        const at = now();
        writer.write(stampedChange(combiner.forget(notification.job, at), at, stamp));
        jobNames = combiner.names();
        deps.catalogue?.forget(notification.job);
      }
    },
    ...(deps.inspectTask ? { inspectTask: deps.inspectTask } : {}),
  }, { jobs: jobs !== undefined });

  const input: FrameworkInput = {
    frameworkInfo: buildFrameworkInfo(config),
    job: { ...config.job, env: { ...config.job.env }, uris: [...config.job.uris], runId },
    ...(jobs !== undefined ? { jobs, now: now() } : {}),
    ...(restored ? { restored } : {}),
    seed: deps.seed ?? randomInt(0, 2 ** 31),
    ...(deps.timing ? { timing: deps.timing } : {}),
  };
  if (jobs !== undefined) {
    log.info({ master: source.description, framework: config.job.name, jobs: jobNames },
      `starting framework ${config.job.name} with ${jobs.length} job${jobs.length === 1 ? '' : 's'} (${jobs.map((j) => j.name).join(', ')}) against ${source.description}`);
  } else {
    log.info({ master: source.description, framework: config.job.name, rounds: config.job.rounds, maxTasks: config.job.maxTasks },
      `starting framework ${config.job.name} against ${source.description}`);
  }

  const actor = createActor(machine, { input, ...(deps.inspect ? { inspect: deps.inspect } : {}) });
  deps.onActor?.(actor);
  sendToMachine = (event) => {
    if (actor.getSnapshot().status === 'active') actor.send(event);
  };
  const firstStop: RuntimeEvent = deps.stopMode === 'handover' ? { type: 'framework.handover' } : { type: 'framework.stop' };
  const removeSignalHandlers = handleStopSignals(
    { stop: () => actor.send(firstStop), stopNow: () => actor.send({ type: 'framework.stopNow' }) },
    log, deps.stopMode === 'handover' ? undefined : config.job.graceSeconds, deps.signalSource,
  );
  deps.onStarted?.((event) => actor.send(event));
  const removeReload = config.jobsFile === undefined || combiner === undefined ? () => {} : reloadOnHangup({
    file: config.jobsFile, username: config.job.user, runId, log,
    ...(deps.hangupSource ? { source: deps.hangupSource } : {}),
    reload: (runs) => {
      combiner.setJobs(runs);
      jobNames = combiner.names();
      reloading = runs;
      sendToMachine({ type: 'jobs.reload', jobs: runs });
    },
  });
  let output: FrameworkOutput;
  try {
    try {
      actor.start();
      output = (await toPromise(actor)) as FrameworkOutput;
    } finally {
      removeSignalHandlers();
      removeReload();
      actor.stop();
      await writer.flush().catch(() => {
        // logged by the writer; the calls that waited for it are dropped
      });
      await drained();
    }
    // The framework was torn down: its id is gone for good, so the next run starts afresh.
    if (output.reason === 'completed' || output.reason === 'stopped') {
      writer.write({ state: freshState(config.job.name, now()) });
      await writer.flush().catch((err: unknown) => {
        log.error({ err }, `cannot reset ${store.description}: ${(err as Error).message}`);
      });
    }
  } finally {
    await Promise.allSettled([store.close(), source.close(), transport.close()]);
  }
  const line = `${output.reason}${output.message ? `: ${output.message}` : ''}`;
  if (output.exitCode === 0) log.info({ exitCode: 0, reason: output.reason }, `done (${line})`);
  else log.warn({ exitCode: output.exitCode, reason: output.reason }, `exiting with status ${output.exitCode} (${line})`);
  return output.exitCode;
}
