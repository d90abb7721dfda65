/**
 * Memory while tracking many tasks, and its growth over many task lifecycles.
 *
 * Drives the real framework machine (buildFrameworkMachine, with its job and
 * task machines) directly with synthetic events, in-memory effects and a
 * SimulatedClock: going through HTTP for a million lifecycles would take far
 * longer than the bench budget, and the question is what the scheduler's own
 * state costs. Calls are counted, persisted states and notifications dropped.
 * Readings are taken after a full GC (node --expose-gc).
 *
 * - tracking: one round of 100,000 tasks launched from offers in steps, each
 *   task RUNNING (a sample only, see below), heap and RSS per tracked task.
 * - lifecycles: rounds of T tasks with no cooldown; each task is launched,
 *   goes RUNNING then FINISHED (each update ACKed); heap sampled as rounds
 *   go by; growth = last sample vs the first sample after warm-up.
 */
import { createActor, fromCallback, SimulatedClock, type EventObject } from 'xstate';
import type { FrameworkInput, SubscriptionEvent, SubscriptionInput } from '../../machines/contract.js';
import { buildFrameworkMachine } from '../../machines/index.js';
import type { Call, Offer, TaskState } from '../../src/mesos/types.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';
import { hasGc, memory, nowMs } from '../lib/stats.js';
import { buildWithNonFinalTasks, taskEndStatesAreFinal } from '../experiments/task-not-final.js';

export const MEMORY_TARGET = { kind: 'max<' as const, value: 2048, text: '< 2 KiB per tracked task' };
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

async function tracking(total: number, budgetMs: number, series: PlotSeries[], log: (l: string) => void): Promise<Figure[]> {
  const base = memory();
  const d = new Driver(total, 1);
  const afterStart = memory();
  const step = Math.min(1000, total);
  const perOffer = 100;
  const heapPts: Array<[number, number]> = [[0, 0]];
  const rssPts: Array<[number, number]> = [[0, 0]];
  const launchMs: Array<[number, number]> = [];
  const start = nowMs();
  let stoppedEarly = false;
  while (d.launched.length < total) {
    // Stop when the next event would overrun the budget (each one is slower than the last).
    const lastMs = launchMs[launchMs.length - 1]?.[1] ?? 0;
    if (nowMs() - start + lastMs * 1.5 > budgetMs) { stoppedEarly = true; break; }
    const want = Math.min(step, total - d.launched.length);
    const t = nowMs();
    d.offer(Math.ceil(want / perOffer), perOffer);
    launchMs.push([d.launched.length, nowMs() - t]);
    if (launchMs.length % 5 === 0 || d.launched.length >= total) {
      const m = memory();
      heapPts.push([d.launched.length, (m.heapUsed - afterStart.heapUsed) / 1048576]);
      rssPts.push([d.launched.length, (m.rss - afterStart.rss) / 1048576]);
      log(`memory: ${d.launched.length} tasks tracked, last OFFERS event ${launchMs[launchMs.length - 1]![1].toFixed(0)} ms`);
    }
  }
  const tracked = d.launched.length;
  // What one status update costs with this many tasks tracked (a sample of RUNNING updates).
  const sample = d.launched.slice(0, 10);
  const t = nowMs();
  for (const task of sample) d.update(task.taskId, task.agentId, 'TASK_RUNNING');
  const updateMs = (nowMs() - t) / sample.length;
  // And what a task's end costs (it is counted, persisted, and its actor stopped).
  const t2 = nowMs();
  for (const task of sample) d.update(task.taskId, task.agentId, 'TASK_FINISHED');
  const endMs = (nowMs() - t2) / sample.length;
  const m = memory();
  const heapPerTask = (m.heapUsed - afterStart.heapUsed) / tracked;
  const rssPerTask = (m.rss - afterStart.rss) / tracked;
  if (heapPts[heapPts.length - 1]?.[0] !== tracked) {
    heapPts.push([tracked, (m.heapUsed - afterStart.heapUsed) / 1048576]);
    rssPts.push([tracked, (m.rss - afterStart.rss) / 1048576]);
  }
  series.push({ chart: 'memory', name: 'heap used (MiB)', points: heapPts }, { chart: 'memory', name: 'RSS (MiB)', points: rssPts });
  const reached = stoppedEarly ? ` (target ${total} not reached within the ${Math.round(budgetMs / 1000)} s budget: launching gets slower as tasks are tracked, see launchEventMs)` : '';
  const common = `${tracked} tasks launched from offers, ${step} per OFFERS event, into one round (machines driven directly, in-memory effects); baseline after the actor started and subscribed${reached}`;
  series.push({ chart: 'launch', name: `ms per OFFERS event launching ${step} tasks`, points: launchMs });
  return [
    figure({
      id: 'memory.heap_per_task', name: `Heap per tracked task (${tracked} tasks)`, value: heapPerTask, unit: 'bytes/task', target: MEMORY_TARGET,
      notes: common,
      detail: { heapUsedMiB: m.heapUsed / 1048576, baselineHeapMiB: afterStart.heapUsed / 1048576, processBaselineHeapMiB: base.heapUsed / 1048576, launchEventMs: launchMs.filter((_, i) => i % 5 === 0 || i === launchMs.length - 1), target: total },
    }),
    figure({
      id: 'memory.rss_per_task', name: `RSS per tracked task (${tracked} tasks)`, value: rssPerTask, unit: 'bytes/task', target: MEMORY_TARGET,
      notes: common, detail: { rssMiB: m.rss / 1048576, baselineRssMiB: afterStart.rss / 1048576 },
    }),
    figure({
      id: 'memory.update_ms_at_100k', name: `Time to handle one status update with ${tracked} tasks tracked`, value: updateMs, unit: 'ms',
      notes: 'machines only (no I/O); mean of 10 TASK_RUNNING updates. Does not grow with the tasks tracked: the job keeps them in a persistent map (O(log n) per update) and builds the persisted state only when it is written',
    }),
    figure({
      id: 'memory.end_ms_at_100k', name: `Time to handle a task's end with ${tracked} tasks tracked`, value: endMs, unit: 'ms',
      notes: `machines only (no I/O); mean of 10 TASK_FINISHED updates of the tasks above while the other ${tracked - sample.length} are still in flight (in LAUNCHED, each with its launch timer). Grows with the tasks in flight: stopping the ended task's actor makes xstate copy the job's children map and scan every scheduled timer of the actor system (see NOTES.md)`,
    }),
  ];
}

