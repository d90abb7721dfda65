/**
 * Offer hold p99, timed at the master (latency-recorder.ts): per offer, from
 * the OFFERS event that carried it written to the ACCEPT or DECLINE naming it
 * accepted by the master. An accepted offer's hold includes the launch's
 * write-ahead to the scheduler's state on disk.
 *
 * Workload: the CLI runs rounds of 20 one-CPU tasks (0.1 s each, no cooldown)
 * against `local-master --mode simulated` with N agents of 4 CPUs (N = 10 and
 * 1,000): each round REVIVEs, gets one OFFERS event with every agent, ACCEPTs
 * five offers and DECLINEs the rest. Only events of exactly N offers count;
 * the first round (JIT warm-up, first state write) is left out.
 *
 * Limit: right after, against the same master process, a do-nothing client
 * doing the same with no state (ACCEPT five offers with four tasks each,
 * DECLINE the rest) for as many full events.
 */
import { CliProcess, exitWithin } from '../lib/cli-process.js';
import { withMaster, type MasterProcess } from '../lib/master-process.js';
import { envInt, envList, type BenchOptions } from '../lib/options.js';
import { EVENT, RawClient, rawTaskInfo } from '../lib/raw-client.js';
import { figure, notMeasured, type Figure, type FigureOutput, type Target } from '../lib/results.js';
import { sleep, until } from '../lib/stats.js';
import type { LatencyStats, LatencySummary } from '../../src/emulator/latency-recorder.js';

/** The targets by offers per event: declined, accepted (ms, p99). */
function targets(offers: number): { declined: Target; accepted: Target } {
  const small = offers <= 10;
  const d = small ? 5 : 20;
  const a = small ? 10 : 30;
  return {
    declined: { kind: 'max<', value: d, text: `p99 < ${d} ms` },
    accepted: { kind: 'max<', value: a, text: `p99 < ${a} ms (write-ahead on disk included)` },
  };
}

function holdsOf(s: LatencySummary, offers: number): { ACCEPT?: LatencyStats; DECLINE?: LatencyStats } {
  return s.holds[String(offers)] ?? {};
}

/** The do-nothing client: `events` full events, five offers accepted with four 0.1 s tasks each, the rest declined. */
async function rawHold(m: MasterProcess, agents: number, events: number, connections: number): Promise<void> {
  const client = new RawClient(m.url, { name: 'raw-hold', connections });
  let full = 0;
  let seq = 0;
  try {
    await client.subscribe((event) => {
      if (event.type !== EVENT.OFFERS || !event.offers) return;
      const offers = event.offers.offers;
      if (offers.length === agents) full += 1;
      const accept = offers.slice(0, 5);
      for (const o of accept) {
        void client.launch(o.id.value, Array.from({ length: 4 }, () => rawTaskInfo(`raw-hold-${++seq}`, o.agent_id.value, 1, 64)), 0);
      }
      const rest = offers.slice(5).map((o) => o.id.value);
      if (rest.length > 0) void client.declineAll(rest, 0);
    });
    await until(() => full >= events, 120_000, `${events} full OFFERS events (do-nothing client)`, 10);
  } finally {
    await client.close();
  }
}

export async function runHoldTime(opts: BenchOptions): Promise<FigureOutput> {
  const sizes = envList('BENCH_HOLD_AGENTS', [10, 1000]);
  const rounds = envInt('BENCH_HOLD_ROUNDS', opts.quick ? 5 : 20);
  const figures: Figure[] = [];
  for (const agents of sizes) {
    const t = targets(agents);
    const names = {
      declined: `Offer hold p99, events of ${agents.toLocaleString('en-US')} offers, declined (at the master)`,
      accepted: `Offer hold p99, events of ${agents.toLocaleString('en-US')} offers, accepted (at the master)`,
    };
    opts.log(`hold: ${agents} agents, ${rounds} rounds`);
    try {
      await withMaster({ agents, cpus: 4, mem: 4096, taskSeconds: 0.1, allocationIntervalMs: 20 }, async (m) => {
        // One more round than measured: the first (JIT warm-up, first write of the state) is left out.
        const cli = CliProcess.start({ master: m.url, maxtasks: 20, rounds: rounds + 1, waitSeconds: 0, cpu: 1, mem: 64, name: `hold-${agents}` });
        try {
          for (;;) {
            if ((await m.latency()).offerEvents.count >= 1) { await m.resetLatency(); break; }
            if (await Promise.race([cli.exit.then(() => true), sleep(10).then(() => false)])) break;
          }
          const exit = await exitWithin(cli, 300_000, `${rounds} rounds of 20 tasks`);
          if (exit.code !== 0) throw new Error(`the CLI exited ${exit.code ?? exit.signal}: ${cli.logTail()}`);
        } finally {
          await cli.dispose();
        }
        const ours = await m.latency();
        const connections = Math.max(1, ours.callConnections);
        await m.resetLatency();
        await rawHold(m, agents, rounds, connections);
        const raw = await m.latency();
        const h = holdsOf(ours, agents);
        const r = holdsOf(raw, agents);
        const sizes = Object.keys(ours.holds).join(', ');
        const notes = (kind: string) => `${h[kind === 'declined' ? 'DECLINE' : 'ACCEPT']?.count ?? 0} offers ${kind} in OFFERS events of exactly ${agents} offers (event sizes seen: ${sizes}); ${rounds} rounds of 20 one-CPU tasks on ${agents} agents of 4 CPUs; CLI with state on disk and JSON log`;
        figures.push(figure({
          id: `hold.${agents}.declined`, name: names.declined, value: h.DECLINE?.p99 ?? Number.NaN, unit: 'ms',
          limit: r.DECLINE?.p99 ?? null, limitName: 'do-nothing client, same master process, same events (p99)', target: t.declined,
          notes: notes('declined'), detail: { scheduler: h.DECLINE, doNothing: r.DECLINE },
        }));
        figures.push(figure({
          id: `hold.${agents}.accepted`, name: names.accepted, value: h.ACCEPT?.p99 ?? Number.NaN, unit: 'ms',
          limit: r.ACCEPT?.p99 ?? null, limitName: 'do-nothing client (no state, nothing written), same master process, same events (p99)', target: t.accepted,
          notes: notes('accepted'), detail: { scheduler: h.ACCEPT, doNothing: r.ACCEPT },
        }));
      });
    } catch (err) {
      const why = (err as Error).message.slice(0, 400);
      figures.push(notMeasured(`hold.${agents}.declined`, names.declined, 'ms', why, t.declined));
      figures.push(notMeasured(`hold.${agents}.accepted`, names.accepted, 'ms', why, t.accepted));
    }
  }
  return {
    figures,
    method: [
      `Offer hold: \`local-master --mode simulated\` in its own process with N agents of 4 CPUs (N = ${sizes.join(', ')}); the CLI runs ${rounds} rounds of 20 one-CPU tasks of 0.1 s with no cooldown, so every round gets one OFFERS event with every agent, ACCEPTs five (after the launch's write-ahead) and DECLINEs the rest. The master times each offer from the event written to the call that answers it; p99 over events of exactly N offers. Limit: a do-nothing client doing the same against the same master right after.`,
    ],
  };
}
