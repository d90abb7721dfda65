/**
 * Prometheus metrics fed from the runtime's domain signals. Everything lives
 * in a private prom-client Registry (never the global one), so several
 * schedulers or tests in one process do not share counters.
 *
 * Names: `mesos_scheduler_*`. Label values come from bounded sets (Mesos task
 * states and reasons, error codes, the names of the jobs), never from ids.
 * Task and round metrics carry a `job` label: the job of the flags, or the
 * job of a --jobs file that the task or round belongs to.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { jobOfTask } from '../../machines/supervisor/supervisor.context.js';
import type { Signals, SignalMap } from '../runtime/signals.js';

export interface Metrics {
  registry: Registry;
  /** Stops listening to the signals and sampling the event loop. */
  stop(): void;
}

const PREFIX = 'mesos_scheduler_';
/** Offer hold times: offers are normally answered within milliseconds. */
const HOLD_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];
/** Time to re-subscribe after losing the master: backoff reaches tens of seconds. */
const RESUBSCRIBE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface MetricsOptions {
  /** The names of the jobs (the flags' one, or a --jobs file's, as reloads change them), read when a signal comes. */
  jobs?: () => readonly string[];
}

/** The `job` label of a job that cannot be told (a task id of no known job). */
const UNKNOWN_JOB = 'unknown';