async function lifecycles(total: number, perRound: number, budgetMs: number, series: PlotSeries[], log: (l: string) => void, variant?: { label: string; build: typeof buildFrameworkMachine }): Promise<Figure[]> {
  const rounds = Math.ceil(total / perRound);
  const d = new Driver(perRound, 0, variant?.build);
  const samples: Array<{ lifecycles: number; heap: number; rss: number }> = [];
  const start = nowMs();
  let done = 0;
  let stoppedEarly = false;
  const sampleEveryMs = budgetMs / 20;
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
    if (r === rounds - 1 || r === 0 || nowMs() - lastSample > sampleEveryMs) {
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
  const suffix = variant ? ` ${variant.label}` : '';
  series.push(
    { chart: 'lifecycles', name: `heap used (MiB)${suffix}`, points: samples.map((s) => [s.lifecycles, s.heap / 1048576]) },
    { chart: 'lifecycles', name: `RSS (MiB)${suffix}`, points: samples.map((s) => [s.lifecycles, s.rss / 1048576]) },
  );
  const short = stoppedEarly ? ` (target ${total} not reached within the ${Math.round(budgetMs / 1000)} s budget at ${((done * 1000) / ms).toFixed(0)} lifecycles/s)` : '';
  const notes = `${done} lifecycles (launch, RUNNING, FINISHED, 2 ACKs each) in ${Math.ceil(done / perRound)} rounds of ${perRound} tasks, machines driven directly; growth from ${warm.lifecycles} lifecycles (after warm-up) to ${last.lifecycles}${short}`;
  return [
    figure({
      id: `memory.heap_growth${variant ? '.fixed' : ''}`, name: `Heap growth over ${done} task lifecycles${suffix}`, value: heapGrowth, unit: '%', target: GROWTH_TARGET, notes,
      detail: { fromMiB: warm.heap / 1048576, toMiB: last.heap / 1048576, lifecyclesPerSecond: (done * 1000) / ms, acks: d.acks },
    }),
    figure({
      id: `memory.rss_growth${variant ? '.fixed' : ''}`, name: `RSS growth over ${done} task lifecycles${suffix}`, value: rssGrowth, unit: '%', target: GROWTH_TARGET, notes,
      detail: { fromMiB: warm.rss / 1048576, toMiB: last.rss / 1048576 },
    }),
  ];
}

export async function runMemory(opts: BenchOptions): Promise<FigureOutput> {
  if (!hasGc()) {
    return { figures: [notMeasured('memory.heap_per_task', 'Heap per tracked task', 'bytes/task', 'run node with --expose-gc', MEMORY_TARGET)] };
  }
  const series: PlotSeries[] = [];
  const tracked = envInt('BENCH_TRACKED_TASKS', opts.quick ? 10_000 : 100_000);
  const total = envInt('BENCH_LIFECYCLES', opts.quick ? 20_000 : 1_000_000);
  const perRound = envInt('BENCH_ROUND_TASKS', 100);
  opts.log(`memory: tracking ${tracked} tasks`);
  const a = await tracking(tracked, envInt('BENCH_TRACK_BUDGET_S', opts.quick ? 15 : 45) * 1000, series, opts.log);
  opts.log(`memory: ${total} lifecycles in rounds of ${perRound}`);
  const budget = envInt('BENCH_LIFECYCLE_BUDGET_S', opts.quick ? 15 : 420) * 1000;
  const b = await lifecycles(total, perRound, budget, series, opts.log);
  // The fix for the growth found here (task end states not final) is measured beside the
  // machines as they are, for as long as machines/task still has final end states.
  let c: Figure[] = [];
  if (taskEndStatesAreFinal()) {
    opts.log('memory: the same with task end states not final (proposed fix, bench/experiments/task-not-final.ts)');
    c = await lifecycles(total, perRound, budget, series, opts.log, { label: '(task end states not final: proposed fix)', build: buildWithNonFinalTasks });
  }
  return {
    figures: [...a, ...b, ...c], series,
    method: [
      'Memory: the framework machine (with its job and task machines) driven directly with synthetic SUBSCRIBED/OFFERS/UPDATE events, in-memory effects and a SimulatedClock (through HTTP a million lifecycles would not fit the time budget). Heap and RSS after a full GC (--expose-gc).',
    ],
  };
}
