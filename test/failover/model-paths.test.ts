/**
 * Model-based failover tests: paths generated with xstate/graph through the
 * test model of test/failover/failover-model.ts (every fault in every state
 * it applies to, the happy path, and a few longer scenarios of repeated
 * failovers) are each replayed against the REAL CLI (`node dist/src/cli/main.js`,
 * its own process, killed and restarted with the same --state-file) and a
 * fresh 3-master, 2-agent emulator with fault injection. Every step waits for
 * what the model says the scheduler does next (log lines of the CLI, calls and
 * tasks the masters saw); after the path the run goes on to the end of its 2
 * rounds and the invariants of invariants.ts are checked.
 *
 * Knobs: heartbeats every 1 s (5 missed = dead stream), allocation 20 ms,
 * tasks simulated by the emulator (2 s each). The CLI has no flags for its
 * backoff or heartbeat policy, so the machines' defaults apply (first
 * reconnect after ≤ 500 ms).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { createTestModel } from 'xstate/graph';
import type { Cluster } from '../../src/emulator/index.js';
import { withCluster } from '../helpers/emulator.js';
import { failoverModel, MODEL_EVENTS, ROUNDS, serializeModelState, type Fault, type ModelEvent } from './failover-model.js';
import { checkInvariants, isTerminal, launches, watchUpdates, type UpdateWatch } from './invariants.js';
import { ensureBuilt, SchedulerProcess, until, type LogLine } from './scheduler-process.js';

before(() => ensureBuilt());

const NAME = 'mbt';
const MAX_TASKS = 2;
const TASK_MS = 2000;
const SUBSCRIBED_RE = /^(?:re-)?subscribed with framework id (\S+)/;
const msg = (l: LogLine): string => String(l.msg ?? '');

interface Run {
  cluster: Cluster;
  watch: UpdateWatch;
  sched: SchedulerProcess;
  faults: readonly Fault[];
  round: number;
  /** Reconciliation checks done after re-subscriptions. */
  reconciled: number;
}

function argsFor(cluster: Cluster, faults: readonly Fault[]): string[] {
  return [
    '--master', cluster.masters.map((m) => m.hostPort).join(','),
    '--name', NAME, '--cmd', 'sleep 2', '--maxtasks', String(MAX_TASKS), '--rounds', String(ROUNDS),
    // A quiet stream for the heartbeat watchdog needs a cooldown longer than 5 heartbeat intervals.
    '--wait', faults.includes('HEARTBEAT_LOSS') ? '9' : '2',
    '--cpu', '0.1', '--mem', '32', '--grace', '5',
    ...(faults.includes('FAILOVER_TIMEOUT') ? ['--failover-timeout', '2'] : []),
  ];
}

async function startRun(t: TestContext, faults: readonly Fault[]): Promise<Run> {
  const cluster = await withCluster(t, { masters: 3, agents: 2, mode: 'simulated', simulatedTaskMs: TASK_MS });
  const watch = watchUpdates(cluster);
  const scratch = mkdtempSync(join(tmpdir(), 'failover-model-'));
  const sched = new SchedulerProcess(argsFor(cluster, faults), join(scratch, 'state.json'), { scratch });
  t.after(async () => {
    watch.stop();
    await sched.kill();
    rmSync(scratch, { recursive: true, force: true });
  });
  return { cluster, watch, sched, faults, round: 1, reconciled: 0 };
}

function ensureStarted(run: Run): void {
  if (run.sched.runs === 0) run.sched.start();
}

/** The (re)subscription after log index `mark`, in this or a later run of the scheduler. */
function resubscribed(run: Run, mark: number, what: string): Promise<LogLine> {
  return run.sched.waitFor((l) => SUBSCRIBED_RE.test(msg(l)), `a (re-)subscription after ${what}`, { from: mark, thisRunOnly: false, timeoutMs: 30_000 });
}

function currentFrameworkId(run: Run): string {
  const ids = run.sched.lines.map(msg).map((m) => SUBSCRIBED_RE.exec(m)?.[1]).filter((x): x is string => x !== undefined);
  const id = ids.at(-1);
  assert.ok(id, 'the scheduler has subscribed');
  return id;
}

function roundTasks(run: Run, round: number) {
  const byId = new Map(run.cluster.tasks().map((t) => [t.taskId, t]));
  return launches(run.cluster).filter((l) => l.round === round).map((l) => ({ ...l, task: byId.get(l.taskId) }));
}

/**
 * After a re-subscription the scheduler reconciles explicitly every task it
 * had in flight: each task non-terminal at the master when the fault hit is
 * named in a RECONCILE call after the fault.
 */