export function createMetrics(signals: Signals, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const jobNames = options.jobs ?? (() => []);
  /** A round signal names its job under --jobs; a flags run has one job. */
  const jobOfRound = (job: string | undefined): string => job ?? (jobNames().length === 1 ? jobNames()[0]! : UNKNOWN_JOB);
  const jobOf = (taskId: string): string => jobOfTask(taskId, jobNames()) ?? UNKNOWN_JOB;

  const offersReceived = new Counter({ name: `${PREFIX}offers_received_total`, help: 'Resource offers received from the master.', registers });
  const offersAccepted = new Counter({ name: `${PREFIX}offers_accepted_total`, help: 'Offers accepted (used to launch tasks).', registers });
  const offersDeclined = new Counter({ name: `${PREFIX}offers_declined_total`, help: 'Offers declined.', registers });
  const offerHold = new Histogram({
    name: `${PREFIX}offer_hold_seconds`,
    help: 'Time from receiving an offer to accepting or declining it.',
    labelNames: ['outcome'] as const,
    buckets: HOLD_BUCKETS,
    registers,
  });
  const tasksLaunched = new Counter({ name: `${PREFIX}tasks_launched_total`, help: 'Tasks launched.', labelNames: ['job'] as const, registers });
  const tasksUnlaunched = new Counter({
    name: `${PREFIX}tasks_unlaunched_total`,
    help: 'Tasks whose ACCEPT never reached the master (not sent, or refused); each is launched again under a new id.',
    labelNames: ['job'] as const,
    registers,
  });
  const tasksFinished = new Counter({ name: `${PREFIX}tasks_finished_total`, help: 'Tasks that ended successfully (TASK_FINISHED).', labelNames: ['job'] as const, registers });
  const tasksFailed = new Counter({
    name: `${PREFIX}tasks_failed_total`,
    help: 'Tasks that ended unsuccessfully, by terminal state and reason.',
    labelNames: ['job', 'state', 'reason'] as const,
    registers,
  });
  const taskUpdates = new Counter({
    name: `${PREFIX}task_status_updates_total`,
    help: 'Task status updates received, by state.',
    labelNames: ['job', 'state'] as const,
    registers,
  });
  const acknowledgements = new Counter({
    name: `${PREFIX}acknowledgements_total`,
    help: 'Status updates acknowledged to the master, by state.',
    labelNames: ['job', 'state'] as const,
    registers,
  });
  const roundsStarted = new Counter({ name: `${PREFIX}rounds_started_total`, help: 'Rounds started.', labelNames: ['job'] as const, registers });
  const roundsCompleted = new Counter({ name: `${PREFIX}rounds_completed_total`, help: 'Rounds completed (every task ended).', labelNames: ['job'] as const, registers });
  const roundsOverlapped = new Counter({
    name: `${PREFIX}rounds_overlapped_total`,
    help: 'Rounds started while earlier rounds of the job still ran (concurrency allow).',
    labelNames: ['job'] as const,
    registers,
  });
  const startsSkipped = new Counter({
    name: `${PREFIX}starts_skipped_total`,
    help: 'Scheduled starts skipped: the last round still ran (concurrency forbid, reason round-running) or max-in-flight rounds ran (allow).',
    labelNames: ['job', 'reason'] as const,
    registers,
  });
  const round = new Gauge({ name: `${PREFIX}round`, help: 'The round in progress (1-based), 0 before the first.', labelNames: ['job'] as const, registers });
  const subscribed = new Gauge({ name: `${PREFIX}subscribed`, help: '1 while subscribed to a master, else 0.', registers });
  const disconnects = new Counter({
    name: `${PREFIX}disconnects_total`,
    help: 'Subscriptions lost, by error code.',
    labelNames: ['reason'] as const,
    registers,
  });
  const reconnects = new Counter({ name: `${PREFIX}reconnects_total`, help: 'Subscriptions re-established after a loss.', registers });
  const resubscribeTime = new Histogram({
    name: `${PREFIX}resubscribe_seconds`,
    help: 'Time from losing the subscription to being subscribed again.',
    buckets: RESUBSCRIBE_BUCKETS,
    registers,
  });
  const leaderChanges = new Counter({ name: `${PREFIX}leader_changes_total`, help: 'Leading master changes seen.', registers });
  const suppressed = new Gauge({ name: `${PREFIX}offers_suppressed`, help: '1 while offers are suppressed, else 0.', registers });
  const offersRescinded = new Counter({ name: `${PREFIX}offers_rescinded_total`, help: 'Offers rescinded by the master.', registers });
  const reconciliations = new Counter({
    name: `${PREFIX}reconciliations_total`,
    help: 'Reconciliation requests sent, implicit or explicit.',
    labelNames: ['kind'] as const,
    registers,
  });
  const unknownTasks = new Counter({ name: `${PREFIX}unknown_task_updates_total`, help: 'Status updates for tasks this scheduler does not know.', registers });
  const events = new Counter({
    name: `${PREFIX}events_received_total`,
    help: 'Events received from the master, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const lastEvent = new Gauge({ name: `${PREFIX}last_event_timestamp_seconds`, help: 'When the last event from the master arrived (Unix time).', registers });

  const loop = createEventLoopLag(registers);
  // Every job's counters exist from the start (at 0), so a rate over them has a beginning; so do those of a job a reload adds.
  const startSeries = (jobs: readonly string[]): void => {
    for (const job of jobs) {
      for (const counter of [tasksLaunched, tasksUnlaunched, tasksFinished, roundsStarted, roundsCompleted, roundsOverlapped]) counter.labels(job).inc(0);
      round.labels(job).set(0);
    }
  };
  startSeries(jobNames());

  /** True after a loss until the next subscription: that one is a reconnect. */
  let lost = false;
  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    offersReceived: ({ count }) => offersReceived.inc(count),
    offerAccepted: ({ heldMs }) => {
      offersAccepted.inc();
      offerHold.labels('accepted').observe(heldMs / 1000);
    },
    offerDeclined: ({ heldMs }) => {
      offersDeclined.inc();
      offerHold.labels('declined').observe(heldMs / 1000);
    },
    taskLaunched: ({ taskId }) => tasksLaunched.labels(jobOf(taskId)).inc(),
    taskUnlaunched: ({ taskId }) => tasksUnlaunched.labels(jobOf(taskId)).inc(),
    taskState: ({ taskId, state }) => taskUpdates.labels(jobOf(taskId), state).inc(),
    taskEnded: ({ taskId, state, reason, ok }) => {
      if (ok) tasksFinished.labels(jobOf(taskId)).inc();
      else tasksFailed.labels(jobOf(taskId), state, reason ?? 'none').inc();
    },
    acknowledged: ({ taskId, state }) => acknowledgements.labels(jobOf(taskId), state).inc(),
    roundStarted: (s) => {
      const job = jobOfRound(s.job);
      roundsStarted.labels(job).inc();
      if (s.overlaps !== undefined) roundsOverlapped.labels(job).inc();
      round.labels(job).set(s.round);
    },
    startSkipped: ({ job, reason }) => startsSkipped.labels(job, reason).inc(),
    roundFinished: ({ job }) => roundsCompleted.labels(jobOfRound(job)).inc(),
    subscribed: ({ reconnectMs }) => {
      subscribed.set(1);
      if (lost) reconnects.inc();
      lost = false;
      if (reconnectMs !== undefined) resubscribeTime.observe(reconnectMs / 1000);
    },
    disconnected: ({ reason }) => {
      subscribed.set(0);
      disconnects.labels(reason).inc();
      lost = true;
    },
    leaderChanged: () => leaderChanges.inc(),
    offerRescinded: () => offersRescinded.inc(),
    reconcile: ({ implicit }) => reconciliations.labels(implicit ? 'implicit' : 'explicit').inc(),
    unknownTask: () => unknownTasks.inc(),
    event: ({ type, at }) => {
      events.labels(type).inc();
      lastEvent.set(at / 1000);
    },
    suppressed: () => suppressed.set(1),
    revived: () => suppressed.set(0),
    jobsChanged: ({ added }) => startSeries(added),
  };
  for (const [name, listener] of Object.entries(listeners)) {
    signals.on(name as keyof SignalMap, listener as never);
  }

  return {
    registry,
    stop() {
      for (const [name, listener] of Object.entries(listeners)) {
        signals.off(name as keyof SignalMap, listener as never);
      }
      loop.stop();
    },
  };
}

/**
 * Event-loop lag from node's own sampler (perf_hooks.monitorEventLoopDelay):
 * quantiles and maximum of the delay since the previous scrape.
 */
function createEventLoopLag(registers: Registry[]): { stop(): void } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let max = 0;
  new Gauge({
    name: `${PREFIX}event_loop_lag_seconds`,
    help: 'Event-loop delay since the previous scrape, by quantile.',
    labelNames: ['quantile'] as const,
    registers,
    collect() {
      const count = histogram.count;
      for (const q of [0.5, 0.9, 0.99]) {
        this.labels(String(q)).set(count > 0 ? histogram.percentile(q * 100) / 1e9 : 0);
      }
      max = count > 0 ? histogram.max / 1e9 : 0;
      histogram.reset();
    },
  });
  new Gauge({
    name: `${PREFIX}event_loop_lag_max_seconds`,
    help: 'Largest event-loop delay since the previous scrape.',
    registers,
    collect() {
      this.set(max);
    },
  });
  return { stop: () => histogram.disable() };
}
