/**
 * Memory growth over 1,000,000 task lifecycles.
 *
 * Drives the real framework machine (buildFrameworkMachine, with its job and
 * task machines) directly with synthetic events, in-memory effects and a
 * SimulatedClock: through HTTP a million lifecycles would take far longer than
 * the bench budget, and the question is whether the scheduler's own state
 * leaks. Calls are counted, persisted states and notifications dropped.
 * Readings are taken after a full GC (node --expose-gc).
 *
 * Rounds of T tasks with no cooldown; each task is launched, goes RUNNING then
 * FINISHED (each update ACKed); heap sampled as rounds go by; growth = last
 * sample vs the first sample after warm-up.
 */
import { createActor, fromCallback, SimulatedClock, type EventObject } from 'xstate';
import type { FrameworkInput, SubscriptionEvent, SubscriptionInput } from '../../machines/contract.js';
import { buildFrameworkMachine } from '../../machines/index.js';
import type { Call, Offer, TaskState } from '../../src/mesos/types.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';
import { hasGc, memory, nowMs } from '../lib/stats.js';

export const GROWTH_TARGET = { kind: 'max<' as const, value: 5, text: '< 5% growth over 1,000,000 lifecycles' };

export class Driver {
  readonly clock = new SimulatedClock();
  readonly actor;
  private sendBack: ((e: SubscriptionEvent) => void) | undefined;
  private generation = 0;
  private offerSeq = 0;
  private uuidSeq = 0;
  /** Task ids (and agent) of launches not yet picked up by the bench. */
  launched: Array<{ taskId: string; agentId: string }> = [];
  calls = 0;
  acks = 0;

  constructor(maxTasks: number, rounds: number, build: typeof buildFrameworkMachine = buildFrameworkMachine) {
    const subscription = fromCallback<EventObject, SubscriptionInput>(({ input, sendBack }) => {
      this.generation = input.generation;
      this.sendBack = (e) => sendBack(e);
      return () => { this.sendBack = undefined; };
    });
    const machine = build({
      subscription,
      sendCall: ({ call }) => this.onCall(call),
      persist: () => {},
      notify: () => {},
    });
    const input: FrameworkInput = {
      frameworkInfo: { user: 'bench', name: 'mem', failover_timeout: 604800, checkpoint: true, role: '*' },
      job: {
        name: 'mem', cmd: 'true', cpus: 1, memMb: 1, maxTasks, waitSeconds: 0, rounds, role: '*', graceSeconds: 1,
        env: {}, uris: [], containerizer: 'mesos', user: 'bench', runId: 'r1',
      },
      seed: 1,
      // No implicit reconciliation or revive repeats during the run.
      timing: { implicitReconcileMs: 1e12, reviveRepeatMs: 1e12 },
    };
    this.actor = createActor(machine, { input, clock: this.clock });
    this.actor.subscribe({ error: (err) => { throw err; } });
    this.actor.start();
    this.emit({ type: 'conn.subscribed', generation: 0, streamId: 's', master: 'm:5050', frameworkId: 'fw', heartbeatIntervalSeconds: 15 });
  }

  private onCall(call: Call): void {
    this.calls += 1;
    if (call.type === 'ACKNOWLEDGE') this.acks += 1;
    if (call.type !== 'ACCEPT') return;
    for (const op of call.accept?.operations ?? []) {
      for (const t of op.launch?.task_infos ?? []) this.launched.push({ taskId: t.task_id.value, agentId: t.agent_id?.value ?? 'a' });
    }
  }

  emit(event: SubscriptionEvent): void {
    if (!this.sendBack) throw new Error('no subscription');
    this.sendBack({ ...event, generation: this.generation } as SubscriptionEvent);
  }

  /** Offers `count` offers, each with room for `perOffer` tasks. */
  offer(count: number, perOffer: number): void {
    const offers: Offer[] = [];
    for (let i = 0; i < count; i++) {
      this.offerSeq += 1;
      offers.push({
        id: { value: `o-${this.offerSeq}` }, framework_id: { value: 'fw' }, agent_id: { value: `a-${i}` }, hostname: `a-${i}`,
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: perOffer }, role: '*' },
          { name: 'mem', type: 'SCALAR', scalar: { value: perOffer }, role: '*' },
        ],
      });
    }
    this.emit({ type: 'mesos.offers', generation: 0, offers, receivedAt: 0 });
  }

  update(taskId: string, agentId: string, state: TaskState): void {
    this.uuidSeq += 1;
    this.emit({
      type: 'mesos.update', generation: 0,
      status: { task_id: { value: taskId }, agent_id: { value: agentId }, state, source: 'SOURCE_EXECUTOR', uuid: Buffer.from(`u${this.uuidSeq}`).toString('base64') },
    });
  }

  advance(ms: number): void {
    this.clock.increment(ms);
  }

  stop(): void {
    this.actor.stop();
  }
}

