/**
 * Drives the real buildFrameworkMachine with fake effects: a subscription
 * actor the test controls, and recorders for calls, persisted states and
 * notifications (one ordered log, to check write-ahead and ACK ordering).
 * Time is a SimulatedClock: nothing waits for real.
 */
import assert from 'node:assert/strict';
import { createActor, fromCallback, SimulatedClock, type AnyActorLogic, type EventObject } from 'xstate';
import { buildFrameworkMachine, type JobContext } from '../../machines/index.js';
import type {
  FrameworkInput, JobConfig, JobRun, Notification, PersistedState, RuntimeEvent, StateDelta, TaskInspection, SubscriptionEvent, SubscriptionInput, Timing,
} from '../../machines/contract.js';
import type { Call, Offer, Resource, TaskState, TaskStatus } from '../../src/mesos/types.js';

/** A subscription event without its generation (the harness stamps the current one). */
export type StreamEvent = SubscriptionEvent extends infer E ? (E extends SubscriptionEvent ? Omit<E, 'generation'> & { generation?: number } : never) : never;

export interface FakeSubscription {
  input: SubscriptionInput;
  sendBack: (event: SubscriptionEvent) => void;
  disposed: boolean;
}

export type LogEntry =
  | { kind: 'call'; call: Call; independent?: true }
  | { kind: 'persist'; state: PersistedState; delta?: StateDelta }
  | { kind: 'notify'; note: Notification }
  | { kind: 'subscribe'; input: SubscriptionInput };

export const baseJob: JobConfig = {
  name: 'etl', cmd: 'echo hi', cpus: 0.5, memMb: 128, maxTasks: 2, waitSeconds: 60, rounds: 2, role: '*',
  graceSeconds: 10, env: {}, uris: [], containerizer: 'mesos', user: 'nobody', runId: 'abc',
};

export interface HarnessOptions {
  job?: Partial<JobConfig>;
  timing?: Partial<Timing>;
  restored?: PersistedState;
  seed?: number;
  now?: number;
  /** The inspectTask effect (the Stately inspector's view of tasks). */
  inspectTask?: (step: TaskInspection) => void;
  /** Replaces the job machine (model tests drive the framework machine with a stub job). */
  jobLogic?: AnyActorLogic;
  /** `--jobs`: the framework runs the supervisor with these jobs. */
  jobs?: JobRun[];
}

/** A job of a jobs file, as the loader gives it (with the run id), from a few fields. */
export function jobRun(fields: Partial<JobRun> & { name: string }): JobRun {
  return { ...baseJob, labels: {}, constraints: [], after: [], priority: 0, ...fields };
}

