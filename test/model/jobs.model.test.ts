/**
 * Model-based tests of the supervisor (`--jobs`) with its job and clock
 * machines, with xstate/graph. Each model is a small xstate machine written
 * here: its context is what the jobs should have done so far (rounds started
 * and ended, tasks launched, retries, skipped starts); its events are what
 * the world does (the schedule's next start, an offer, a task's end, a kill).
 * The shortest path to every state of each model (xstate/graph; about 5,000
 * paths in all, most of them the dependency model's) and scripted scenarios
 * folded through the model are replayed in lockstep. Each path is replayed on
 * the real framework machine running the supervisor (fake
 * effects, xstate's SimulatedClock: time moves only when a step says so), and
 * at every step the system must agree with the model and keep the
 * invariants: no task id launched twice, every update with a uuid ACKed, no
 * round of a child without a successful round of each parent since its last.
 *
 * 1. Schedules: `every: 2s`, forbid and allow.
 * 2. Retries: `max: 2`; failures, backoffs, our kills.
 * 3. Dependencies: A and B (every 2s) → C (Chronos's rule).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup, type AnyEventObject } from 'xstate';
import { TestModel } from 'xstate/graph';
import type { JobRun } from '../../machines/contract.js';
import type { TaskState } from '../../src/mesos/types.js';
import { createHarness, jobRun, type Harness } from '../machines/harness.js';

/** A model: its initial context, and a step that gives the next context, or undefined when the event cannot happen. */
interface Model<C> {
  initial: C;
  events: AnyEventObject[];
  step: (context: C, event: AnyEventObject) => C | undefined;
  stop: (context: C) => boolean;
}

function modelMachine<C extends object>(m: Model<C>) {
  return setup({ types: { context: {} as C, events: {} as AnyEventObject } }).createMachine({
    id: 'model',
    context: structuredClone(m.initial),
    on: { '*': { actions: assign(({ context, event }) => m.step(context, event) ?? context) } },
  });
}

type ModelSnap<C> = { context: C };

function testModel<C extends object>(m: Model<C>) {
  return new TestModel(modelMachine(m) as never, {
    events: (snap: unknown) => {
      const { context } = snap as ModelSnap<C>;
      return (m.stop(context) ? [] : m.events.filter((e) => m.step(context, e) !== undefined)) as never;
    },
    serializeState: (snap: unknown) => JSON.stringify((snap as ModelSnap<C>).context),
    serializeEvent: (event: AnyEventObject) => JSON.stringify(event),
  } as never);
}

/** The system under test: the harness, with every update it sends counted (each carries a uuid). */
interface System {
  h: Harness;
  updates: number;
}

function startSystem(jobs: JobRun[]): System {
  const h = createHarness({
    now: 0, jobs,
    timing: { missedHeartbeats: 100_000, killWaitMs: 1e9, implicitReconcileMs: 1e9, reviveRepeatMs: 1e9 },
  }).start();
  h.subscribed();
  h.advance(0);
  return { h, updates: 0 };
}

function send(s: System, taskId: string, state: TaskState): void {
  s.updates += 1;
  s.h.update(s.h.status(taskId, state));
}

function launchedOf(h: Harness, job: string): string[] {
  return h.launchedTaskIds().filter((id) => id.startsWith(`${job}-r`));
}

function started(h: Harness, job: string): number[] {
  return h.notes('roundStarted').filter((n) => n.job === job).map((n) => n.round);
}

type Ended = [round: number, finished: number, failed: number, killed: boolean];
function ended(h: Harness, job: string): Ended[] {
  return h.notes('roundFinished').filter((n) => n.job === job).map((n) => [n.round, n.finished, n.failed, n.killed === true]);
}

