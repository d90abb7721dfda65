/**
 * Offers handled per second with N agents: every allocation offers each agent
 * in one OFFERS event; the client decodes it, decides, and answers.
 *
 * Workload (the same for the scheduler and the limit): the job's task needs
 * 2 CPUs and agents have 1, so nothing fits and every offer is declined with
 * refuse_seconds 0 (timing.declineWantedSeconds = 0); the next allocation
 * offers every agent again. The scheduler goes through everything it does
 * for real offers (codec toObject, machines, offer planning, DECLINE built
 * and sent by the runtime).
 *
 * Limit: the do-nothing client (protobufjs decode only, one DECLINE of every
 * offer id per event) against a fresh emulator of the same size, measured
 * before and after the scheduler. Both are timed at the emulator (event
 * written → answering call accepted). A second, upper limit: decoding the
 * captured byte stream (RecordIO + protobufjs) with no I/O at all.
 */
import { startCluster, type Cluster } from '../../src/emulator/index.js';
import { RawClient, EVENT, EventType } from '../lib/raw-client.js';
import { RecordIODecoder } from '../../src/mesos/recordio.js';
import { figure, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';
import { startScheduler } from '../lib/scheduler-run.js';
import { nowMs, percentile, until } from '../lib/stats.js';
import { EmulatorTap, OfferSpans } from '../lib/tap.js';
import { envInt, envList, type BenchOptions } from '../lib/options.js';

export const OFFERS_TARGET = { kind: 'ratio>=' as const, value: 0.5, text: '>= 50% of the do-nothing client (decode + one DECLINE per event)' };

export function offerCluster(agents: number, masters = 1): Promise<Cluster> {
  return startCluster({
    mode: 'simulated', agents, masters, cpusPerAgent: 1, memPerAgent: 1024, diskPerAgent: 1024,
    allocationIntervalMs: 20, heartbeatIntervalSeconds: 15, agentRetryMs: 60_000,
  });
}

/** Events left out at the start of every trial (JIT warm-up, first allocation). */
const WARMUP = 2;

interface Trial { spans: Array<{ offers: number; ms: number }>; captured: Buffer[]; holds: number[] }

function rateOf(spans: Array<{ offers: number; ms: number }>): number {
  let offers = 0;
  let ms = 0;
  for (const s of spans) { offers += s.offers; ms += s.ms; }
  return ms > 0 ? (offers * 1000) / ms : Number.NaN;
}

export async function rawOfferTrial(agents: number, events: number, capture: boolean): Promise<Trial> {
  const cluster = await offerCluster(agents);
  const tap = new EmulatorTap(cluster);
  const client = new RawClient(cluster.leaderUrl()!, { capture, name: 'raw-offers' });
  const spans = new OfferSpans(tap, () => client.frameworkId);
  try {
    await client.subscribe((event) => {
      if (event.type !== EVENT.OFFERS || !event.offers) return;
      void client.declineAll(event.offers.offers.map((o) => o.id.value));
    });
    await until(() => spans.events >= events + WARMUP, 120_000, `${events} offer events (raw client)`);
    return { spans: spans.spans.slice(WARMUP, events + WARMUP), captured: client.captured, holds: [] };
  } finally {
    spans.close();
    await client.close();
    tap.close();
    await cluster.stop();
  }
}

export async function schedulerOfferTrial(agents: number, events: number, format: 'protobuf' | 'json' = 'protobuf'): Promise<Trial> {
  const cluster = await offerCluster(agents);
  const tap = new EmulatorTap(cluster);
  const sched = startScheduler([cluster.leaderUrl()!], {
    cpu: '2', mem: '64', maxtasks: '1', rounds: '1', wait: '0', name: `offers-${agents}`, contentType: format,
  }, { declineWantedSeconds: 0 });
  const holds: number[] = [];
  sched.signals.on('offerDeclined', (d) => holds.push(d.heldMs));
  sched.signals.on('offerAccepted', (d) => holds.push(d.heldMs));
  const spans = new OfferSpans(tap, () => sched.frameworkId());
  try {
    await until(() => spans.events >= events + WARMUP, 180_000, `${events} offer events (scheduler)`);
    return { spans: spans.spans.slice(WARMUP, events + WARMUP), captured: [], holds };
  } finally {
    spans.close();
    await sched.stop();
    tap.close();
    await cluster.stop();
  }
}

/** Offers per second decoding the captured stream: RecordIO + protobufjs decode, nothing else. */
export function decodeOnlyRate(captured: Buffer[]): number {
  let best = 0;
  for (let rep = 0; rep < 5; rep++) {
    const start = nowMs();
    let offers = 0;
    const decoder = new RecordIODecoder();
    for (const chunk of captured) {
      for (const record of decoder.push(chunk)) {
        const ev = EventType.decode(record) as unknown as { type: number; offers?: { offers: unknown[] } };
        if (ev.type === EVENT.OFFERS) offers += ev.offers?.offers.length ?? 0;
      }
    }
    const ms = nowMs() - start;
    if (ms > 0) best = Math.max(best, (offers * 1000) / ms);
  }
  return best;
}

export async function runOffers(opts: BenchOptions): Promise<FigureOutput> {
  const sizes = envList('BENCH_AGENTS', opts.quick ? [200, 1000] : [1000, 10_000]);
  const figures: Figure[] = [];
  const series: PlotSeries[] = [
    { chart: 'offers', name: 'scheduler', points: [] },
    { chart: 'offers', name: 'do-nothing client', points: [] },
    { chart: 'offers', name: 'decode only (protobufjs)', points: [] },
  ];
  for (const agents of sizes) {
    const events = envInt('BENCH_OFFER_EVENTS', opts.quick ? 4 : agents >= 10_000 ? 10 : 30);
    const half = Math.max(2, Math.ceil(events / 2));
    opts.log(`offers: ${agents} agents, ${events} events`);
    const raw1 = await rawOfferTrial(agents, half, true);
    const sched = await schedulerOfferTrial(agents, events);
    const raw2 = await rawOfferTrial(agents, half, false);
    const limit = rateOf([...raw1.spans, ...raw2.spans]);
    const value = rateOf(sched.spans);
    const decode = decodeOnlyRate(raw1.captured);
    const spanMs = sched.spans.map((s) => s.ms);
    figures.push(figure({
      id: `offers.${agents}`, name: `Offers handled per second, ${agents} agents`, value, unit: 'offers/s',
      limit, limitName: 'do-nothing client (protobufjs decode, one DECLINE per event), same emulator', target: OFFERS_TARGET,
      notes: `${sched.spans.length} OFFERS events of ${agents} offers each, every offer declined; timed at the emulator from the event written to the DECLINE accepted`,
      detail: {
        schedulerRuns: [rateOf(sched.spans)], rawRuns: [rateOf(raw1.spans), rateOf(raw2.spans)], decodeOnly: decode,
        ratioToDecodeOnly: decode > 0 ? value / decode : null,
        eventMsP50: percentile(spanMs, 50), eventMsP99: percentile(spanMs, 99),
        runtimeHoldMsP50: percentile(sched.holds, 50), runtimeHoldMsP99: percentile(sched.holds, 99),
      },
    }));
    figures.push(figure({
      id: `offers.decode.${agents}`, name: `Decode-only limit, ${agents}-offer events (RecordIO + protobufjs, no I/O)`, value: decode, unit: 'offers/s',
      notes: 'upper bound: decoding the byte stream captured from the emulator, nothing else; the scheduler\'s ratio to it is in offers detail',
    }));
    series[0]!.points.push([agents, value]);
    series[1]!.points.push([agents, limit]);
    series[2]!.points.push([agents, decode]);
  }
  return {
    figures, series,
    method: [
      'Offers: simulated emulator with N agents of 1 CPU, allocation every 20 ms; the job asks for 2-CPU tasks, so every offer is declined with refuse_seconds 0 and re-offered at the next allocation. Throughput = offers / sum over events of (emulator wrote OFFERS → emulator accepted the DECLINE). Limit: a do-nothing client (protobufjs decode, one DECLINE per event), run before and after the scheduler on a fresh emulator of the same size.',
    ],
  };
}
