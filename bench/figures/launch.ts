/**
 * A round of 100,000 tasks through the CLI against `local-master --mode
 * simulated` in its own process, with 1,000 agents of 100 CPUs and tasks that
 * run for a day, so that all of them stay in flight. From that one run:
 *
 * - launch rate: tasks launched / (first OFFERS written → last ACCEPT
 *   accepted), timed at the master; limit: a do-nothing client sending the same
 *   ACCEPTs (one per offer, as many one-CPU tasks as fit) without state,
 *   against the same master process just before, over as many connections as
 *   the CLI used for calls in the smaller run;
 * - time per status update and per task end with 100,000 in flight: probes at
 *   the master, one at a time, each timed from its UPDATE written to its ACK
 *   (an extra TASK_RUNNING, as a health check sends; a kill on the agent, so
 *   TASK_KILLED, written to the journal before its ACK); limit: the same
 *   probes with 1,000 in flight (a round of 1,000 on 10 agents);
 * - heap per tracked task: (heap after a full GC with 100,000 in flight − heap
 *   after a full GC once every task has ended, in the cooldown after the
 *   round) / 100,000, read inside the CLI process by the bench's preload.
 */
import { CliProcess, subscribedFramework } from '../lib/cli-process.js';
import { withMaster, type MasterProcess, type ProbeResult } from '../lib/master-process.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { rawLaunch } from '../lib/raw-workloads.js';
import { figure, notMeasured, type Figure, type FigureOutput } from '../lib/results.js';
import { sleep } from '../lib/stats.js';

export const LAUNCH_TARGET = { kind: 'ratio>=' as const, value: 0.8, text: '>= 0.8 of the do-nothing client' };
export const INFLIGHT_TARGET = { kind: 'ratio<=' as const, value: 2, text: '<= 2x the same with 1,000 in flight' };
export const HEAP_TARGET = { kind: 'max<=' as const, value: 1024, text: '<= 1 KiB per tracked task' };

const DAY_SECONDS = 86_400;

interface InFlightRun {
  launchRate: number;
  launched: number;
  updateProbe: ProbeResult;
  endProbe: ProbeResult;
  heapInFlight?: number;
  heapNone?: number;
  callConnections: number;
  /** CPU time (ms) of the CLI and of the master process from the CLI's start to all tasks running. */
  cliCpuMs: number;
  masterCpuMs: number;
  /** Wall time (ms) from the CLI's start to all tasks running with every update ACKed. */
  toAllRunningMs: number;
}