function invariants(s: System, children: Record<string, string[]> = {}): void {
  const { h } = s;
  assert.deepEqual(h.errors, []);
  const ids = h.launchedTaskIds();
  assert.equal(new Set(ids).size, ids.length, `no task id launched twice: ${ids.join(', ')}`);
  assert.equal(h.calls('ACKNOWLEDGE').length, s.updates, 'every update with a uuid ACKed once');
  // Chronos's rule: a child's round starts only after a successful round of each parent since its last start.
  for (const [child, parents] of Object.entries(children)) {
    const fresh = new Set<string>();
    for (const entry of h.log) {
      if (entry.kind !== 'notify') continue;
      const note = entry.note;
      if (note.type === 'roundFinished' && note.job !== undefined && parents.includes(note.job) && note.failed === 0 && note.killed !== true) fresh.add(note.job);
      if (note.type === 'roundStarted' && note.job === child) {
        for (const p of parents) assert.ok(fresh.has(p), `${child} round ${note.round} started without a new success of ${p}`);
        fresh.clear();
      }
    }
  }
}

function label(e: AnyEventObject): string {
  return e.type === 'xstate.init' ? 'start' : e.type;
}

// ---------------------------------------------------------------------------
// 1. Schedules: every 2 s, one task a round; forbid skips a start while a round runs, allow overlaps.

const EVERY_MS = 2000;

interface ScheduleCtx {
  /** Grid starts passed (the first, at once, is 0). */
  ticks: number;
  /** Rounds in flight, oldest first, and whether their task is launched. */
  inFlight: { round: number; launched: boolean }[];
  started: number[];
  ended: Ended[];
  skippedAt: number[];
}

function scheduleModel(concurrency: 'forbid' | 'allow'): Model<ScheduleCtx> {
  return {
    initial: { ticks: 0, inFlight: [{ round: 1, launched: false }], started: [1], ended: [], skippedAt: [] },
    events: [{ type: 'tick' }, { type: 'offer' }, { type: 'finish' }, { type: 'fail' }],
    stop: (c) => c.ticks >= 3 || c.started.length >= 3,
    step: (c, e) => {
      switch (e.type) {
        case 'tick': {
          const ticks = c.ticks + 1;
          if (c.inFlight.length > 0 && concurrency === 'forbid') return { ...c, ticks, skippedAt: [...c.skippedAt, ticks * EVERY_MS] };
          const round = c.started.length + 1;
          return { ...c, ticks, inFlight: [...c.inFlight, { round, launched: false }], started: [...c.started, round] };
        }
        case 'offer':
          if (!c.inFlight.some((r) => !r.launched)) return undefined;
          return { ...c, inFlight: c.inFlight.map((r) => ({ ...r, launched: true })) };
        case 'finish':
        case 'fail': {
          const r = c.inFlight.find((x) => x.launched);
          if (r === undefined) return undefined;
          const ok = e.type === 'finish';
          return { ...c, inFlight: c.inFlight.filter((x) => x !== r), ended: [...c.ended, [r.round, ok ? 1 : 0, ok ? 0 : 1, false]] };
        }
        default: return undefined;
      }
    },
  };
}

function scheduleExec(s: System, e: AnyEventObject, model: ScheduleCtx): void {
  const { h } = s;
  switch (e.type) {
    case 'tick': h.advance(EVERY_MS); return;
    case 'offer': h.offers(h.offer('agent-1', 4, 4096)); return;
    case 'finish':
    case 'fail': {
      // The model's oldest launched round (before the step): its one task.
      const r = model.inFlight.find((x) => x.launched)!;
      const id = `tick-r${r.round}-t1-abc`;
      send(s, id, 'TASK_RUNNING');
      send(s, id, e.type === 'finish' ? 'TASK_FINISHED' : 'TASK_FAILED');
    }
  }
}

function scheduleAgree(s: System, c: ScheduleCtx): void {
  const { h } = s;
  assert.deepEqual(started(h, 'tick'), c.started, 'rounds started');
  assert.deepEqual(ended(h, 'tick'), c.ended, 'rounds ended');
  assert.deepEqual(h.notes('startSkipped').map((n) => n.at), c.skippedAt, 'starts skipped');
  const launched = [...c.ended.map(([round]) => round), ...c.inFlight.filter((r) => r.launched).map((r) => r.round)].sort((a, b) => a - b);
  assert.deepEqual(launchedOf(h, 'tick').sort(), launched.map((r) => `tick-r${r}-t1-abc`).sort(), 'tasks launched');
  const overlapping = h.notes('roundStarted').filter((n) => n.job === 'tick' && (n.overlaps?.length ?? 0) > 0).length;
  if (h.notes('roundStarted').length > 0 && c.skippedAt.length > 0) assert.equal(overlapping, 0, 'forbid never overlaps');
  invariants(s);
}

