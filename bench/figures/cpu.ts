/**
 * CPU time and peak RSS of the CLI process per task, as a user runs it: the
 * real CLI against `local-master --mode simulated` in its own process, state
 * on disk, JSON log on (to a file), tasks of 0.1 s.
 *
 * - CPU per 1,000 tasks, launch to acknowledged end, in rounds of 100 and of
 *   1,000: the CLI's CPU time from SUBSCRIBED to its exit (read in the process
 *   by the bench's preload), per task. Limit: the CPU time of a do-nothing
 *   client doing the same launches and ACKs with no state and no log, in the
 *   bench process, against the same master.
 * - One round of 20,000 tasks vs one of 2,000: CPU per task (<= 2x) and peak
 *   RSS (RSS(20,000) − RSS(2,000) <= 18,000 × 2 KiB).
 */
import { CliProcess, exitWithin, subscribedFramework } from '../lib/cli-process.js';
import { withMaster, type MasterProcess } from '../lib/master-process.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { rawLaunch } from '../lib/raw-workloads.js';
import { figure, notMeasured, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';

export const CPU_TARGET = { kind: 'max<=' as const, value: 1.0, text: '<= 1.0 s per 1,000 tasks' };

export interface CliRun { tasks: number; cpuMs: number; maxRssKiB: number; wallMs: number; callConnections: number }

/** Runs the CLI for `rounds` rounds of `perRound` tasks; CPU from SUBSCRIBED to exit. */
export async function cliRounds(m: MasterProcess, perRound: number, rounds: number, name: string, timeoutMs: number, contentType: 'protobuf' | 'json' = 'protobuf'): Promise<CliRun> {
  await m.resetLatency();
  const started = Date.now();
  const cli = CliProcess.start({ master: m.url, maxtasks: perRound, rounds, waitSeconds: 0, cpu: 1, mem: 64, name, contentType });
  try {
    await subscribedFramework(m, name, cli);
    const atSubscribed = await cli.read(false);
    const exit = await exitWithin(cli, timeoutMs, `${rounds} round(s) of ${perRound} tasks`);
    const report = cli.exitReport();
    if (exit.code !== 0 || !report) throw new Error(`the CLI exited ${exit.code ?? exit.signal}: ${cli.logTail()}`);
    const s = await m.latency();
    return { tasks: perRound * rounds, cpuMs: report.cpuMs - atSubscribed.cpuMs, maxRssKiB: report.maxRssKiB, wallMs: Date.now() - started, callConnections: Math.max(1, s.callConnections) };
  } finally {
    await cli.dispose();
  }
}

export async function runCpu(opts: BenchOptions): Promise<FigureOutput> {
  const total = envInt('BENCH_CPU_TASKS', opts.quick ? 500 : 2000);
  const small = envInt('BENCH_ROUND_SMALL', opts.quick ? 500 : 2000);
  const large = envInt('BENCH_ROUND_LARGE', opts.quick ? 5000 : 20_000);
  const timeoutMs = envInt('BENCH_CPU_TIMEOUT_S', 300) * 1000;
  const agents = Math.max(10, Math.ceil(large / 100));
  const scaleTarget = { kind: 'ratio<=' as const, value: 2, text: `<= 2x the CPU per task of the ${small.toLocaleString('en-US')}-task round` };
  const figures: Figure[] = [];
  const series: PlotSeries[] = [{ chart: 'cpu', name: 'CLI CPU ms per task', points: [] }];
  opts.log(`cpu: ${total} tasks in rounds of 100 and of 1,000; one round of ${small} and one of ${large}`);
  await withMaster({ agents, cpus: 100, mem: 100 * 64, taskSeconds: 0.1, allocationIntervalMs: 20 }, async (m) => {
    const runs = new Map<string, CliRun | Error>();
    const attempt = async (key: string, perRound: number, rounds: number): Promise<void> => {
      opts.log(`cpu: ${rounds} round(s) of ${perRound}`);
      try {
        const r = await cliRounds(m, perRound, rounds, `cpu-${key}`, timeoutMs);
        runs.set(key, r);
        series[0]!.points.push([perRound, r.cpuMs / r.tasks]);
      } catch (err) {
        runs.set(key, err as Error);
      }
    };
    // Rounds of 100 and of 1,000 (of fewer when the bench is made smaller than that).
    const r100 = Math.min(100, total);
    const r1000 = Math.min(1000, total);
    await attempt('r100', r100, Math.max(1, Math.round(total / r100)));
    await attempt('r1000', r1000, Math.max(1, Math.round(total / r1000)));
    await attempt('small', small, 1);
    await attempt('large', large, 1);
    // The limit: a do-nothing client launching and ACKing the same tasks (no state, no log).
    const first = [...runs.values()].find((r): r is CliRun => !(r instanceof Error));
    let limitPer1000 = Number.NaN;
    try {
      await m.resetLatency();
      const raw = await rawLaunch(m, { tasks: total, cpus: 1, mem: 64, connections: first?.callConnections ?? 1, acknowledge: true, untilEnded: true, timeoutMs });
      limitPer1000 = raw.cpuMs / total;
    } catch (err) {
      opts.log(`cpu: do-nothing client failed: ${(err as Error).message}`);
    }
    const perThousand = (key: string, label: string): Figure => {
      const id = `cpu.${key}`;
      const name = `CLI CPU time per 1,000 tasks, rounds of ${label} (launch to acknowledged end)`;
      const r = runs.get(key);
      if (!r || r instanceof Error) return notMeasured(id, name, 's', r?.message.slice(0, 400) ?? 'not run', CPU_TARGET);
      return figure({
        id, name, value: r.cpuMs / r.tasks, unit: 's', limit: limitPer1000, target: CPU_TARGET,
        limitName: `do-nothing client launching and ACKing ${total} tasks, no state, no log (its process's CPU)`,
        notes: `${r.tasks} tasks of 0.1 s; the CLI's user+system CPU from SUBSCRIBED to exit, read in the process; state on disk, JSON log to a file`,
        detail: { cpuMs: r.cpuMs, wallMs: r.wallMs, maxRssKiB: r.maxRssKiB },
      });
    };
    figures.push(perThousand('r100', r100.toLocaleString('en-US')), perThousand('r1000', r1000.toLocaleString('en-US')));
    const s = runs.get('small');
    const l = runs.get('large');
    const scaleName = `CLI CPU per task, one round of ${large.toLocaleString('en-US')} vs one of ${small.toLocaleString('en-US')}`;
    const rssName = `CLI peak RSS, round of ${large.toLocaleString('en-US')} minus round of ${small.toLocaleString('en-US')}`;
    const rssLimitKiB = (large - small) * 2;
    const rssTarget = { kind: 'max<=' as const, value: rssLimitKiB, text: `<= ${(large - small).toLocaleString('en-US')} × 2 KiB` };
    if (s instanceof Error || l instanceof Error || !s || !l) {
      const why = (s instanceof Error ? s.message : l instanceof Error ? l.message : 'not run').slice(0, 400);
      figures.push(notMeasured('cpu.round_scale', scaleName, 'ms/task', why, scaleTarget), notMeasured('rss.round_scale', rssName, 'KiB', why, rssTarget));
    } else {
      figures.push(figure({
        id: 'cpu.round_scale', name: scaleName, value: l.cpuMs / l.tasks, unit: 'ms/task', limit: s.cpuMs / s.tasks, target: scaleTarget,
        limitName: `CPU per task of the ${small}-task round`, notes: 'one round each, tasks of 0.1 s, CPU from SUBSCRIBED to exit',
        detail: { large: l, small: s },
      }));
      figures.push(figure({
        id: 'rss.round_scale', name: rssName, value: l.maxRssKiB - s.maxRssKiB, unit: 'KiB', target: rssTarget,
        notes: `peak RSS (getrusage maxrss) of each CLI process: ${l.maxRssKiB} KiB for ${large} tasks, ${s.maxRssKiB} KiB for ${small}; the limit is ${rssLimitKiB} KiB`,
        detail: { largeKiB: l.maxRssKiB, smallKiB: s.maxRssKiB, limitKiB: rssLimitKiB },
      }));
    }
  });
  return {
    figures, series,
    method: [
      `CPU and RSS: \`local-master --mode simulated\` in its own process (${agents} agents of 100 CPUs, tasks of 0.1 s); the CLI runs ${total} tasks in rounds of 100, then in rounds of 1,000, then one round of ${small} and one of ${large}, each a new process with its state on disk and its JSON log to a file. CPU time from SUBSCRIBED to exit and peak RSS at exit are read inside the CLI by a preload of the bench. Limit of the CPU figures: the bench process's own CPU while a do-nothing client launches and ACKs the same number of tasks.`,
    ],
  };
}
