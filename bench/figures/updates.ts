/**
 * Status updates handled per second, acknowledgements included.
 *
 * Workload: one round of M tasks on a simulated emulator whose tasks end at
 * once (simulatedTaskMs 0), so each task sends STARTING, RUNNING and FINISHED,
 * each with a uuid to ACKNOWLEDGE (one in flight per task, as Mesos agents
 * do). The scheduler persists every update to its state file before the ACK,
 * as in production. Rate = ACKs accepted / (first UPDATE written → last ACK
 * accepted), timed at the emulator.
 *
 * Limit: a do-nothing client POSTing the same number of ACKNOWLEDGE calls to
 * the same kind of emulator, over one keep-alive connection, in order (the
 * raw call rate). Detail also shows a minimal client doing the full cycle
 * (ACCEPT the same tasks, ACK each update at once, no state) for reference.
 */
import { startCluster, type Cluster } from '../../src/emulator/index.js';
import { EVENT, RawClient, randomUuid } from '../lib/raw-client.js';
import { envList, type BenchOptions } from '../lib/options.js';
import { figure, type Figure, type FigureOutput, type PlotSeries } from '../lib/results.js';
import { startScheduler, type SchedulerVariant } from '../lib/scheduler-run.js';
import { nowMs, until } from '../lib/stats.js';
import { EmulatorTap } from '../lib/tap.js';

export const UPDATES_TARGET = { kind: 'ratio>=' as const, value: 0.8, text: '>= 80% of the raw ACKNOWLEDGE call rate' };

export function updateCluster(tasks: number): Promise<Cluster> {
  return startCluster({
    mode: 'simulated', simulatedTaskMs: 0, agents: Math.max(1, Math.ceil(tasks / 4)), cpusPerAgent: 4, memPerAgent: 4096,
    diskPerAgent: 1024, allocationIntervalMs: 20, heartbeatIntervalSeconds: 15, agentRetryMs: 60_000,
  });
}

/** Counts UPDATE events written to one framework and the ACKs accepted from it. */
export class UpdateMeter {
  firstUpdate = Number.NaN;
  lastAck = Number.NaN;
  updates = 0;
  acks = 0;
  private readonly off: Array<() => void> = [];

  constructor(tap: EmulatorTap, frameworkId: () => string | undefined) {
    this.off.push(tap.onEvent((e) => {
      if (e.event.type !== 'UPDATE' || e.frameworkId !== frameworkId() || !e.event.update?.status.uuid) return;
      if (this.updates === 0) this.firstUpdate = e.at;
      this.updates += 1;
    }));
    this.off.push(tap.onCallReceived((c) => {
      if (c.call.type !== 'ACKNOWLEDGE') return;
      this.acks += 1;
      this.lastAck = c.at;
    }));
  }

  rate(): number {
    const ms = this.lastAck - this.firstUpdate;
    return ms > 0 ? (this.acks * 1000) / ms : Number.NaN;
  }

  close(): void {
    for (const f of this.off) f();
  }
}

export async function schedulerUpdateTrial(tasks: number, format: 'protobuf' | 'json' = 'protobuf', variant: SchedulerVariant = {}): Promise<{ rate: number; acks: number; writes: number; writeMs: number }> {
  const cluster = await updateCluster(tasks);
  const tap = new EmulatorTap(cluster);
  const sched = startScheduler([cluster.leaderUrl()!], {
    cpu: '1', mem: '64', maxtasks: String(tasks), rounds: '1', wait: '0', name: `updates-${tasks}`, contentType: format,
  }, undefined, variant);
  const meter = new UpdateMeter(tap, () => sched.frameworkId());
  try {
    await until(() => meter.acks >= tasks * 3, 300_000, `${tasks * 3} acknowledgements (scheduler)`);
    const w = sched.writes();
    return { rate: meter.rate(), acks: meter.acks, writes: w.count, writeMs: w.ms };
  } finally {
    meter.close();
    await sched.stop();
    tap.close();
    await cluster.stop();
  }
}

/** The raw call rate: `calls` ACKNOWLEDGE POSTs (random uuids), one connection, in order. */
export async function rawAckTrial(tasks: number, calls: number): Promise<number> {
  const cluster = await updateCluster(tasks);
  const client = new RawClient(cluster.leaderUrl()!, { name: 'raw-acks' });
  try {
    await client.subscribe(() => {});
    const agentId = cluster.agents()[0]!.id;
    // Warm up the connection and the JIT.
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.acknowledge(agentId, `warm-${i}`, randomUuid())));
    const start = nowMs();
    const statuses = await Promise.all(Array.from({ length: calls }, (_, i) => client.acknowledge(agentId, `t-${i}`, randomUuid())));
    const ms = nowMs() - start;
    const bad = statuses.filter((s) => s !== 202).length;
    if (bad > 0) throw new Error(`${bad} ACKNOWLEDGE calls not accepted`);
    return (calls * 1000) / ms;
  } finally {
    await client.close();
    await cluster.stop();
  }
}