async function assertReconciled(run: Run, inFlight: string[], callMark: number): Promise<void> {
  if (inFlight.length === 0) return;
  await until(() => {
    const named = new Set(run.cluster.received.slice(callMark).filter((r) => r.call.type === 'RECONCILE')
      .flatMap((r) => (r.call.reconcile?.tasks ?? []).map((x) => x.task_id.value)));
    return inFlight.every((id) => named.has(id));
  }, `explicit reconciliation of ${inFlight.join(', ')}`);
  run.reconciled++;
}

function inFlightTasks(run: Run): string[] {
  return run.cluster.tasks().filter((t) => !isTerminal(t.state)).map((t) => t.taskId);
}

/** Injects a fault that costs the scheduler its subscription, then waits until it has re-subscribed and reconciled. */
async function failAndRecover(run: Run, what: string, inject: () => void | Promise<void>, opts: { restart?: boolean } = {}): Promise<void> {
  const mark = run.sched.lines.length;
  const callMark = run.cluster.received.length;
  const inFlight = inFlightTasks(run);
  const frameworkId = currentFrameworkId(run);
  await inject();
  await resubscribed(run, mark, what);
  // Re-SUBSCRIBEd with the same framework id (FrameworkInfo.id and Call.framework_id), to the leading master.
  const subscribes = run.cluster.received.slice(callMark).filter((r) => r.call.type === 'SUBSCRIBE');
  assert.ok(subscribes.length >= 1, 'a new SUBSCRIBE');
  for (const r of subscribes) {
    assert.equal(r.call.subscribe?.framework_info.id?.value, frameworkId, 'FrameworkInfo.id is the framework id');
    assert.equal(r.call.framework_id?.value, frameworkId, 'Call.framework_id is the framework id');
  }
  assert.equal(subscribes.at(-1)!.master, run.cluster.leaderIndex(), 'subscribed at the leading master');
  // A restarted scheduler knows its tasks from the state file; one that kept running knows them anyway.
  await assertReconciled(run, opts.restart === true || inFlight.length > 0 ? inFlight : [], callMark);
}

function nextLeader(cluster: Cluster): number {
  return ((cluster.leaderIndex() ?? 0) + 1) % cluster.masters.length;
}