// ---------------------------------------------------------------------------
// 2. Retries: one task a round, `max: 2` retries, backoff 10 s doubling to 15 s.

const MAX_RETRIES = 2;

interface RetryCtx {
  phase: 'pending' | 'running' | 'backoff' | 'killing' | 'ended';
  /** Tasks launched in the round (the chain's relaunches have new ids: t1, t2, ...). */
  launched: number;
  failures: number;
  ended: Ended[];
}

const retryModel: Model<RetryCtx> = {
  initial: { phase: 'pending', launched: 0, failures: 0, ended: [] },
  events: [{ type: 'offer' }, { type: 'finish' }, { type: 'fail' }, { type: 'lost' }, { type: 'backoff' }, { type: 'kill' }, { type: 'killed' }],
  stop: (c) => c.phase === 'ended',
  step: (c, e) => {
    switch (e.type) {
      case 'offer': return c.phase === 'pending' ? { ...c, phase: 'running', launched: c.launched + 1 } : undefined;
      case 'finish': return c.phase === 'running' ? { ...c, phase: 'ended', ended: [[1, 1, 0, false]] } : undefined;
      case 'fail':
      case 'lost': {
        if (c.phase !== 'running') return undefined;
        const failures = c.failures + 1;
        if (failures <= MAX_RETRIES) return { ...c, phase: 'backoff', failures };
        return { ...c, phase: 'ended', failures, ended: [[1, 0, 1, false]] };
      }
      case 'backoff': return c.phase === 'backoff' ? { ...c, phase: 'pending' } : undefined;
      // Our kill: a running task is killed (and never retried); a round with none running ends killed at once.
      case 'kill':
        if (c.phase === 'running') return { ...c, phase: 'killing' };
        // During a backoff, or with its relaunch waiting for an offer, the failed task (whose relaunch is dropped) counts as failed.
        if (c.phase === 'pending' || c.phase === 'backoff') return { ...c, phase: 'ended', ended: [[1, 0, c.failures > 0 ? 1 : 0, true]] };
        return undefined;
      case 'killed': return c.phase === 'killing' ? { ...c, phase: 'ended', ended: [[1, 0, 1, true]] } : undefined;
      default: return undefined;
    }
  },
};

function retryJob(): JobRun {
  return jobRun({ name: 'r', maxTasks: 1, rounds: 0, waitSeconds: 1_000_000, retries: { max: MAX_RETRIES, backoffMs: 10_000, backoffMaxMs: 15_000 } });
}

function retryExec(s: System, e: AnyEventObject, model: RetryCtx): void {
  const { h } = s;
  const current = `r-r1-t${model.launched}-abc`;
  switch (e.type) {
    case 'offer': h.offers(h.offer()); return;
    case 'finish': send(s, current, 'TASK_RUNNING'); send(s, current, 'TASK_FINISHED'); return;
    case 'fail': send(s, current, 'TASK_RUNNING'); send(s, current, 'TASK_FAILED'); return;
    // The master lost a task it had seen: a failure like any other.
    case 'lost': send(s, current, 'TASK_LOST'); return;
    case 'backoff': {
      const retry = h.notes('taskRetry').at(-1)!;
      // Nothing is relaunched a moment before the backoff ends.
      h.advance(retry.delayMs - 1);
      h.offers(h.offer());
      assert.equal(launchedOf(h, 'r').length, model.launched, 'no relaunch before the backoff');
      h.advance(1);
      return;
    }
    case 'kill': h.send({ type: 'job.kill', job: 'r' }); return;
    case 'killed': send(s, current, 'TASK_KILLED');
  }
}

