/**
 * Model-based tests of the framework machine with xstate/graph: the machine
 * itself is the model; paths through it (every state reached by a shortest
 * path, plus scripted scenarios) are replayed on the real built machine (fake
 * effects, SimulatedClock) and the two must agree at every step.
 *
 * Part 1 runs the framework machine with a stub job the test finishes on
 * command, so model and system stay in lockstep through stop, stop-now and
 * handover. Part 2 replays scenarios with the real job machine (leader
 * changes during a round's launches, repeated failovers, 503 periods, heartbeat
 * loss, framework removal, restart from a restored state) and checks the
 * invariants: one framework id, no duplicate launch, every uuid update ACKed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup, type AnyEventObject } from 'xstate';
import { TestModel } from 'xstate/graph';
import { frameworkMachine, type FrameworkContext, type JobOutput } from '../../machines/index.js';
import type { FrameworkInput, PersistedState } from '../../machines/contract.js';
import { baseJob, createHarness, type Harness } from '../machines/harness.js';

type Snap = { value: unknown; context: FrameworkContext; status: string; output?: unknown; matches: (v: string) => boolean };

const AFTER_HEARTBEAT = 'xstate.after.heartbeatTimeout.framework.operating.connection.session.subscribed';
const AFTER_RECONNECT = 'xstate.after.reconnectDelay.framework.operating.connection.failover';
const AFTER_TEARDOWN = 'xstate.after.teardownWait.framework.operating.lifecycle.tearingDown';
const AFTER_SUBSCRIBE = 'xstate.after.subscribeTimeout.framework.operating.connection.session.subscribing';

/** A job that ends only when the test says so, with the result its last order asks for. */
const stubJob = setup({
  types: { context: {} as { reason: JobOutput['reason'] }, events: {} as AnyEventObject, output: {} as JobOutput },
}).createMachine({
  id: 'stubJob',
  context: { reason: 'completed' },
  initial: 'running',
  states: {
    running: {
      on: {
        'job.drain': { target: 'waiting', actions: assign({ reason: 'stopped' }) },
        'job.abort': { target: 'waiting', actions: assign({ reason: 'aborted' }) },
        'job.handover': { target: 'waiting', actions: assign({ reason: 'handover' }) },
        'stub.finish': 'finished',
      },
    },
    waiting: {
      on: {
        'job.abort': { actions: assign({ reason: 'aborted' }) },
        'job.handover': { actions: assign({ reason: 'handover' }) },
        'stub.finish': 'finished',
      },
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => ({ reason: context.reason, allFinished: true, completedRounds: context.reason === 'completed' ? 1 : 0, unfinished: 0 }),
});

function lifecycleOf(snap: Snap): string | undefined {
  const value = snap.value as { operating?: { lifecycle?: string } };
  return value.operating?.lifecycle;
}

/** Event builders shared by the model's event list and the scripted scenarios (equal JSON = same model event). */
const LOST_MESSAGES: Record<string, string> = {
  STREAM_ENDED: 'eof', MESOS_NOT_LEADER: '307 to m2:5050', MESOS_UNAUTHORIZED: '401', MESOS_NO_LEADER: '503 No leader elected',
};
const ev = {
  subscribed: (g: number, frameworkId: string): AnyEventObject =>
    ({ type: 'conn.subscribed', generation: g, streamId: `s${g}`, master: 'm1:5050', frameworkId, heartbeatIntervalSeconds: 15 }),
  lost: (g: number, code: string): AnyEventObject => ({ type: 'conn.lost', generation: g, error: { code, message: LOST_MESSAGES[code] ?? code } }),
  callFailed: (g: number): AnyEventObject => ({ type: 'call.failed', generation: g, error: { code: 'MESOS_NO_LEADER', message: '503 No leader elected', status: 503 } }),
  heartbeat: (g: number): AnyEventObject => ({ type: 'mesos.heartbeat', generation: g }),
  error: (g: number, message: string): AnyEventObject => ({ type: 'mesos.error', generation: g, message }),
  jobDone: (reason: JobOutput['reason']): AnyEventObject =>
    ({ type: 'xstate.done.actor.job', output: { reason, allFinished: true, completedRounds: reason === 'completed' ? 1 : 0, unfinished: 0 } }),
  heartbeatTimeout: { type: AFTER_HEARTBEAT } as AnyEventObject,
  subscribeTimeout: { type: AFTER_SUBSCRIBE } as AnyEventObject,
  reconnect: { type: AFTER_RECONNECT } as AnyEventObject,
  teardownWait: { type: AFTER_TEARDOWN } as AnyEventObject,
};

/** The events the model may take in a state, with payloads of the current generation. */
function modelEvents(snap: Snap, withSignals: boolean): AnyEventObject[] {
  const g = snap.context.generation;
  const lifecycle = lifecycleOf(snap);
  const jobReason: Record<string, JobOutput['reason']> = { running: 'completed', draining: 'stopped', stoppingNow: 'aborted', handingOver: 'handover' };
  const events: AnyEventObject[] = [
    ev.subscribed(g, snap.context.frameworkId ?? 'fw-1'),
    ev.lost(g, 'STREAM_ENDED'), ev.lost(g, 'MESOS_NOT_LEADER'), ev.lost(g, 'MESOS_UNAUTHORIZED'), ev.lost(g, 'MESOS_NO_LEADER'),
    ev.callFailed(g), ev.heartbeat(g),
    ev.error(g, 'Framework has been removed'), ev.error(g, 'Framework failed over'), ev.error(g, 'User \'root\' is not allowed to run tasks'),
    ev.heartbeatTimeout, ev.reconnect,
  ];
  // Only timers that can fire first in real time: the reconnect delay (≤ 15 s) beats
  // teardownWait (30 s), which beats the SUBSCRIBE timeout (75 s).
  if (!JSON.stringify(snap.value).includes('"failover"')) events.push(ev.teardownWait);
  if (lifecycle !== 'tearingDown') events.push(ev.subscribeTimeout);
  if (!withSignals) return events;
  // Signals only once the first round could have started (a task is running), so the stub job's timing matches.
  if (snap.context.frameworkId !== undefined) events.push({ type: 'framework.stop' }, { type: 'framework.stopNow' }, { type: 'framework.handover' });
  const reason = lifecycle === undefined ? undefined : jobReason[lifecycle];
  if (reason !== undefined && (reason !== 'completed' || snap.context.subscribed)) events.push(ev.jobDone(reason));
  return events;
}

const MODEL_TYPES = new Set([
  'conn.subscribed', 'conn.lost', 'call.failed', 'mesos.heartbeat', 'mesos.error', 'framework.stop', 'framework.stopNow', 'framework.handover',
  'xstate.done.actor.job', AFTER_HEARTBEAT, AFTER_SUBSCRIBE, AFTER_RECONNECT, AFTER_TEARDOWN,
]);

/**
 * States are told apart by their value, the few context facts that change
 * behaviour, and the generation (so each path carries the exact generations
 * its events must have); exploration stops at MAX_GENERATION.
 */
const MAX_GENERATION = 4;
function serializeState(snap: Snap): string {
  return JSON.stringify({ value: snap.value, id: snap.context.frameworkId ?? null, job: snap.context.jobResult?.reason ?? null, g: snap.context.generation, out: snap.context.outcome ?? null });
}

function modelInput(restored?: PersistedState): FrameworkInput {
  const input: FrameworkInput = {
    frameworkInfo: { user: baseJob.user, name: baseJob.name, failover_timeout: 604800, checkpoint: true, role: baseJob.role },
    // Restored: several rounds with a long cooldown, so losing the restored task never ends the job within a path.
    job: restored === undefined
      ? { ...baseJob, rounds: 1, maxTasks: 1, graceSeconds: 1_000_000 }
      : { ...baseJob, rounds: 3, maxTasks: 1, graceSeconds: 1_000_000, waitSeconds: 10_000_000 },
    seed: 42,
    timing: { killWaitMs: 10_000_000, implicitReconcileMs: 10_000_000, reviveRepeatMs: 10_000_000 },
  };
  if (restored !== undefined) input.restored = restored;
  return input;
}

/**
 * `createTestModel` refuses machines with invocations and delays (its check
 * predates actors as effects); the TestModel class itself walks them fine with
 * xstate's pure transition functions, which start no actor and run no effect.
 */
function modelOptions(restored: PersistedState | undefined, withSignals: boolean, maxGeneration = MAX_GENERATION) {
  return {
    input: modelInput(restored),
    events: (snap: unknown) => modelEvents(snap as Snap, withSignals).filter((e) => MODEL_TYPES.has(e.type)) as never,
    serializeState: (snap: unknown) => serializeState(snap as Snap),
    serializeEvent: (event: AnyEventObject) => JSON.stringify(event),
    stopWhen: (snap: unknown) => (snap as Snap).context.generation >= maxGeneration,
    stateMatcher: (snap: unknown, key: string) => key === '*' || (snap as Snap).matches(key),
  };
}

function model(restored: PersistedState | undefined, withSignals: boolean) {
  return new TestModel(frameworkMachine, modelOptions(restored, withSignals) as never);
}

function sut(options: { stub: boolean; restored?: PersistedState; rounds?: number }): Harness {
  const input = modelInput(options.restored);
  const job = options.rounds === undefined ? input.job : { ...input.job, rounds: options.rounds, waitSeconds: 10_000_000 };
  return createHarness({
    job, timing: input.timing ?? {}, seed: input.seed,
    ...(options.restored ? { restored: options.restored } : {}),
    ...(options.stub ? { jobLogic: stubJob } : {}),
  }).start();
}

/** A short, readable test name: the events taken and the state reached. */
function describePath(path: { state: unknown; steps: { event: AnyEventObject }[] }): string {
  const label = (e: AnyEventObject): string => {
    const type = e.type.startsWith('xstate.after.') ? `after ${e.type.split('.')[2]}` : e.type.replace('xstate.done.actor.job', 'job done');
    const detail = (e['error'] as { code?: string } | undefined)?.code ?? (e['message'] as string | undefined)
      ?? (e['output'] as { reason?: string } | undefined)?.reason;
    return detail === undefined ? type : `${type}(${detail})`;
  };
  const steps = path.steps.filter((s) => s.event.type !== 'xstate.init').map((s) => label(s.event));
  const snap = path.state as Snap;
  return `${JSON.stringify(snap.value).replace(/"/g, '')} via ${steps.length > 0 ? steps.join(' → ') : 'start'}`;
}

function sutSnap(h: Harness): Snap {
  return h.actor.getSnapshot() as unknown as Snap;
}

/** Replays one model step on the system under test. */
function execute(h: Harness, event: AnyEventObject, realJob: boolean): void {
  const snap = sutSnap(h);
  switch (event.type) {
    case AFTER_HEARTBEAT: h.advance(75_000); return;
    case AFTER_SUBSCRIBE: h.advance(75_000); return;
    case AFTER_RECONNECT: h.advance(snap.context.retryInMs); return;
    case AFTER_TEARDOWN: h.advance(snap.context.timing.teardownWaitMs); return;
    case 'xstate.done.actor.job': {
      if (!realJob) { (h.actor.getSnapshot().children['job'] as { send(e: AnyEventObject): void } | undefined)?.send({ type: 'stub.finish' }); return; }
      for (const id of h.launchedTaskIds()) h.update(h.status(id, 'TASK_FINISHED'));
      return;
    }
    default:
      h.actor.send(event as never);
      if (realJob && event.type === 'conn.subscribed' && h.launchedTaskIds().length === 0) {
        // The round's launch happens right after SUBSCRIBED (a leader change can hit it next).
        h.offers(h.offer('agent-1', 1, 512));
      }
  }
}

/** The system agrees with the model: same state, same generation and id, same outcome. */
function agree(h: Harness, modelSnap: Snap): void {
  const s = sutSnap(h);
  assert.deepEqual(s.value, modelSnap.value);
  assert.equal(s.context.generation, modelSnap.context.generation, 'generation');
  assert.equal(s.context.frameworkId, modelSnap.context.frameworkId, 'framework id');
  assert.equal(s.context.subscribed, modelSnap.context.subscribed, 'subscribed');
  assert.equal(s.status, modelSnap.status);
  if (modelSnap.status === 'done') assert.deepEqual(s.output, modelSnap.output);
  if (s.status !== 'done' && s.context.generation > 1) {
    // A stale event (previous generation) changes nothing.
    const before = h.log.length;
    h.actor.send({ type: 'conn.lost', generation: s.context.generation - 1, error: { code: 'STREAM_ENDED', message: 'stale' } });
    h.actor.send({ type: 'mesos.error', generation: s.context.generation - 1, message: 'Framework failed over' });
    assert.deepEqual(sutSnap(h).value, s.value, 'stale events ignored');
    assert.equal(h.log.length, before);
  }
}

function universalInvariants(h: Harness): void {
  h.assertOneFrameworkId();
  assert.ok(h.subscriptions.filter((s) => !s.disposed).length <= 1, 'at most one live stream');
  assert.equal(new Set(h.launchedTaskIds()).size, h.launchedTaskIds().length, 'no duplicate launch');
  assert.ok(h.launchedTaskIds().length <= 1, 'never more than maxTasks (1) in the one round');
  assert.deepEqual(h.errors, []);
}

describe('framework machine, lockstep with a stub job: every reachable state', () => {
  const paths = model(undefined, true).getShortestPaths({ allowDuplicatePaths: true });
  test('the model reaches every state of the chart', () => {
    const reached = new Set<string>();
    for (const p of paths) {
      const s = p.state as unknown as Snap;
      const v = s.value as string | { operating: { connection: unknown; lifecycle: string } };
      if (typeof v === 'string') reached.add(v);
      else { reached.add(`connection.${JSON.stringify(v.operating.connection)}`); reached.add(`lifecycle.${v.operating.lifecycle}`); }
    }
    for (const name of ['completed', 'stopped', 'handedOver', 'fatal',
      'connection."failover"', 'connection.{"session":"subscribing"}', 'connection.{"session":"subscribed"}',
      'lifecycle.running', 'lifecycle.draining', 'lifecycle.stoppingNow', 'lifecycle.handingOver', 'lifecycle.tearingDown']) {
      assert.ok(reached.has(name), `unreached: ${name}`);
    }
    assert.ok(paths.length > 30, `${paths.length} paths`);
  });
  for (const path of paths) {
    test(describePath(path), async () => {
      const h = sut({ stub: true });
      await path.test({
        states: { '*': (snap) => agree(h, snap as unknown as Snap) },
        events: Object.fromEntries([...MODEL_TYPES].map((type) => [type, (step: { event: AnyEventObject }) => execute(h, step.event, false)])),
      });
      universalInvariants(h);
    });
  }
});

describe('framework machine with the real job: scenarios', () => {
  const m = model(undefined, true);
  const { subscribed: sub, lost, reconnect } = ev;
  const scenarios: Record<string, AnyEventObject[]> = {
    'leader change while subscribing': [lost(1, 'MESOS_NOT_LEADER'), reconnect, sub(2, 'fw-1')],
    'leader change while subscribed, during the round\'s launches': [sub(1, 'fw-1'), lost(1, 'MESOS_NOT_LEADER'), reconnect, sub(2, 'fw-1')],
    'repeated failovers keep one id': [
      sub(1, 'fw-1'), lost(1, 'STREAM_ENDED'), reconnect, sub(2, 'fw-1'), lost(2, 'MESOS_NOT_LEADER'), reconnect,
      lost(3, 'MESOS_NO_LEADER'), reconnect, sub(4, 'fw-1'),
    ],
    'heartbeat loss then recovery': [sub(1, 'fw-1'), ev.heartbeat(1), ev.heartbeatTimeout, reconnect, sub(2, 'fw-1')],
    '503 period': [lost(1, 'MESOS_NO_LEADER'), reconnect, lost(2, 'MESOS_NO_LEADER'), reconnect, lost(3, 'MESOS_NO_LEADER'), reconnect, sub(4, 'fw-1')],
    'calls fail with 503 while subscribed': [sub(1, 'fw-1'), ev.callFailed(1), reconnect, sub(2, 'fw-1')],
    'framework removed while re-subscribing': [sub(1, 'fw-1'), lost(1, 'STREAM_ENDED'), reconnect, ev.error(2, 'Framework has been removed'), sub(3, 'fw-1')],
    'the job completes: TEARDOWN': [sub(1, 'fw-1'), lost(1, 'STREAM_ENDED'), reconnect, sub(2, 'fw-1'), ev.jobDone('completed')],
  };
  for (const [name, events] of Object.entries(scenarios)) {
    test(name, async () => {
      // getPathsFromEvents does not pass `input` on to the initial snapshot: start it from the model's own.
      const fromState = m.getShortestPaths()[0]?.steps[0]?.state;
      const [path] = m.getPathsFromEvents(events as never, { ...modelOptions(undefined, true, 8), fromState } as never);
      assert.ok(path !== undefined);
      // Only the completion scenario lets the job end; elsewhere it has rounds to go (a lost task must not end it).
      const h = sut({ stub: false, rounds: name === 'the job completes: TEARDOWN' ? 1 : 3 });
      await path.test({
        states: { '*': (snap) => agree(h, snap as unknown as Snap) },
        events: Object.fromEntries([...MODEL_TYPES].map((type) => [type, (step: { event: AnyEventObject }) => execute(h, step.event, true)])),
      });
      universalInvariants(h);
      // Every update with a uuid was ACKed exactly once per delivery (the harness sends each once).
      const withUuid = h.log.filter((e) => e.kind === 'notify' && e.note.type === 'acknowledged').length;
      assert.equal(h.calls('ACKNOWLEDGE').length, withUuid);
      if (name === 'the job completes: TEARDOWN') {
        assert.equal(h.value(), 'completed');
        assert.deepEqual(h.calls().at(-1), { type: 'TEARDOWN' });
        assert.equal(h.actor.getSnapshot().output?.exitCode, 0);
      }
      if (name.startsWith('framework removed')) {
        assert.equal(h.subscriptions[2]?.input.frameworkId, undefined, 'subscribed as a new framework');
        assert.equal(h.notes('frameworkRemoved').length, 1);
      }
    });
  }
});

describe('restart from a restored state', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
    launchedInRound: 1, finishedInRound: 0, failedInRound: 0,
    tasks: [{ taskId: 'etl-r1-t1-old', agentId: 'agent-1', round: 1, index: 1, state: 'TASK_RUNNING' }],
  };
  const paths = model(restored, false).getShortestPaths({ allowDuplicatePaths: true });
  test('has paths to test', () => { assert.ok(paths.length > 3); });
  for (const path of paths) {
    test(`restored: ${describePath(path)}`, async () => {
      const h = sut({ stub: false, restored });
      await path.test({
        states: { '*': (snap) => agree(h, snap as unknown as Snap) },
        events: Object.fromEntries([...MODEL_TYPES].map((type) => [type, (step: { event: AnyEventObject }) => execute(h, step.event, false)])),
      });
      // Re-subscribed with the restored id, never relaunched the round's task, reconciled it.
      h.assertOneFrameworkId();
      assert.equal(h.subscriptions[0]?.input.frameworkId, 'fw-old');
      assert.equal(h.launchedTaskIds().length, 0);
      if (h.notes('subscribed').length > 0 && h.notes('frameworkRemoved').length === 0) {
        assert.deepEqual(h.calls('RECONCILE')[0]?.reconcile?.tasks, [{ task_id: { value: 'etl-r1-t1-old' }, agent_id: { value: 'agent-1' } }]);
      }
    });
  }
});