export function createHarness(options: HarnessOptions = {}) {
  const log: LogEntry[] = [];
  const subscriptions: FakeSubscription[] = [];
  const subscription = fromCallback<EventObject, SubscriptionInput>(({ input, sendBack }) => {
    const sub: FakeSubscription = { input, sendBack: (e) => sendBack(e), disposed: false };
    subscriptions.push(sub);
    log.push({ kind: 'subscribe', input: structuredClone(input) });
    return () => { sub.disposed = true; };
  });
  const built = buildFrameworkMachine({
    subscription,
    sendCall: ({ call, independent }) => { log.push({ kind: 'call', call: structuredClone(call), ...(independent ? { independent } : {}) }); },
    persist: ({ state, delta }) => {
      log.push({ kind: 'persist', state: structuredClone(state), ...(delta !== undefined ? { delta: structuredClone(delta) } : {}) });
    },
    notify: (note) => { log.push({ kind: 'notify', note: structuredClone(note) }); },
    ...(options.inspectTask !== undefined ? { inspectTask: options.inspectTask } : {}),
  }, { jobs: options.jobs !== undefined });
  const machine = options.jobLogic === undefined ? built : built.provide({ actors: { job: options.jobLogic as never } });
  const job = { ...baseJob, ...options.job };
  const input: FrameworkInput = {
    frameworkInfo: { user: job.user, name: job.name, failover_timeout: 604800, checkpoint: true, role: job.role },
    job,
    seed: options.seed ?? 42,
  };
  if (options.timing !== undefined) input.timing = options.timing;
  if (options.restored !== undefined) input.restored = options.restored;
  if (options.now !== undefined) input.now = options.now;
  if (options.jobs !== undefined) {
    input.jobs = options.jobs;
    const roles = [...new Set(options.jobs.map((j) => j.role))];
    input.frameworkInfo = { user: job.user, name: job.name, failover_timeout: 604800, checkpoint: true, roles, capabilities: [{ type: 'MULTI_ROLE' }] };
  }
  const clock = new SimulatedClock();
  const actor = createActor(machine, { input, clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (err) => { errors.push(err); } });

  let offerSeq = 0;
  let uuidSeq = 0;
  const h = {
    actor, clock, log, subscriptions, errors, job,
    start() { actor.start(); return h; },
    get sub(): FakeSubscription {
      const s = subscriptions[subscriptions.length - 1];
      if (s === undefined) throw new Error('no subscription yet');
      return s;
    },
    get generation(): number { return h.sub.input.generation; },
    /** Sends a subscription event for the current generation (as the live stream would). */
    emit(event: StreamEvent) {
      actor.send({ generation: h.generation, ...event } as SubscriptionEvent);
    },
    send(event: RuntimeEvent) { actor.send(event); },
    subscribed(frameworkId = 'fw-1', heartbeatIntervalSeconds = 15) {
      h.emit({ type: 'conn.subscribed', streamId: `stream-${h.generation}`, master: 'm1:5050', frameworkId, heartbeatIntervalSeconds });
    },
    lost(code = 'STREAM_ENDED', message = 'stream ended') {
      h.emit({ type: 'conn.lost', error: { code, message } });
    },
    offer(agent = 'agent-1', cpus = 1, mem = 256, extra: Resource[] = []): Offer {
      offerSeq += 1;
      return {
        id: { value: `offer-${offerSeq}` }, framework_id: { value: 'fw-1' }, agent_id: { value: agent }, hostname: `${agent}.local`,
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: cpus }, role: '*' },
          { name: 'mem', type: 'SCALAR', scalar: { value: mem }, role: '*' },
          ...extra,
        ],
      };
    },
    offers(...offers: Offer[]) { h.emit({ type: 'mesos.offers', offers, receivedAt: 0 }); },
    status(taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}, withUuid = true): TaskStatus {
      const status: TaskStatus = { task_id: { value: taskId }, state, agent_id: { value: 'agent-1' }, source: 'SOURCE_EXECUTOR', ...extra };
      if (withUuid && status.uuid === undefined) status.uuid = Buffer.from(`uuid-${++uuidSeq}`).toString('base64');
      return status;
    },
    update(status: TaskStatus) { h.emit({ type: 'mesos.update', status }); },
    advance(ms: number) { clock.increment(ms); },
    value() { return actor.getSnapshot().value; },
    status_() { return actor.getSnapshot().status; },
    calls(type?: Call['type']): Call[] {
      return log.flatMap((e) => (e.kind === 'call' && (type === undefined || e.call.type === type) ? [e.call] : []));
    },
    notes<T extends Notification['type']>(type: T): Extract<Notification, { type: T }>[] {
      return log.flatMap((e) => (e.kind === 'notify' && e.note.type === type ? [e.note as Extract<Notification, { type: T }>] : []));
    },
    persisted(): PersistedState[] { return log.flatMap((e) => (e.kind === 'persist' ? [e.state] : [])); },
    deltas(): StateDelta[] { return log.flatMap((e) => (e.kind === 'persist' && e.delta !== undefined ? [e.delta] : [])); },
    lastPersisted(): PersistedState | undefined { const all = h.persisted(); return all[all.length - 1]; },
    /** Task ids of every LAUNCH in every ACCEPT so far. */
    launchedTaskIds(): string[] {
      return h.calls('ACCEPT').flatMap((c) => c.accept?.operations?.flatMap((op) => op.launch?.task_infos?.map((t) => t.task_id.value) ?? []) ?? []);
    },
    /** The job actor's snapshot (value and context), for assertions on its inner state. */
    jobSnapshot(): { value: unknown; context: JobContext; children: Record<string, unknown> } {
      const job = actor.getSnapshot().children['job'];
      if (job === undefined) throw new Error('no job actor');
      return job.getSnapshot() as { value: unknown; context: JobContext; children: Record<string, unknown> };
    },
    clearLog() { log.length = 0; },
    /**
     * One framework id: every SUBSCRIBE carries the id of the last SUBSCRIBED
     * (the restored one at first), or none after the master removed it.
     */
    assertOneFrameworkId(initial: string | undefined = options.restored?.frameworkId) {
      let known = initial;
      for (const entry of log) {
        if (entry.kind === 'subscribe') assert.equal(entry.input.frameworkId, known, `generation ${entry.input.generation}`);
        else if (entry.kind === 'notify' && entry.note.type === 'subscribed') known = entry.note.frameworkId;
        else if (entry.kind === 'notify' && entry.note.type === 'frameworkRemoved') known = undefined;
      }
    },
  };
  return h;
}

export type Harness = ReturnType<typeof createHarness>;

/**
 * Every persist carries its delta, and the deltas applied one after the other
 * (from `initial`, the restored state's tasks) give the same header and the
 * same task ids as the whole states. (Task states may differ: a non-terminal
 * update is kept in memory only, so it reaches the next whole state but no delta.)
 */
export function assertDeltasAddUp(h: Harness, initial: readonly string[] = []): void {
  const ids = new Set(initial);
  for (const entry of h.log) {
    if (entry.kind !== 'persist') continue;
    assert.ok(entry.delta !== undefined, 'every persist carries its delta');
    for (const id of entry.delta.remove) ids.delete(id);
    for (const task of entry.delta.upsert) ids.add(task.taskId);
    const { tasks, ...header } = entry.state;
    assert.deepEqual(entry.delta.header, header, 'the delta\'s header is the state without its tasks');
    assert.deepEqual([...ids].sort(), tasks.map((t) => t.taskId).sort(), 'the deltas add up to the state\'s tasks');
  }
}

/** Runs every task launched so far through RUNNING to the given terminal state. */
export function finishAll(h: Harness, state: TaskState = 'TASK_FINISHED', ids = h.launchedTaskIds()) {
  for (const id of ids) {
    h.update(h.status(id, 'TASK_RUNNING'));
    h.update(h.status(id, state));
  }
}
