/**
 * Status updates handled per second, acknowledgements included, at 100,
 * 1,000 and 10,000 tasks in flight.
 *
 * Workload: the CLI runs one round of M tasks against `local-master --mode
 * simulated` in its own process, tasks ending at once (1 ms), so each task
 * sends STARTING, RUNNING and FINISHED, each with a uuid to ACKNOWLEDGE (one in
 * flight per task, as Mesos agents do). Its state is on disk and its JSON log
 * on, as a user runs it. Rate = ACKs / (first UPDATE written → last ACK
 * accepted), timed at the master.
 *
 * Limit: against the same master process, right after, a do-nothing client
 * POSTing as many ACKNOWLEDGE calls as fast as it can over the same number of
 * connections as the scheduler used for its calls (counted at the master).
 */
import { CliProcess, exitWithin } from '../lib/cli-process.js';
import { withMaster } from '../lib/master-process.js';
import { envInt, envList, type BenchOptions } from '../lib/options.js';
import { rawAckRate } from '../lib/raw-workloads.js';
import { figure, notMeasured, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';

export const UPDATES_TARGET = { kind: 'ratio>=' as const, value: 0.8, text: '>= 0.8 of the do-nothing client\'s ACKNOWLEDGE rate' };

export async function runUpdates(opts: BenchOptions): Promise<FigureOutput> {
  const sizes = envList('BENCH_UPDATE_TASKS', opts.quick ? [100, 1000] : [100, 1000, 10_000]);
  const timeoutMs = envInt('BENCH_UPDATE_TIMEOUT_S', 240) * 1000;
  const figures: Figure[] = [];
  const series: PlotSeries[] = [
    { chart: 'updates', name: 'scheduler (CLI)', points: [] },
    { chart: 'updates', name: 'do-nothing ACKNOWLEDGE rate', points: [] },
  ];
  for (const tasks of sizes) {
    const id = `updates.${tasks}`;
    const name = `Status updates handled per second (with ACK), ${tasks.toLocaleString('en-US')} tasks in flight`;
    opts.log(`updates: ${tasks} tasks (${tasks * 3} updates)`);
    try {
      const f = await withMaster({ agents: Math.max(1, Math.ceil(tasks / 4)), cpus: 4, mem: 4096, taskSeconds: 0.001, allocationIntervalMs: 20 }, async (m) => {
        const cli = CliProcess.start({ master: m.url, maxtasks: tasks, rounds: 1, waitSeconds: 0, cpu: 1, mem: 64, name: `updates-${tasks}` });
        try {
          const exit = await exitWithin(cli, timeoutMs, `a round of ${tasks} tasks`);
          if (exit.code !== 0) throw new Error(`the CLI exited ${exit.code ?? exit.signal}: ${cli.logTail()}`);
        } finally {
          await cli.dispose();
        }
        const s = await m.latency();
        const acks = s.calls['ACKNOWLEDGE'] ?? 0;
        const rate = s.lastAckMs !== null && s.firstUpdateMs !== null ? (acks * 1000) / (s.lastAckMs - s.firstUpdateMs) : Number.NaN;
        const connections = Math.max(1, s.callConnections);
        await m.resetLatency();
        const limit = await rawAckRate(m, tasks * 3, connections);
        series[0]!.points.push([tasks, rate]);
        series[1]!.points.push([tasks, limit]);
        return figure({
          id, name, value: rate, unit: 'updates/s', limit, target: UPDATES_TARGET,
          limitName: `do-nothing client POSTing ${tasks * 3} ACKNOWLEDGE calls over ${connections} connection(s), same master process`,
          notes: `${acks} ACKs of ${tasks} tasks launched at once (STARTING, RUNNING, FINISHED each), CLI with state file and JSON log; timed at the master from the first UPDATE written to the last ACK accepted; the scheduler used ${connections} connection(s) for calls`,
          detail: { acks, callConnections: connections, updateToAckMs: s.updateToAck, calls: s.calls },
        });
      });
      figures.push(f);
    } catch (err) {
      figures.push(notMeasured(id, name, 'updates/s', (err as Error).message.slice(0, 400), UPDATES_TARGET));
    }
  }
  return {
    figures, series,
    method: [
      'Status updates: `local-master --mode simulated` in its own process; the CLI runs one round of M one-CPU tasks that end at once (1 ms), so every task sends STARTING, RUNNING, FINISHED, each ACKed (the terminal one after it is on disk). Rate = ACKs / (first UPDATE written → last ACK accepted), timed at the master. Limit: a do-nothing client POSTing 3M ACKNOWLEDGE calls to the same master process right after, over as many connections as the scheduler used (counted at the master).',
    ],
  };
}
