/**
 * The same workloads with the `mesos-framework` npm package (0.5.3, JSON
 * only), against the same kind of emulator, timed the same way at the
 * emulator. It is installed at bench time into bench/.work (never into the
 * project), loaded in this process, and driven through its public API:
 * a custom OFFERS handler calling `decline` (offers), and its own task model
 * with its default OFFERS and UPDATE handlers (status updates).
 * Our scheduler runs the same workload in JSON beside it (and protobuf is in
 * the offers figures). Any failure is reported as "not measured: <why>".
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from '../../src/emulator/index.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type Figure, type FigureOutput } from '../lib/results.js';
import { until } from '../lib/stats.js';
import { EmulatorTap, OfferSpans } from '../lib/tap.js';
import { offerCluster, schedulerOfferTrial } from './offers.js';
import { schedulerUpdateTrial, UpdateMeter, updateCluster } from './updates.js';

const VERSION = '0.5.3';
const WARMUP = 2;

interface MfScheduler {
  frameworkId: string | null;
  on(event: string, listener: (...args: unknown[]) => void): void;
  subscribe(): void;
  decline(offers: unknown[], filters: unknown): void;
  teardown(): void;
  httpRequest?: { abort?: () => void; destroy?: () => void };
}

async function install(workDir: string, log: (l: string) => void): Promise<string> {
  const dir = join(workDir, 'node_modules', 'mesos-framework');
  if (existsSync(join(dir, 'package.json'))) return dir;
  mkdirSync(workDir, { recursive: true });
  log(`mesos-framework: npm install --prefix ${workDir} mesos-framework@${VERSION}`);
  await promisify(execFile)('npm', ['install', '--prefix', workDir, `mesos-framework@${VERSION}`, '--no-audit', '--no-fund', '--loglevel=error'], { timeout: 180_000 });
  return dir;
}

interface MfModule {
  Scheduler: new (opts: Record<string, unknown>) => MfScheduler;
  Mesos: { getMesos(): { CommandInfo: new (...args: unknown[]) => unknown } };
}

/**
 * One mesos-framework scheduler against `cluster`, subscribed, for the time
 * `measure` takes: it is built from `options` (its tasks and handlers) plus
 * what every trial needs, and torn down after, whatever happens.
 */
async function withMfScheduler<T>(
  dir: string, workDir: string, cluster: Cluster, name: string, options: (mf: MfModule) => Record<string, unknown>,
  measure: (ctl: { frameworkId: () => string | undefined; errors: string[]; start: () => void }) => Promise<T>,
): Promise<T> {
  const mf = createRequire(join(dir, 'index.js'))(dir) as MfModule;
  // Its file logger needs the directory to exist.
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  const url = new URL(cluster.leaderUrl()!);
  const errors: string[] = [];
  let sched: MfScheduler | undefined;
  try {
    return await measure({
      frameworkId: () => sched?.frameworkId ?? undefined,
      errors,
      start: () => {
        sched = new mf.Scheduler({
          masterUrl: url.hostname, port: Number(url.port), frameworkName: name, user: 'bench',
          logging: { path: join(workDir, 'logs'), fileName: 'mesos-framework.log', level: 'error' },
          // Seconds without data on the event stream before it re-registers (default 10, less than the emulator's heartbeat).
          masterConnectionTimeout: 3600,
          ...options(mf),
        });
        const s = sched;
        s.on('error', (e) => { if (errors.length < 20) errors.push(String((e as { message?: string })?.message ?? e).slice(0, 200)); });
        s.on('ready', () => s.subscribe());
      },
    });
  } finally {
    try { sched?.teardown(); } catch { /* ignore */ }
    // Its event stream would otherwise time out once the emulator is gone, and
    // mesos-framework then ends the whole process (process.exit) when it finds no master.
    try { sched?.httpRequest?.destroy?.(); } catch { /* ignore */ }
  }
}

async function mfOfferTrial(dir: string, workDir: string, agents: number, events: number): Promise<{ spans: Array<{ offers: number; ms: number }>; errors: string[] }> {
  const cluster = await offerCluster(agents);
  const tap = new EmulatorTap(cluster);
  let frameworkId: () => string | undefined = () => undefined;
  const spans = new OfferSpans(tap, () => frameworkId());
  try {
    return await withMfScheduler(dir, workDir, cluster, 'mesos-framework-bench', () => ({
      handlers: {
        // Arity 1 is required by mesos-framework for custom handlers.
        OFFERS: function (this: MfScheduler, offers: unknown) {
          const list = (offers as { offers: Array<{ id: { value: string } }> }).offers;
          this.decline(list.map((o) => o.id), { refuse_seconds: 0 });
        },
        HEARTBEAT: function (_t: unknown) {},
      },
    }), async (ctl) => {
      frameworkId = ctl.frameworkId;
      ctl.start();
      await until(() => spans.events >= events + WARMUP || ctl.errors.length >= 20, 120_000, `${events} offer events (mesos-framework)`);
      // Errors after this point come from the teardown and cluster stop.
      return { spans: spans.spans.slice(WARMUP, events + WARMUP), errors: [...ctl.errors] };
    });
  } finally {
    spans.close();
    tap.close();
    await cluster.stop();
  }
}

