/**
 * Offer hold time: from an offer's arrival to the ACCEPT or DECLINE that
 * answers it — the figure behind "the job holds no resources it does not use".
 *
 * Workload: the real scheduler running rounds of tasks (20 tasks of 1 CPU per
 * round, no cooldown, simulated tasks of 100 ms) against an emulator with N
 * agents of 4 CPUs: each round REVIVEs, gets one OFFERS event with every
 * agent, ACCEPTs a few offers (state written ahead) and DECLINEs the rest.
 *
 * Two measurements of the same run:
 * - runtime: the runtime's own signal (offerAccepted/offerDeclined heldMs:
 *   OFFERS event decoded → ACCEPT/DECLINE handed to the HTTP client), per offer;
 * - wire: at the emulator, OFFERS written → answering call accepted, per event
 *   (includes decoding, the call's HTTP round trip and the master's parsing).
 */
import { startCluster } from '../../src/emulator/index.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, type FigureOutput } from '../lib/results.js';
import { startScheduler } from '../lib/scheduler-run.js';
import { percentile } from '../lib/stats.js';
import { EmulatorTap, OfferSpans } from '../lib/tap.js';

export const HOLD_TARGET = { kind: 'max<' as const, value: 5, text: 'p99 < 5 ms' };

export async function runHoldTime(opts: BenchOptions): Promise<FigureOutput> {
  const agents = envInt('BENCH_HOLD_AGENTS', opts.quick ? 100 : 1000);
  const rounds = envInt('BENCH_HOLD_ROUNDS', opts.quick ? 4 : 20);
  opts.log(`hold time: ${agents} agents, ${rounds} rounds`);
  const cluster = await startCluster({
    mode: 'simulated', simulatedTaskMs: 100, agents, cpusPerAgent: 4, memPerAgent: 4096, diskPerAgent: 1024,
    allocationIntervalMs: 20, heartbeatIntervalSeconds: 15, agentRetryMs: 60_000,
  });
  const tap = new EmulatorTap(cluster);
  const sched = startScheduler([cluster.leaderUrl()!], {
    cpu: '1', mem: '64', maxtasks: '20', rounds: String(rounds), wait: '0', name: 'hold-time',
  });
  const spans = new OfferSpans(tap, () => sched.frameworkId());
  const accepted: number[] = [];
  const declined: number[] = [];
  sched.signals.on('offerAccepted', (a) => accepted.push(a.heldMs));
  sched.signals.on('offerDeclined', (d) => declined.push(d.heldMs));
  let code: number;
  try {
    code = await Promise.race([
      sched.exit,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('hold-time run did not finish in 5 minutes')), 300_000).unref()),
    ]);
  } finally {
    spans.close();
    tap.close();
    await sched.stop().catch(() => 0);
    await cluster.stop();
  }
  // Leave out the first round (JIT warm-up).
  const all = [...accepted, ...declined];
  const wire = spans.spans.slice(1).map((s) => s.ms);
  const detail = {
    exitCode: code, offers: all.length, events: spans.spans.length,
    acceptedP50: percentile(accepted, 50), acceptedP99: percentile(accepted, 99),
    declinedP50: percentile(declined, 50), declinedP99: percentile(declined, 99), max: percentile(all, 100),
  };
  const notes = `${rounds} rounds of 20 tasks on ${agents} agents (${all.length} offers answered); runtime signal heldMs, OFFERS decoded → call handed to the HTTP client`;
  return {
    figures: [
      figure({ id: 'hold.p50', name: 'Offer hold time p50 (runtime signal)', value: percentile(all, 50), unit: 'ms', notes, detail }),
      figure({ id: 'hold.p99', name: 'Offer hold time p99 (runtime signal)', value: percentile(all, 99), unit: 'ms', target: HOLD_TARGET, notes, detail }),
      figure({
        id: 'hold.wire.p50', name: 'Offer hold time p50, at the emulator (event written → answer accepted)', value: percentile(wire, 50), unit: 'ms',
        notes: `per OFFERS event of ${agents} offers, first round left out`,
      }),
      figure({
        id: 'hold.wire.p99', name: 'Offer hold time p99, at the emulator (event written → answer accepted)', value: percentile(wire, 99), unit: 'ms',
        target: HOLD_TARGET, notes: `per OFFERS event of ${agents} offers, first round left out; includes decoding ${agents} offers and the HTTP round trip`,
      }),
    ],
    method: [
      `Offer hold time: the scheduler runs ${rounds} rounds of 20 one-CPU tasks (100 ms each, no cooldown) on ${agents} agents of 4 CPUs; every round gets one OFFERS event with every agent, ACCEPTs a few (state written ahead) and DECLINEs the rest. Runtime figure: the runtime's heldMs signal per offer; wire figure: emulator-side span per event.`,
    ],
  };
}