/** Waits until `tasks` tasks are RUNNING at the master with every update ACKed. */
async function allRunning(m: MasterProcess, cli: CliProcess, tasks: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = { running: 0, awaiting: 0 };
  for (;;) {
    const c = await m.taskCounts();
    last = { running: c.byState['TASK_RUNNING'] ?? 0, awaiting: c.awaitingAck };
    if (last.running >= tasks && last.awaiting === 0) return;
    if (await Promise.race([cli.exit.then(() => true), sleep(0).then(() => false)])) throw new Error(`the CLI exited: ${cli.logTail()}`);
    if (Date.now() > end) throw new Error(`only ${last.running} of ${tasks} tasks running (${last.awaiting} updates awaiting ACK) after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(250);
  }
}

async function noTasks(m: MasterProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = await m.taskCounts();
    const left = Object.values(c.byState).reduce((a, b) => a + b, 0);
    if (left === 0) return;
    if (Date.now() > end) throw new Error(`${left} tasks still known to the master after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(250);
  }
}

async function inFlightRun(m: MasterProcess, tasks: number, probes: number, timeoutMs: number, heap: boolean, log: (l: string) => void): Promise<InFlightRun> {
  await m.resetLatency();
  const name = `inflight-${tasks}`;
  // Two rounds with an hour's cooldown: after the first round's tasks end, the CLI waits with none in flight.
  const masterCpu0 = m.cpuMs();
  const started = Date.now();
  const cli = CliProcess.start({ master: m.url, maxtasks: tasks, rounds: 2, waitSeconds: 3600, cpu: 1, mem: 32, name });
  try {
    await subscribedFramework(m, name, cli);
    await allRunning(m, cli, tasks, timeoutMs);
    const toAllRunningMs = Date.now() - started;
    const cliCpuMs = cli.cpuMs();
    const masterCpuMs = m.cpuMs() - masterCpu0;
    const s = await m.latency();
    const launchRate = s.lastAcceptMs !== null && s.firstOffersMs !== null ? (s.tasksLaunched * 1000) / (s.lastAcceptMs - s.firstOffersMs) : Number.NaN;
    log(`launch: ${tasks} running and ACKed after ${(toAllRunningMs / 1000).toFixed(0)} s (CPU: CLI ${(cliCpuMs / 1000).toFixed(1)} s, master ${(masterCpuMs / 1000).toFixed(1)} s); ${launchRate.toFixed(0)} tasks/s launched`);
    const heapInFlight = heap ? (await cli.read(true)).heapUsed : undefined;
    const updateProbe = await m.probe('update', probes);
    const endProbe = await m.probe('end', probes);
    log(`launch: probes with ${tasks} in flight: update p50 ${updateProbe.stats.p50.toFixed(2)} ms, end p50 ${endProbe.stats.p50.toFixed(2)} ms`);
    let heapNone: number | undefined;
    if (heap) {
      await m.endAll();
      await noTasks(m, timeoutMs);
      // Let the CLI record the round's end before reading its heap.
      await sleep(1000);
      heapNone = (await cli.read(true)).heapUsed;
    }
    return {
      launchRate, launched: s.tasksLaunched, updateProbe, endProbe, callConnections: Math.max(1, s.callConnections), cliCpuMs, masterCpuMs, toAllRunningMs,
      ...(heapInFlight !== undefined ? { heapInFlight } : {}), ...(heapNone !== undefined ? { heapNone } : {}),
    };
  } finally {
    await cli.dispose();
  }
}

export async function runLaunch(opts: BenchOptions): Promise<FigureOutput> {
  const tasks = envInt('BENCH_LAUNCH_TASKS', opts.quick ? 10_000 : 100_000);
  const agents = envInt('BENCH_LAUNCH_AGENTS', opts.quick ? 100 : 1000);
  const small = envInt('BENCH_INFLIGHT_SMALL', 1000);
  const probes = envInt('BENCH_PROBES', opts.quick ? 50 : 200);
  const timeoutMs = envInt('BENCH_LAUNCH_TIMEOUT_S', opts.quick ? 180 : 480) * 1000;
  const perAgent = Math.ceil(tasks / agents);
  const launchName = `Launching ${tasks.toLocaleString('en-US')} tasks into offers from ${agents.toLocaleString('en-US')} agents`;
  const heapName = `Heap per tracked task (${tasks.toLocaleString('en-US')} in flight, CLI process)`;
  const updName = `Time per status update with ${tasks.toLocaleString('en-US')} tasks in flight (CLI, journal on)`;
  const endName = `Time per task end with ${tasks.toLocaleString('en-US')} tasks in flight (CLI, journal on)`;
  const figures: Figure[] = [];

  opts.log(`launch: the CLI with ${small} in flight (limit of the probes)`);
  let smallRun: InFlightRun | undefined;
  let smallError = '';
  try {
    const smallAgents = Math.max(1, Math.ceil(small / 100));
    await withMaster({ agents: smallAgents, cpus: Math.ceil(small / smallAgents), mem: Math.ceil(small / smallAgents) * 32, taskSeconds: DAY_SECONDS, allocationIntervalMs: 100 }, async (m) => {
      smallRun = await inFlightRun(m, small, probes, timeoutMs, false, opts.log);
    });
  } catch (err) {
    smallError = (err as Error).message.slice(0, 400);
  }

  opts.log(`launch: ${tasks} tasks on ${agents} agents; do-nothing client first`);
  const connections = (smallRun as InFlightRun | undefined)?.callConnections ?? 1;
  let big: InFlightRun | undefined;
  let limit = Number.NaN;
  let bigError = '';
  try {
    await withMaster({ agents, cpus: perAgent, mem: perAgent * 32, taskSeconds: DAY_SECONDS, allocationIntervalMs: 100 }, async (m) => {
      // As many connections as the CLI used for its calls in the run with fewer tasks.
      await rawLaunch(m, { tasks, cpus: 1, mem: 32, connections, acknowledge: false, timeoutMs });
      const s = await m.latency();
      limit = s.lastAcceptMs !== null && s.firstOffersMs !== null ? (s.tasksLaunched * 1000) / (s.lastAcceptMs - s.firstOffersMs) : Number.NaN;
      opts.log(`launch: do-nothing client ${limit.toFixed(0)} tasks/s`);
      // Its TEARDOWN ended its tasks; give the master a moment to settle.
      await sleep(500);
      opts.log(`launch: the CLI, ${tasks} tasks`);
      big = await inFlightRun(m, tasks, probes, timeoutMs, true, opts.log);
    });
  } catch (err) {
    bigError = (err as Error).message.slice(0, 400);
    opts.log(`launch: ${bigError}`);
  }

  const b = big as InFlightRun | undefined;
  const sm = smallRun as InFlightRun | undefined;
  if (b) {
    figures.push(figure({
      id: 'launch.tasks_per_s', name: launchName, value: b.launchRate, unit: 'tasks/s', limit, target: LAUNCH_TARGET,
      limitName: 'do-nothing client sending the same ACCEPTs (one per offer) without state, same master process, just before',
      notes: `one round of ${tasks} one-CPU tasks on ${agents} agents of ${perAgent} CPUs, tasks running a day; timed at the master from the first OFFERS written to the last ACCEPT accepted; CLI with state on disk and JSON log`,
      detail: { launched: b.launched, callConnections: b.callConnections, toAllRunningMs: b.toAllRunningMs, cliCpuMs: b.cliCpuMs, masterCpuMs: b.masterCpuMs },
    }));
    if (b.heapInFlight !== undefined && b.heapNone !== undefined) {
      figures.push(figure({
        id: 'memory.heap_per_task', name: heapName, value: (b.heapInFlight - b.heapNone) / tasks, unit: 'bytes/task', target: HEAP_TARGET,
        notes: `(heap after a full GC with ${tasks} in flight − heap after a full GC once every task ended, in the cooldown after the round) / ${tasks}, read in the CLI process`,
        detail: { heapInFlightMiB: b.heapInFlight / 1048576, heapNoneMiB: b.heapNone / 1048576 },
      }));
    } else figures.push(notMeasured('memory.heap_per_task', heapName, 'bytes/task', 'no heap reading', HEAP_TARGET));
  } else {
    figures.push(notMeasured('launch.tasks_per_s', launchName, 'tasks/s', bigError, LAUNCH_TARGET));
    figures.push(notMeasured('memory.heap_per_task', heapName, 'bytes/task', bigError, HEAP_TARGET));
  }
  const probeNotes = (kind: string, done: number) => `${done} probes one at a time (of ${probes}; a series stops after 60 s), each ${kind}, timed at the master from its UPDATE written to its ACK accepted; median; limit: the same with ${small} in flight`;
  const pair = (id: string, nm: string, pick: (r: InFlightRun) => ProbeResult, kind: string): Figure => {
    if (!b || !sm) return notMeasured(id, nm, 'ms', bigError || smallError, INFLIGHT_TARGET);
    return figure({
      id, name: nm, value: pick(b).stats.p50, unit: 'ms', limit: pick(sm).stats.p50, target: INFLIGHT_TARGET,
      limitName: `the same with ${small.toLocaleString('en-US')} tasks in flight`, notes: probeNotes(kind, pick(b).stats.count),
      detail: { inFlight: pick(b).stats, small: pick(sm).stats, timedOut: pick(b).timedOut || pick(sm).timedOut },
    });
  };
  figures.push(pair('inflight.update', updName, (r) => r.updateProbe, 'an extra TASK_RUNNING from the agent'));
  figures.push(pair('inflight.end', endName, (r) => r.endProbe, 'a task killed on its agent (TASK_KILLED, recorded before its ACK)'));
  return {
    figures,
    method: [
      `Launch and tasks in flight: \`local-master --mode simulated\` in its own process with ${agents} agents of ${perAgent} CPUs and tasks that run a day. A do-nothing client launches ${tasks} one-CPU tasks (one ACCEPT per offer, no state), then TEARDOWN; then the CLI runs a round of ${tasks} with an hour's cooldown after it. Launch rate at the master (first OFFERS written → last ACCEPT accepted). With all running and ACKed, the master times ${probes} probes one at a time (an extra TASK_RUNNING; a kill on the agent), then ends every task; the CLI's heap is read after a full GC (node --expose-gc, through a preload of the bench) with all in flight and again in the cooldown. The same probes with ${small} in flight give the limits.`,
    ],
  };
}