/**
 * The status-update workload with mesos-framework's own task model: one task
 * definition with `instances` = tasks, launched by its default OFFERS handler
 * and ACKed by its default UPDATE handler (TASK_FINISHED is not restarted by
 * default). Rate = ACKs / (first UPDATE written → last ACK accepted).
 */
async function mfUpdateTrial(dir: string, workDir: string, tasks: number): Promise<{ rate: number; errors: string[] }> {
  const cluster = await updateCluster(tasks);
  const tap = new EmulatorTap(cluster);
  let frameworkId: () => string | undefined = () => undefined;
  const meter = new UpdateMeter(tap, () => frameworkId());
  try {
    return await withMfScheduler(dir, workDir, cluster, 'mesos-framework-updates', (mf) => ({
      tasks: {
        worker: {
          priority: 1, instances: tasks,
          commandInfo: new (mf.Mesos.getMesos().CommandInfo)(null, null, true, 'true', null, null),
          resources: { cpus: 1, mem: 64, ports: 0, disk: 0 },
        },
      },
      handlers: { HEARTBEAT: function (_t: unknown) {} },
    }), async (ctl) => {
      frameworkId = ctl.frameworkId;
      ctl.start();
      await until(() => meter.acks >= tasks * 3 || ctl.errors.length >= 20, 300_000, `${tasks * 3} acknowledgements (mesos-framework)`);
      if (meter.acks < tasks * 3) throw new Error(`mesos-framework: ${ctl.errors.join('; ')}`);
      return { rate: meter.rate(), errors: [...ctl.errors] };
    });
  } finally {
    meter.close();
    tap.close();
    await cluster.stop();
  }
}

function rateOf(spans: Array<{ offers: number; ms: number }>): number {
  let offers = 0;
  let ms = 0;
  for (const s of spans) { offers += s.offers; ms += s.ms; }
  return ms > 0 ? (offers * 1000) / ms : Number.NaN;
}

export async function runMesosFramework(opts: BenchOptions): Promise<FigureOutput> {
  const agents = envInt('BENCH_MF_AGENTS', opts.quick ? 200 : 1000);
  const events = envInt('BENCH_MF_EVENTS', opts.quick ? 4 : 20);
  const name = `Offers per second, ${agents} agents: this scheduler (JSON) vs mesos-framework ${VERSION}`;
  let dir: string;
  try {
    dir = await install(opts.workDir, opts.log);
  } catch (err) {
    return { figures: [notMeasured('compare.mesos-framework.offers', name, 'offers/s', `npm install failed: ${(err as Error).message.split('\n')[0]}`)] };
  }
  opts.log(`mesos-framework: offers, ${agents} agents, ${events} events`);
  const figures: Figure[] = [];
  try {
    const theirs = await mfOfferTrial(dir, opts.workDir, agents, events);
    const ours = await schedulerOfferTrial(agents, events, 'json');
    const limit = rateOf(theirs.spans);
    figures.push(figure({
      id: 'compare.mesos-framework.offers', name, value: rateOf(ours.spans), unit: 'offers/s', limit,
      limitName: `mesos-framework ${VERSION} (JSON; custom OFFERS handler declining every offer in one call)`,
      notes: `ratio = ours / theirs on the same decline-everything workload; ${theirs.spans.length} events measured for mesos-framework`,
      detail: { mesosFrameworkErrors: theirs.errors },
    }));
  } catch (err) {
    figures.push(notMeasured('compare.mesos-framework.offers', name, 'offers/s', (err as Error).message));
  }
  const tasks = envInt('BENCH_MF_TASKS', opts.quick ? 100 : 300);
  const updatesName = `Status updates per second (with ACK), ${tasks} tasks: this scheduler (JSON) vs mesos-framework ${VERSION}`;
  opts.log(`mesos-framework: status updates, ${tasks} tasks`);
  try {
    const theirs = await mfUpdateTrial(dir, opts.workDir, tasks);
    const ours = await schedulerUpdateTrial(tasks, 'json');
    figures.push(figure({
      id: 'compare.mesos-framework.updates', name: updatesName, value: ours.rate, unit: 'updates/s', limit: theirs.rate,
      limitName: `mesos-framework ${VERSION} (JSON; its own task model: default OFFERS and UPDATE handlers, no state kept)`,
      notes: `ratio = ours / theirs; ${tasks} tasks launched at once, STARTING, RUNNING, FINISHED each ACKed; ours writes its state file (each FINISHED on disk before its ACK), mesos-framework keeps nothing`,
      detail: { mesosFrameworkErrors: theirs.errors, ourStateWrites: ours.writes },
    }));
  } catch (err) {
    figures.push(notMeasured('compare.mesos-framework.updates', updatesName, 'updates/s', (err as Error).message));
  }
  return {
    figures,
    method: [`Comparison: mesos-framework ${VERSION} installed with npm into bench/.work at run time and run in this process (JSON, its only format), timed at the emulator: on the offers workload with a custom OFFERS handler declining everything, and on the status-update workload with its own task model (one task definition with as many instances as tasks; its default handlers launch and ACK). This scheduler runs the same workloads in JSON.`],
  };
}