function retryAgree(s: System, c: RetryCtx): void {
  const { h } = s;
  assert.deepEqual(started(h, 'r'), [1]);
  assert.deepEqual(launchedOf(h, 'r'), Array.from({ length: c.launched }, (_, i) => `r-r1-t${i + 1}-abc`), 'each relaunch under a new id');
  const retried = Math.min(c.failures, MAX_RETRIES);
  assert.deepEqual(h.notes('taskRetry').map((n) => [n.taskId, n.retry, n.max]),
    Array.from({ length: retried }, (_, i) => [`r-r1-t${i + 1}-abc`, i + 1, MAX_RETRIES]), 'retried while retries are left, never a task we killed');
  // The backoff doubles from 10 s, capped at 15 s, less up to 20 % jitter.
  h.notes('taskRetry').forEach((n, i) => {
    const base = Math.min(10_000 * 2 ** i, 15_000);
    assert.ok(n.delayMs >= base * 0.8 && n.delayMs <= base, `backoff ${n.delayMs} ms for retry ${i + 1}`);
  });
  assert.deepEqual(ended(h, 'r'), c.ended, 'the round\'s outcome');
  const killCalls = h.calls('KILL').map((call) => call.kill?.task_id.value);
  assert.deepEqual(killCalls, c.phase === 'killing' || (c.ended[0]?.[3] === true && c.launched > c.failures) ? [`r-r1-t${c.launched}-abc`] : [], 'killed only when we kill');
  if (c.phase === 'ended') {
    // Nothing of an ended round is relaunched, whatever comes later.
    h.advance(60_000);
    h.offers(h.offer());
    assert.equal(launchedOf(h, 'r').length, c.launched, 'nothing launched after the round ended');
  }
  invariants(s);
}

// ---------------------------------------------------------------------------
// 3. Dependencies: A and B every 2 s (forbid), C after [A, B]; one task a round each.

type Phase = 'idle' | 'pending' | 'running';
interface JobM { phase: Phase; round: number; successes: number; ended: Ended[] }
interface DepCtx {
  ticks: number;
  a: JobM; b: JobM; c: JobM;
  /** The parents' successes C's last round consumed. */
  consumed: { a: number; b: number };
}

const fresh = (phase: Phase): JobM => ({ phase, round: phase === 'idle' ? 0 : 1, successes: 0, ended: [] });

/** Chronos's rule: C starts when idle and each parent has a success since C's last start. */
function maybeStartChild(c: DepCtx): DepCtx {
  if (c.c.phase !== 'idle' || c.a.successes <= c.consumed.a || c.b.successes <= c.consumed.b) return c;
  return { ...c, c: { ...c.c, phase: 'pending', round: c.c.round + 1 }, consumed: { a: c.a.successes, b: c.b.successes } };
}

type JobKey = 'a' | 'b' | 'c';
const depModel: Model<DepCtx> = {
  initial: { ticks: 0, a: fresh('pending'), b: fresh('pending'), c: fresh('idle'), consumed: { a: 0, b: 0 } },
  events: [
    { type: 'tick' }, { type: 'offer' },
    ...(['a', 'b'] as const).flatMap((job) => [{ type: 'finish', job }, { type: 'fail', job }, { type: 'kill', job }]),
    { type: 'finish', job: 'c' },
  ],
  stop: (c) => c.c.ended.length >= 2 || c.a.ended.length + c.b.ended.length >= 4,
  step: (c, e) => {
    switch (e.type) {
      case 'tick': {
        if (c.ticks >= 2) return undefined;
        const next = { ...c, ticks: c.ticks + 1 };
        for (const k of ['a', 'b'] as const) if (c[k].phase === 'idle') next[k] = { ...c[k], phase: 'pending', round: c[k].round + 1 };
        return next;
      }
      case 'offer': {
        if (!(['a', 'b', 'c'] as const).some((k) => c[k].phase === 'pending')) return undefined;
        const next = { ...c };
        for (const k of ['a', 'b', 'c'] as const) if (c[k].phase === 'pending') next[k] = { ...c[k], phase: 'running' };
        return next;
      }
      case 'finish':
      case 'fail': {
        const k = e['job'] as JobKey;
        const j = c[k];
        if (j.phase !== 'running') return undefined;
        const ok = e.type === 'finish';
        const job: JobM = { phase: 'idle', round: j.round, successes: j.successes + (ok ? 1 : 0), ended: [...j.ended, [j.round, ok ? 1 : 0, ok ? 0 : 1, false]] };
        return maybeStartChild({ ...c, [k]: job });
      }
      // Our kill (POST kill): a running task is killed and its end heard of at once; a pending round ends killed.
      case 'kill': {
        const k = e['job'] as JobKey;
        const j = c[k];
        if (j.phase === 'idle') return undefined;
        const job: JobM = { ...j, phase: 'idle', ended: [...j.ended, [j.round, 0, j.phase === 'running' ? 1 : 0, true]] };
        return maybeStartChild({ ...c, [k]: job });
      }
      default: return undefined;
    }
  },
};