async function restartScheduler(run: Run): Promise<void> {
  const exit = await run.sched.kill('SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  run.sched.start();
}

function executors(run: Run, state: () => string) {
  const { cluster, sched } = run;
  const subscribingFault = async (fault: Fault): Promise<void> => {
    const mark = sched.lines.length;
    switch (fault) {
      case 'NO_LEADER':
        cluster.faults.electLeader(undefined);
        ensureStarted(run);
        await sched.waitFor((l) => /^no subscription: /.test(msg(l)), 'a 503 while no master leads', { from: mark });
        cluster.faults.electLeader(2);
        break;
      case 'UNAVAILABLE_503': {
        // Every master answers 503 until the scheduler has been refused twice (a 503 period), then recovers.
        cluster.faults.unavailableFor(120_000);
        ensureStarted(run);
        const refused = (l: LogLine): boolean => /^no subscription: /.test(msg(l));
        const first = await sched.waitFor(refused, 'a 503 while masters are unavailable', { from: mark });
        await sched.waitFor(refused, 'a second 503', { from: sched.lines.indexOf(first) + 1 });
        cluster.faults.unavailableFor(0);
        assert.ok(cluster.responses.filter((r) => r.status === 503).length >= 2, 'the masters answered 503');
        break;
      }
      case 'LEADER_CHANGE': {
        // The leader changes right after the first SUBSCRIBE reaches it.
        const changed = new Promise<void>((resolve) => {
          const onCall = (rec: { call: { type: string } }): void => {
            if (rec.call.type !== 'SUBSCRIBE') return;
            cluster.off('call', onCall);
            setImmediate(() => { cluster.faults.electLeader(1); resolve(); });
          };
          cluster.on('call', onCall);
        });
        ensureStarted(run);
        await changed;
        break;
      }
      default: throw new Error(`no ${fault} while subscribing in the model`);
    }
    await resubscribed(run, mark, fault);
  };

  const fault = async (f: Fault): Promise<void> => {
    if (state() === 'subscribing') return subscribingFault(f);
    switch (f) {
      case 'LEADER_CHANGE':
        return failAndRecover(run, f, () => cluster.faults.electLeader(nextLeader(cluster)));
      case 'DROP_CONNECTIONS':
        return failAndRecover(run, f, () => cluster.faults.dropConnections());
      case 'UNAVAILABLE_503': {
        const responseMark = cluster.responses.length;
        await failAndRecover(run, f, () => { cluster.faults.unavailableFor(1500); cluster.faults.dropConnections(); });
        assert.ok(cluster.responses.slice(responseMark).some((r) => r.status === 503), 'the scheduler met a 503 on its way back');
        return;
      }
      case 'HEARTBEAT_LOSS':
        return failAndRecover(run, f, async () => {
          const mark = sched.lines.length;
          cluster.faults.stopHeartbeats();
          const lost = await sched.waitFor((l) => /^no subscription: /.test(msg(l)), 'the heartbeat watchdog', { from: mark });
          assert.match(JSON.stringify(lost), /heartbeat/i, 'the scheduler gave up on the stream for missing heartbeats');
          cluster.faults.resumeHeartbeats();
        });
      case 'RESTART_SCHEDULER': {
        await failAndRecover(run, f, () => restartScheduler(run), { restart: true });
        const thisRun = sched.lines.filter((l) => l.run === sched.runs).map(msg);
        assert.ok(thisRun.some((m) => m.startsWith('carrying on from state file')), `the restarted scheduler read its state file:\n${sched.tail()}`);
        assert.ok(thisRun.some((m) => /^re-subscribed with framework id/.test(m)), 'the restarted scheduler re-subscribed with its stored framework id');
        return;
      }
      case 'FAILOVER_TIMEOUT': {
        const oldId = currentFrameworkId(run);
        await sched.kill('SIGKILL');
        await until(() => cluster.frameworks().find((fw) => fw.id === oldId)?.removed, 'the master to remove the framework after its failover timeout', 15_000);
        const mark = sched.lines.length;
        sched.start();
        const said = await sched.waitFor((l) => msg(l).includes(oldId) && /removed/.test(msg(l)), 'a clear log line about the removed framework', { from: mark });
        assert.equal(said.level, 50, `logged as an error: ${msg(said)}`);
        await resubscribed(run, mark, f);
        assert.notEqual(currentFrameworkId(run), oldId, 'a new framework was started');
        return;
      }
      case 'AGENT_LOST': {
        const victim = roundTasks(run, run.round).find((x) => x.task && !isTerminal(x.task.state));
        assert.ok(victim?.task, 'a task of the round is running');
        const agentId = victim.task.agentId;
        const mark = sched.lines.length;
        cluster.faults.loseAgent(agentId);
        await sched.waitFor((l) => msg(l).startsWith(`task ${victim.taskId} failed: TASK_LOST`), `TASK_LOST of ${victim.taskId}`, { from: mark });
        cluster.faults.restartAgent(agentId);
        return;
      }
      case 'NO_LEADER': throw new Error('NO_LEADER is modelled while subscribing only');
    }
  };

  const progress = {
    SUBSCRIBED: async () => {
      ensureStarted(run);
      await sched.waitFor((l) => SUBSCRIBED_RE.test(msg(l)), 'SUBSCRIBED', { thisRunOnly: false });
    },
    TASKS_RUNNING: async () => {
      await until(() => {
        const tasks = roundTasks(run, run.round);
        return tasks.length === MAX_TASKS && tasks.every((x) => x.task && x.task.state !== 'TASK_STAGING' && x.task.state !== 'TASK_STARTING');
      }, `round ${run.round}'s ${MAX_TASKS} tasks past staging`, 30_000);
    },
    ROUND_DONE: async () => {
      await sched.waitFor((l) => msg(l).startsWith(`round ${run.round} done:`), `round ${run.round} done`, { thisRunOnly: false, timeoutMs: 30_000 });
    },
    NEXT_ROUND: async () => {
      run.round++;
      await until(() => roundTasks(run, run.round).length > 0, `a launch of round ${run.round}`, 30_000);
    },
  };
  return { fault, progress };
}

/** What a state means, checked whenever the path reaches it. */
function stateChecks(run: Run) {
  return {
    launching: async () => {
      await until(() => roundTasks(run, run.round).length > 0, `the ACCEPT of round ${run.round}`, 30_000);
    },
    running: async () => {
      const tasks = roundTasks(run, run.round);
      assert.ok(tasks.length <= MAX_TASKS, `at most ${MAX_TASKS} launches in round ${run.round}`);
    },
    cooldown: async () => {
      // Between rounds the framework holds no offer (it declines and suppresses).
      await until(() => run.cluster.frameworks().every((fw) => fw.outstandingOffers === 0), 'no offer held in the cooldown', 10_000);
    },
  };
}

async function runPath(t: TestContext, path: { steps: Array<{ event: ModelEvent }>; test: (p: never) => Promise<unknown> }): Promise<void> {
  const faults = path.steps.map((s) => s.event.type).filter((e): e is Fault => (MODEL_EVENTS.map((x) => x.type) as string[]).includes(e) && !['SUBSCRIBED', 'TASKS_RUNNING', 'ROUND_DONE', 'NEXT_ROUND'].includes(e));
  const run = await startRun(t, faults);
  let current = 'subscribing';
  const ex = executors(run, () => current);
  const checks = stateChecks(run);
  const events: Record<string, (step: { event: ModelEvent; state: { value: unknown } }) => Promise<void>> = {};
  for (const e of MODEL_EVENTS) {
    // `current` is the model state before the step (step.state is the one after it).
    events[e.type] = async (step) => {
      if (e.type in ex.progress) await ex.progress[e.type as keyof typeof ex.progress]();
      else await ex.fault(e.type as Fault);
      current = String(step.state.value);
    };
  }
  await path.test({ states: checks, events } as never);

  // The path is over: the run goes on to the end of its rounds.
  ensureStarted(run);
  const exit = await Promise.race([
    run.sched.exited(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the scheduler did not finish its rounds:\n${run.sched.tail()}`)), 60_000).unref()),
  ]);
  const tasksFail = faults.includes('AGENT_LOST') || faults.includes('FAILOVER_TIMEOUT');
  if (tasksFail) assert.equal(exit.code, 1, `exit 1: not every task finished\n${run.sched.tail()}`);
  else assert.equal(exit.code, 0, `exit 0\n${run.sched.tail()}`);
  assert.ok(run.cluster.received.some((r) => r.call.type === 'TEARDOWN'), 'torn down at the end');

  const report = checkInvariants(run.cluster, run.watch, {
    name: NAME, maxTasks: MAX_TASKS, completeRounds: ROUNDS,
    expectedFrameworks: faults.includes('FAILOVER_TIMEOUT') ? 2 : 1,
    lines: run.sched.lines,
  });
  assert.deepEqual(report.violations, [], `invariants\n${run.sched.tail(40)}`);
  assert.equal(report.launched, MAX_TASKS * ROUNDS);
  if (!tasksFail) assert.equal(report.finished, MAX_TASKS * ROUNDS);
  assert.ok(report.acknowledged >= MAX_TASKS * ROUNDS, `every task's updates acknowledged (${report.acknowledged})`);
}

const model = createTestModel(failoverModel, { events: MODEL_EVENTS, serializeState: serializeModelState as never });
const generated = model.getShortestPaths();

/** Longer scenarios: repeated failovers of every kind within one round and across the cooldown. */
const SCENARIOS: Record<string, Array<ModelEvent['type']>> = {
  'repeated failovers: leader changes during the launch and the run, a cut connection, a 503 period, a leader change in the cooldown': [
    'SUBSCRIBED', 'LEADER_CHANGE', 'LEADER_CHANGE', 'DROP_CONNECTIONS', 'UNAVAILABLE_503', 'ROUND_DONE', 'LEADER_CHANGE',
    'NEXT_ROUND', 'TASKS_RUNNING', 'ROUND_DONE',
  ],
  'repeated restarts: killed during the launch, while running and in the cooldown': [
    'SUBSCRIBED', 'RESTART_SCHEDULER', 'RESTART_SCHEDULER', 'LEADER_CHANGE', 'ROUND_DONE', 'RESTART_SCHEDULER', 'NEXT_ROUND', 'TASKS_RUNNING', 'ROUND_DONE',
  ],
};

describe('failover model: generated paths against the real CLI and a 3-master emulator', { concurrency: 3 }, () => {
  it('covers every state and every fault of the model', () => {
    const reached = new Set(generated.map((p) => String(p.state.value)));
    for (const s of ['subscribing', 'running', 'cooldown', 'done']) assert.ok(reached.has(s), `state ${s} reached`);
    const faultsHit = new Set(generated.flatMap((p) => p.steps.map((s) => `${String(s.state.value)}:${s.event.type}`)));
    for (const f of ['NO_LEADER', 'UNAVAILABLE_503', 'LEADER_CHANGE', 'DROP_CONNECTIONS', 'HEARTBEAT_LOSS', 'AGENT_LOST', 'RESTART_SCHEDULER', 'FAILOVER_TIMEOUT']) {
      assert.ok([...faultsHit].some((k) => k.endsWith(`:${f}`)), `fault ${f} on some path`);
    }
    // Every (state, fault) transition of the model is the last step of some path.
    const lastSteps = new Set(generated.map((p) => p.state.context.lastFault).filter((x) => x !== null));
    assert.equal(lastSteps.size, 15, [...lastSteps].join(', '));
  });

  for (const path of generated) {
    const steps = path.steps.map((s) => String(s.event.type)).filter((e) => e !== 'xstate.init');
    it(`${String(path.state.value)} via ${steps.join(' → ') || 'start'}`, async (t) => {
      await runPath(t, path as never);
    });
  }

  for (const [name, events] of Object.entries(SCENARIOS)) {
    it(name, async (t) => {
      const [path] = model.getPathsFromEvents(events.map((type) => ({ type })), { serializeState: serializeModelState as never });
      assert.ok(path, 'the model accepts the scenario');
      assert.equal(path.steps.filter((s) => String(s.event.type) !== 'xstate.init').length, events.length, 'every step is a transition of the model');
      assert.equal(String(path.state.value), 'done');
      await runPath(t, path as never);
    });
  }
});
