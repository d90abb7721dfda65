/**
 * Failover: from the new leading master becoming reachable to SUBSCRIBED,
 * and to the first task launched after it.
 *
 * Two emulated masters, the scheduler given both (static list). The job wants
 * more tasks than the agents hold, with short tasks, so it is always
 * launching. Each trial: wait for a launch, then elect the other master (the
 * old leader ends its streams, the new one is reachable at once). The
 * scheduler sees the stream end, waits its first backoff step (500 ms minus
 * up to 20% jitter, the default), subscribes to the first master in its
 * list, follows the 307 to the leader. Times from the runtime's signals.
 */
import { startCluster } from '../../src/emulator/index.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, type FigureOutput } from '../lib/results.js';
import { startScheduler } from '../lib/scheduler-run.js';
import { median, nowMs, percentile, sleep, until } from '../lib/stats.js';

export const FAILOVER_TARGET = { kind: 'max<' as const, value: 1000, text: '< 1 s (backoff at its first step)' };

export async function runFailover(opts: BenchOptions): Promise<FigureOutput> {
  const trials = envInt('BENCH_FAILOVERS', opts.quick ? 2 : 6);
  opts.log(`failover: ${trials} leader changes`);
  const cluster = await startCluster({
    mode: 'simulated', simulatedTaskMs: 100, masters: 2, agents: 4, cpusPerAgent: 1, memPerAgent: 1024, diskPerAgent: 1024,
    allocationIntervalMs: 50, heartbeatIntervalSeconds: 15, agentRetryMs: 1000,
  });
  const sched = startScheduler(cluster.masters.map((m) => m.url), {
    cpu: '1', mem: '64', maxtasks: '1000000', rounds: '1', wait: '0', name: 'failover',
  });
  let subscribedAt = Number.NaN;
  let launchedAt = Number.NaN;
  let subscriptions = 0;
  sched.signals.on('subscribed', () => { subscribedAt = nowMs(); subscriptions += 1; });
  sched.signals.on('taskLaunched', () => { launchedAt = nowMs(); });
  const toSubscribed: number[] = [];
  const toLaunch: number[] = [];
  try {
    await until(() => subscriptions >= 1 && launchedAt > subscribedAt, 30_000, 'first launch');
    for (let i = 0; i < trials; i++) {
      await sleep(300);
      const before = subscriptions;
      const next = ((cluster.leaderIndex() ?? 0) + 1) % 2;
      const t0 = nowMs();
      cluster.faults.electLeader(next);
      await until(() => subscriptions > before, 10_000, 'resubscription');
      await until(() => launchedAt > subscribedAt, 10_000, 'a launch after resubscribing');
      toSubscribed.push(subscribedAt - t0);
      toLaunch.push(launchedAt - t0);
    }
  } finally {
    await sched.stop().catch(() => 0);
    await cluster.stop();
  }
  const notes = `${trials} leader changes between two emulated masters; the scheduler has both (static list, 307 to the leader); default backoff (500 ms first step, jitter 0.2); allocation every 50 ms`;
  return {
    figures: [
      figure({
        id: 'failover.subscribed.max', name: 'Failover: new leader reachable → SUBSCRIBED (worst of trials)', value: Math.max(...toSubscribed), unit: 'ms',
        target: FAILOVER_TARGET, notes, detail: { trials: toSubscribed, median: median(toSubscribed) },
      }),
      figure({
        id: 'failover.subscribed.p50', name: 'Failover: new leader reachable → SUBSCRIBED (median)', value: median(toSubscribed), unit: 'ms', notes,
      }),
      figure({
        id: 'failover.launch.p50', name: 'Failover: new leader reachable → first launch after it (median)', value: median(toLaunch), unit: 'ms', notes,
        detail: { trials: toLaunch, max: percentile(toLaunch, 100) },
      }),
    ],
    method: [`Failover: ${notes}. Timed with the runtime's subscribed and taskLaunched signals from the moment the emulator switched leaders.`],
  };
}