const NAMES: Record<JobKey, string> = { a: 'A', b: 'B', c: 'C' };

function depJobs(): JobRun[] {
  const every = { kind: 'every' as const, everyMs: EVERY_MS, concurrency: 'forbid' as const };
  return [
    jobRun({ name: 'A', maxTasks: 1, rounds: 0, schedule: every }),
    jobRun({ name: 'B', maxTasks: 1, rounds: 0, schedule: every }),
    jobRun({ name: 'C', maxTasks: 1, rounds: 0, after: ['A', 'B'] }),
  ];
}

function depExec(s: System, e: AnyEventObject, model: DepCtx): void {
  const { h } = s;
  const k = e['job'] as JobKey | undefined;
  const id = k === undefined ? '' : `${NAMES[k]}-r${model[k].round}-t1-abc`;
  switch (e.type) {
    case 'tick': h.advance(EVERY_MS); return;
    case 'offer': h.offers(h.offer('agent-1', 4, 4096)); return;
    case 'finish': send(s, id, 'TASK_RUNNING'); send(s, id, 'TASK_FINISHED'); return;
    case 'fail': send(s, id, 'TASK_RUNNING'); send(s, id, 'TASK_FAILED'); return;
    case 'kill':
      h.send({ type: 'job.kill', job: NAMES[k!] });
      if (model[k!].phase === 'running') {
        assert.ok(h.calls('KILL').some((c) => c.kill?.task_id.value === id), `${id} killed`);
        send(s, id, 'TASK_KILLED');
      }
  }
}

function depAgree(s: System, c: DepCtx): void {
  const { h } = s;
  for (const k of ['a', 'b', 'c'] as const) {
    const name = NAMES[k];
    assert.deepEqual(started(h, name), Array.from({ length: c[k].round }, (_, i) => i + 1), `${name}: rounds started`);
    assert.deepEqual(ended(h, name), c[k].ended, `${name}: rounds ended`);
    const launched = c[k].round - (c[k].phase === 'pending' ? 1 : 0);
    const launchedIds = launchedOf(h, name);
    // A round killed before its launch has no task.
    const unlaunchedKills = c[k].ended.filter(([, fin, failed, killed]) => killed && fin === 0 && failed === 0).map(([r]) => r);
    const expected = Array.from({ length: launched }, (_, i) => i + 1).filter((r) => !unlaunchedKills.includes(r)).map((r) => `${name}-r${r}-t1-abc`);
    assert.deepEqual(launchedIds, expected, `${name}: tasks launched`);
  }
  invariants(s, { C: ['A', 'B'] });
}

// ---------------------------------------------------------------------------

interface Suite<C> {
  name: string;
  model: Model<C>;
  jobs: () => JobRun[];
  exec: (s: System, e: AnyEventObject, model: C) => void;
  agree: (s: System, c: C) => void;
  minPaths: number;
  scenarios: Record<string, AnyEventObject[]>;
}

