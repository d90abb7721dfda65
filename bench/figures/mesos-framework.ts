/**
 * This scheduler vs the `mesos-framework` npm package (0.5.3, JSON only) on
 * the same workload against the same master process: one round of M one-CPU
 * tasks of 0.1 s, each task's STARTING, RUNNING and FINISHED ACKed.
 * mesos-framework is installed at bench time into bench/.work (never into
 * the project), loaded in the bench process, and driven through its own task
 * model (one task definition with M instances; its default OFFERS and UPDATE
 * handlers launch and ACK). Ours is the CLI in JSON, state on disk, log on.
 *
 * From the master's recorder: status updates per second (ACKs / first UPDATE
 * written → last ACK), tasks launched per second (first OFFERS → last
 * ACCEPT); and CPU time per task of each client's process (mesos-framework's
 * is the bench process's while it runs). Ratio = ours / theirs (CPU: lower is
 * better). Any failure is reported as "not measured: <why>".
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LatencySummary } from '../../src/emulator/latency-recorder.js';
import { withMaster, type MasterProcess } from '../lib/master-process.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type Figure, type FigureOutput } from '../lib/results.js';
import { sleep } from '../lib/stats.js';
import { cliRounds } from './cpu.js';

const VERSION = '0.5.3';

interface MfScheduler {
  frameworkId: string | null;
  on(event: string, listener: (...args: unknown[]) => void): void;
  subscribe(): void;
  teardown(): void;
  httpRequest?: { abort?: () => void; destroy?: () => void };
}

interface MfModule {
  Scheduler: new (opts: Record<string, unknown>) => MfScheduler;
  Mesos: { getMesos(): { CommandInfo: new (...args: unknown[]) => unknown } };
}

async function install(workDir: string, log: (l: string) => void): Promise<string> {
  const dir = join(workDir, 'node_modules', 'mesos-framework');
  if (existsSync(join(dir, 'package.json'))) return dir;
  mkdirSync(workDir, { recursive: true });
  log(`mesos-framework: npm install --prefix ${workDir} mesos-framework@${VERSION}`);
  await promisify(execFile)('npm', ['install', '--prefix', workDir, `mesos-framework@${VERSION}`, '--no-audit', '--no-fund', '--loglevel=error'], { timeout: 180_000 });
  return dir;
}

interface Measured { updatesPerS: number; launchPerS: number; cpuMsPerTask: number }

function rates(s: LatencySummary): { updatesPerS: number; launchPerS: number } {
  const acks = s.calls['ACKNOWLEDGE'] ?? 0;
  return {
    updatesPerS: s.lastAckMs !== null && s.firstUpdateMs !== null ? (acks * 1000) / (s.lastAckMs - s.firstUpdateMs) : Number.NaN,
    launchPerS: s.lastAcceptMs !== null && s.firstOffersMs !== null ? (s.tasksLaunched * 1000) / (s.lastAcceptMs - s.firstOffersMs) : Number.NaN,
  };
}

/** mesos-framework's own task model: `tasks` instances, launched and ACKed by its default handlers. */
async function theirs(dir: string, workDir: string, m: MasterProcess, tasks: number): Promise<Measured> {
  const mf = createRequire(join(dir, 'index.js'))(dir) as MfModule;
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  const url = new URL(m.url);
  const errors: string[] = [];
  await m.resetLatency();
  const cpu0 = process.cpuUsage();
  const sched = new mf.Scheduler({
    masterUrl: url.hostname, port: Number(url.port), frameworkName: 'mesos-framework-bench', user: 'bench',
    logging: { path: join(workDir, 'logs'), fileName: 'mesos-framework.log', level: 'error' },
    // Seconds without data on the event stream before it re-registers (default 10, less than the master's heartbeat).
    masterConnectionTimeout: 3600,
    tasks: {
      worker: {
        priority: 1, instances: tasks,
        commandInfo: new (mf.Mesos.getMesos().CommandInfo)(null, null, true, 'true', null, null),
        resources: { cpus: 1, mem: 64, ports: 0, disk: 0 },
      },
    },
    handlers: { HEARTBEAT: function (_t: unknown) {} },
  });
  sched.on('error', (e) => { if (errors.length < 20) errors.push(String((e as { message?: string })?.message ?? e).slice(0, 200)); });
  sched.on('ready', () => sched.subscribe());
  try {
    let acks = 0;
    const end = Date.now() + 300_000;
    while (acks < tasks * 3 && errors.length < 20 && Date.now() < end) {
      await sleep(100);
      acks = (await m.latency()).calls['ACKNOWLEDGE'] ?? 0;
    }
    const cpu = process.cpuUsage(cpu0);
    if (acks < tasks * 3) throw new Error(`mesos-framework: ${errors.join('; ')}`);
    return { ...rates(await m.latency()), cpuMsPerTask: (cpu.user + cpu.system) / 1000 / tasks };
  } finally {
    try { sched.teardown(); } catch { /* ignore */ }
    // Its event stream would otherwise time out once the master is gone, and
    // mesos-framework then ends the whole process (process.exit) when it finds no master.
    try { sched.httpRequest?.destroy?.(); } catch { /* ignore */ }
  }
}