/** A minimal full cycle: ACCEPT the same tasks, ACK every update at once; no state, no machines. */
export async function rawCycleTrial(tasks: number): Promise<number> {
  const cluster = await updateCluster(tasks);
  const tap = new EmulatorTap(cluster);
  const client = new RawClient(cluster.leaderUrl()!, { name: 'raw-cycle' });
  const meter = new UpdateMeter(tap, () => client.frameworkId);
  let launched = 0;
  try {
    await client.subscribe((event) => {
      if (event.type === EVENT.OFFERS && event.offers) {
        const accept: string[] = [];
        const infos: Record<string, unknown>[] = [];
        for (const offer of event.offers.offers) {
          const fit = Math.min(4, tasks - launched);
          if (fit <= 0) break;
          accept.push(offer.id.value);
          for (let i = 0; i < fit; i++) {
            launched += 1;
            infos.push({
              name: `t${launched}`, task_id: { value: `raw-${launched}` }, agent_id: { value: offer.agent_id.value },
              resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }],
              command: { value: 'true' },
            });
          }
        }
        const declined = event.offers.offers.map((o) => o.id.value).filter((id) => !accept.includes(id));
        // One ACCEPT per offer, as the scheduler sends.
        for (const offerId of accept) {
          const mine = infos.filter((t) => (t['agent_id'] as { value: string }).value === event.offers!.offers.find((o) => o.id.value === offerId)!.agent_id.value);
          void client.call({ type: 'ACCEPT', accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: mine } }], filters: { refuse_seconds: 3600 } } });
        }
        if (declined.length > 0) void client.declineAll(declined, 3600);
      } else if (event.type === EVENT.UPDATE && event.update) {
        const s = event.update.status;
        if (s.uuid && s.uuid.length > 0 && s.agent_id) void client.acknowledge(s.agent_id.value, s.task_id.value, s.uuid);
      }
    });
    await until(() => meter.acks >= tasks * 3, 300_000, `${tasks * 3} acknowledgements (raw cycle)`);
    return meter.rate();
  } finally {
    meter.close();
    await client.close();
    tap.close();
    await cluster.stop();
  }
}

export async function runUpdates(opts: BenchOptions): Promise<FigureOutput> {
  const sizes = envList('BENCH_UPDATE_TASKS', opts.quick ? [50, 200] : [100, 300, 600]);
  const figures: Figure[] = [];
  const series: PlotSeries[] = [
    { chart: 'updates', name: 'scheduler', points: [] },
    { chart: 'updates', name: 'raw ACK call rate', points: [] },
    { chart: 'updates', name: 'raw launch+ACK cycle', points: [] },
  ];
  for (const tasks of sizes) {
    opts.log(`updates: ${tasks} tasks (${tasks * 3} updates)`);
    const raw1 = await rawAckTrial(tasks, tasks * 3);
    const sched = await schedulerUpdateTrial(tasks);
    const raw2 = await rawAckTrial(tasks, tasks * 3);
    const cycle = await rawCycleTrial(tasks);
    const limit = (raw1 + raw2) / 2;
    figures.push(figure({
      id: `updates.${tasks}`, name: `Status updates handled per second (with ACK), ${tasks} tasks in flight`, value: sched.rate, unit: 'updates/s',
      limit, limitName: 'do-nothing client POSTing the same number of ACKNOWLEDGE calls (one connection, in order)', target: UPDATES_TARGET,
      notes: `${sched.acks} updates (STARTING, RUNNING, FINISHED of ${tasks} tasks launched at once); the ACK of each FINISHED goes out only after a state file write (fsync) that includes it, the others at once; ${sched.writes} writes took ${sched.writeMs.toFixed(0)} ms`,
      detail: { rawAckRuns: [raw1, raw2], rawCycle: cycle, stateWrites: sched.writes, stateWriteMs: sched.writeMs, ratioToRawCycle: cycle > 0 ? sched.rate / cycle : null },
    }));
    series[0]!.points.push([tasks, sched.rate]);
    series[1]!.points.push([tasks, limit]);
    series[2]!.points.push([tasks, cycle]);
  }
  return {
    figures, series,
    method: [
      'Status updates: one round of M tasks (simulated, 0 ms long) so every task sends STARTING, RUNNING, FINISHED at once; each FINISHED is ACKed after the state file write that records it, STARTING and RUNNING at once. Rate = ACKs / (first UPDATE written → last ACK accepted) at the emulator. Limit: a do-nothing client POSTing 3M ACKNOWLEDGE calls over one keep-alive connection in order (the raw call rate), before and after. "raw launch+ACK cycle" is a minimal client doing the same launch and ACKs with no state.',
    ],
  };
}