async function lifecycles(total: number, perRound: number, budgetMs: number, series: PlotSeries[], log: (l: string) => void): Promise<Figure[]> {
  const rounds = Math.ceil(total / perRound);
  const d = new Driver(perRound, 0);
  const samples: Array<{ lifecycles: number; heap: number; rss: number }> = [];
  const start = nowMs();
  let done = 0;
  let stoppedEarly = false;
  // About 20 samples: every 1/20 of the rounds, or of the time budget, whichever comes first.
  const sampleEveryMs = budgetMs / 20;
  const sampleEveryRounds = Math.max(1, Math.floor(rounds / 20));
  let lastSample = start;
  for (let r = 0; r < rounds; r++) {
    if (nowMs() - start > budgetMs) { stoppedEarly = true; break; }
    // Round start: REVIVE went out; offer room for the whole round in one event.
    d.offer(Math.ceil(perRound / 10), 10);
    const tasks = d.launched;
    d.launched = [];
    for (const t of tasks) d.update(t.taskId, t.agentId, 'TASK_RUNNING');
    for (const t of tasks) d.update(t.taskId, t.agentId, 'TASK_FINISHED');
    done += tasks.length;
    // Cooldown of 0 s: let the clock run so the next round starts.
    d.advance(1);
    if (tasks.length !== perRound) throw new Error(`round ${r}: launched ${tasks.length} of ${perRound}`);
    if (r === rounds - 1 || r % sampleEveryRounds === 0 || nowMs() - lastSample > sampleEveryMs) {
      lastSample = nowMs();
      const m = memory();
      samples.push({ lifecycles: done, heap: m.heapUsed, rss: m.rss });
      if (samples.length % 5 === 0) log(`memory: ${done} lifecycles, heap ${(m.heapUsed / 1048576).toFixed(1)} MiB`);
    }
  }
  const ms = nowMs() - start;
  d.stop();
  // Growth from the first sample after warm-up (10% of the run) to the last.
  const warm = samples.find((s) => s.lifecycles >= done * 0.1) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const heapGrowth = ((last.heap - warm.heap) / warm.heap) * 100;
  const rssGrowth = ((last.rss - warm.rss) / warm.rss) * 100;
  series.push(
    { chart: 'lifecycles', name: `heap used (MiB)`, points: samples.map((s) => [s.lifecycles, s.heap / 1048576]) },
    { chart: 'lifecycles', name: `RSS (MiB)`, points: samples.map((s) => [s.lifecycles, s.rss / 1048576]) },
  );
  const short = stoppedEarly ? ` (target ${total} not reached within the ${Math.round(budgetMs / 1000)} s budget at ${((done * 1000) / ms).toFixed(0)} lifecycles/s)` : '';
  const notes = `${done} lifecycles (launch, RUNNING, FINISHED, 2 ACKs each) in ${Math.ceil(done / perRound)} rounds of ${perRound} tasks, machines driven directly; growth from ${warm.lifecycles} lifecycles (after warm-up) to ${last.lifecycles}${short}`;
  return [
    figure({
      id: 'memory.heap_growth', name: `Heap growth over ${done} task lifecycles`, value: heapGrowth, unit: '%', target: GROWTH_TARGET, notes,
      detail: { fromMiB: warm.heap / 1048576, toMiB: last.heap / 1048576, lifecyclesPerSecond: (done * 1000) / ms, acks: d.acks },
    }),
    figure({
      id: 'memory.rss_growth', name: `RSS growth over ${done} task lifecycles`, value: rssGrowth, unit: '%', target: GROWTH_TARGET, notes,
      detail: { fromMiB: warm.rss / 1048576, toMiB: last.rss / 1048576 },
    }),
  ];
}

export async function runMemory(opts: BenchOptions): Promise<FigureOutput> {
  if (!hasGc()) {
    return { figures: [notMeasured('memory.heap_growth', 'Heap growth over task lifecycles', '%', 'run node with --expose-gc', GROWTH_TARGET)] };
  }
  const series: PlotSeries[] = [];
  const total = envInt('BENCH_LIFECYCLES', opts.quick ? 20_000 : 1_000_000);
  const perRound = envInt('BENCH_ROUND_TASKS', 100);
  opts.log(`memory: ${total} lifecycles in rounds of ${perRound}`);
  const budget = envInt('BENCH_LIFECYCLE_BUDGET_S', opts.quick ? 15 : 300) * 1000;
  const figures = await lifecycles(total, perRound, budget, series, opts.log);
  return {
    figures, series,
    method: [
      'Memory over lifecycles: the framework machine (with its job and task machines) driven directly with synthetic SUBSCRIBED/OFFERS/UPDATE events, in-memory effects and a SimulatedClock (through HTTP a million lifecycles would not fit the time budget). Heap and RSS after a full GC (--expose-gc).',
    ],
  };
}