export async function runMesosFramework(opts: BenchOptions): Promise<FigureOutput> {
  const tasks = envInt('BENCH_MF_TASKS', opts.quick ? 100 : 1000);
  const names = {
    updates: `Status updates per second (with ACK), ${tasks} tasks: this scheduler vs mesos-framework ${VERSION}`,
    launch: `Tasks launched per second, ${tasks} tasks: this scheduler vs mesos-framework ${VERSION}`,
    cpu: `CPU time per task, ${tasks} tasks: this scheduler vs mesos-framework ${VERSION}`,
  };
  const up = { kind: 'ratio>=' as const, value: 2, text: 'aim: >= 2x mesos-framework' };
  const down = { kind: 'ratio<=' as const, value: 0.5, text: 'aim: <= 0.5x mesos-framework\'s CPU' };
  let dir: string;
  try {
    dir = await install(opts.workDir, opts.log);
  } catch (err) {
    const why = `npm install failed: ${(err as Error).message.split('\n')[0]}`;
    return { figures: [notMeasured('compare.mesos-framework.updates', names.updates, 'updates/s', why, up), notMeasured('compare.mesos-framework.launch', names.launch, 'tasks/s', why, up), notMeasured('compare.mesos-framework.cpu', names.cpu, 'ms/task', why, down)] };
  }
  opts.log(`mesos-framework: ${tasks} tasks, theirs then ours`);
  const figures: Figure[] = [];
  try {
    await withMaster({ agents: Math.max(1, Math.ceil(tasks / 4)), cpus: 4, mem: 4096, taskSeconds: 0.1, allocationIntervalMs: 20 }, async (m) => {
      const t = await theirs(dir, opts.workDir, m, tasks);
      const run = await cliRounds(m, tasks, 1, 'compare-ours', 300_000, 'json');
      const o = { ...rates(await m.latency()), cpuMsPerTask: run.cpuMs / run.tasks };
      const limitName = `mesos-framework ${VERSION} (JSON; its own task model, default OFFERS and UPDATE handlers, no state kept), same master process`;
      const notes = `ratio = ours / theirs; one round of ${tasks} one-CPU tasks of 0.1 s; ours is the CLI in JSON with state on disk and JSON log; timed at the master`;
      figures.push(
        figure({ id: 'compare.mesos-framework.updates', name: names.updates, value: o.updatesPerS, unit: 'updates/s', limit: t.updatesPerS, limitName, target: up, notes }),
        figure({ id: 'compare.mesos-framework.launch', name: names.launch, value: o.launchPerS, unit: 'tasks/s', limit: t.launchPerS, limitName, target: up, notes }),
        figure({
          id: 'compare.mesos-framework.cpu', name: names.cpu, value: o.cpuMsPerTask, unit: 'ms/task', limit: t.cpuMsPerTask, limitName, target: down,
          notes: `${notes}; CPU of the CLI process from SUBSCRIBED to exit, and of the bench process while mesos-framework ran in it`,
        }),
      );
    });
  } catch (err) {
    const why = (err as Error).message.slice(0, 400);
    figures.push(notMeasured('compare.mesos-framework.updates', names.updates, 'updates/s', why, up), notMeasured('compare.mesos-framework.launch', names.launch, 'tasks/s', why, up), notMeasured('compare.mesos-framework.cpu', names.cpu, 'ms/task', why, down));
  }
  return {
    figures,
    method: [`Comparison: mesos-framework ${VERSION} installed with npm into bench/.work at run time and run in the bench process (JSON, its only format) with its own task model against \`local-master --mode simulated\` in its own process; then the CLI (JSON) on the same workload against the same master. Rates timed at the master; CPU of each client's process per task.`],
  };
}