function runSuite<C extends object>(suite: Suite<C>): void {
  const m = testModel(suite.model);
  const replay = async (path: { test: (p: never) => Promise<unknown> }) => {
    const s = startSystem(suite.jobs());
    let before: C = structuredClone(suite.model.initial);
    const handlers = Object.fromEntries(suite.model.events.map((e) => [e.type, (step: { event: AnyEventObject }) => suite.exec(s, step.event, before)]));
    await path.test({
      states: { '*': (snap: ModelSnap<C>) => { before = snap.context; suite.agree(s, snap.context); } },
      events: handlers,
    } as never);
  };
  describe(suite.name, () => {
    const paths = m.getShortestPaths({ allowDuplicatePaths: true });
    test(`the shortest path to each of the model's ${paths.length} states, replayed in lockstep`, async () => {
      assert.ok(paths.length >= suite.minPaths, `${paths.length} paths`);
      for (const path of paths) {
        try {
          await replay(path as never);
        } catch (err) {
          const steps = path.steps.map((st) => { const e = st.event as AnyEventObject; return label(e) + (e['job'] !== undefined ? `(${String(e['job'])})` : ''); });
          throw new Error(`path ${steps.join(' → ')}: ${(err as Error).message}`, { cause: err });
        }
      }
    });
    for (const [name, events] of Object.entries(suite.scenarios)) {
      test(`scenario: ${name}`, () => {
        // The scenario is folded through the model's step (each event must be one the model can take) and replayed in lockstep.
        const s = startSystem(suite.jobs());
        let c: C = structuredClone(suite.model.initial);
        suite.agree(s, c);
        for (const e of events) {
          const next = suite.model.step(c, e);
          assert.ok(next !== undefined, `the model cannot take ${JSON.stringify(e)} here`);
          suite.exec(s, e, c);
          c = next;
          suite.agree(s, c);
        }
      });
    }
  });
}

const ev = (type: string, job?: string): AnyEventObject => (job === undefined ? { type } : { type, job });

runSuite<ScheduleCtx>({
  name: 'schedule every 2s, forbid', model: scheduleModel('forbid'), minPaths: 10,
  jobs: () => [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: { kind: 'every', everyMs: EVERY_MS, concurrency: 'forbid' } })],
  exec: scheduleExec, agree: scheduleAgree,
  scenarios: {
    'two starts skipped during a long round, the next one on the grid runs': [ev('offer'), ev('tick'), ev('tick'), ev('finish'), ev('tick'), ev('offer'), ev('fail')],
  },
});

runSuite<ScheduleCtx>({
  name: 'schedule every 2s, allow', model: scheduleModel('allow'), minPaths: 10,
  jobs: () => [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: { kind: 'every', everyMs: EVERY_MS, concurrency: 'allow' } })],
  exec: scheduleExec, agree: scheduleAgree,
  scenarios: {
    'three rounds overlap, end out of order': [ev('offer'), ev('tick'), ev('tick'), ev('offer'), ev('fail'), ev('finish'), ev('finish')],
  },
});

runSuite<RetryCtx>({
  name: 'retries (max 2)', model: retryModel, minPaths: 8, jobs: () => [retryJob()],
  exec: retryExec, agree: retryAgree,
  scenarios: {
    'fails twice, succeeds on the third try': [ev('offer'), ev('fail'), ev('backoff'), ev('offer'), ev('lost'), ev('backoff'), ev('offer'), ev('finish')],
    'spends its retries: the round fails': [ev('offer'), ev('fail'), ev('backoff'), ev('offer'), ev('fail'), ev('backoff'), ev('offer'), ev('fail')],
    'killed by us after a retry: never retried': [ev('offer'), ev('fail'), ev('backoff'), ev('offer'), ev('kill'), ev('killed')],
    'killed by us during the backoff: the relaunch is dropped': [ev('offer'), ev('fail'), ev('kill')],
  },
});

runSuite<DepCtx>({
  name: 'dependencies A, B → C', model: depModel, minPaths: 30, jobs: depJobs,
  exec: depExec, agree: depAgree,
  scenarios: {
    'C runs once per pair of successful parent rounds': [
      ev('offer'), ev('finish', 'a'), ev('finish', 'b'), ev('offer'), ev('tick'), ev('offer'), ev('finish', 'a'), ev('finish', 'b'), ev('finish', 'c'), ev('offer'), ev('finish', 'c'),
    ],
    'a failed parent round does not count; the next success does': [
      ev('offer'), ev('fail', 'a'), ev('finish', 'b'), ev('tick'), ev('offer'), ev('finish', 'a'), ev('offer'), ev('finish', 'c'),
    ],
    'a killed parent round does not count': [
      ev('offer'), ev('kill', 'a'), ev('finish', 'b'), ev('tick'), ev('kill', 'a'), ev('tick'), ev('offer'), ev('finish', 'a'), ev('offer'), ev('finish', 'c'),
    ],
  },
});
