/**
 * Times, at the master, how long schedulers take to answer it: for the
 * benchmarks (`npm run bench`), which run the master in its own process and
 * read this through the admin endpoint (GET /emulator/latency).
 *
 * - Offer hold: per offer, from the OFFERS event that carried it written to
 *   the stream to the ACCEPT or DECLINE naming it accepted by the master,
 *   grouped by the number of offers in the event and by the answer.
 * - Update to ACK: per status update with a uuid, from the UPDATE written to
 *   its ACKNOWLEDGE accepted, apart for terminal and other states.
 * - Counters: events and calls by type, tasks launched and tasks named in
 *   RECONCILE calls, the first OFFERS and UPDATE written and the last ACCEPT
 *   and ACKNOWLEDGE accepted (for rates), offers answered per event (for
 *   offers per second), and the client connections (remote ports) that
 *   carried calls.
 * - Probes: status updates and task ends made on demand for running tasks,
 *   one at a time, each timed from its UPDATE written to its ACK.
 *
 * Times are milliseconds of this process's monotonic clock (performance.now),
 * except `subscriptions[].wallMs` (Date.now, to compare with other processes).
 * Samples are kept up to a cap per group; counters go on past it.
 */
import { performance } from 'node:perf_hooks';
import type { Call, Event } from '../mesos/types.js';
import type { MasterCore } from './master.js';
import { isTerminalState } from './task-states.js';

const MAX_SAMPLES = 500_000;

export interface LatencyStats { count: number; mean: number; p50: number; p90: number; p99: number; max: number }

export interface LatencySummary {
  events: Record<string, number>;
  calls: Record<string, number>;
  tasksLaunched: number;
  /** Tasks named in RECONCILE calls (an explicit reconciliation lists the tasks a scheduler knows). */
  reconcileTasks: number;
  firstOffersMs: number | null;
  lastAcceptMs: number | null;
  firstUpdateMs: number | null;
  lastAckMs: number | null;
  /** Offers answered per second over the events answered in full: offers / sum of (last answer − event written). */
  offerEvents: { count: number; offers: number; busyMs: number };
  /** Offer hold by event size (offers per event), then by answer. */
  holds: Record<string, { ACCEPT?: LatencyStats; DECLINE?: LatencyStats }>;
  updateToAck: { terminal: LatencyStats; other: LatencyStats; unanswered: number };
  /** Distinct client connections (remote ports) that carried non-SUBSCRIBE calls. */
  callConnections: number;
  subscriptions: Array<{ wallMs: number; frameworkId: string | null }>;
}

function stats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) return { count: 0, mean: Number.NaN, p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, mean: sum / sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]! };
}

function push(samples: number[], v: number): void {
  if (samples.length < MAX_SAMPLES) samples.push(v);
}

interface OfferEvent { at: number; size: number; left: number; last: number }

export type ProbeKind = 'update' | 'end';

export class LatencyRecorder {
  private events = new Map<string, number>();
  private calls = new Map<string, number>();
  private tasksLaunched = 0;
  private reconcileTasks = 0;
  private firstOffers: number | undefined;
  private lastAccept: number | undefined;
  private firstUpdate: number | undefined;
  private lastAck: number | undefined;
  private offerEventOf = new Map<string, OfferEvent>();
  private offerTotals = { count: 0, offers: 0, busyMs: 0 };
  private holds = new Map<number, { ACCEPT: number[]; DECLINE: number[] }>();
  /** `${taskId}\0${uuid}` of UPDATEs written and not yet acknowledged. */
  private pendingUpdates = new Map<string, { at: number; terminal: boolean }>();
  private terminalAcks: number[] = [];
  private otherAcks: number[] = [];
  private connections = new Set<number>();
  private subscriptions: Array<{ wallMs: number; frameworkId: string | null }> = [];
  /** Probes waiting for the ACK of an update of their task. */
  private probeWaiters = new Map<string, (ms: number) => void>();

  constructor(private readonly core: MasterCore) {}

  /** The master wrote `event` to a framework's stream. */
  eventSent(event: Event): void {
    const now = performance.now();
    const type = event.type ?? 'UNKNOWN';
    this.events.set(type, (this.events.get(type) ?? 0) + 1);
    if (event.type === 'OFFERS') {
      const offers = event.offers?.offers ?? [];
      if (offers.length === 0) return;
      this.firstOffers ??= now;
      const rec: OfferEvent = { at: now, size: offers.length, left: offers.length, last: now };
      for (const o of offers) this.offerEventOf.set(o.id.value, rec);
    } else if (event.type === 'UPDATE') {
      const status = event.update?.status;
      if (!status?.uuid) return;
      this.firstUpdate ??= now;
      this.pendingUpdates.set(`${status.task_id.value}\u0000${status.uuid}`, { at: now, terminal: isTerminalState(status.state) });
    }
  }

  /** The master accepted `call` (decoded and validated), from the connection at `remotePort`. */
  callAccepted(call: Call, remotePort: number | undefined): void {
    const now = performance.now();
    const type = call.type ?? 'UNKNOWN';
    this.calls.set(type, (this.calls.get(type) ?? 0) + 1);
    if (call.type === 'SUBSCRIBE') {
      this.subscriptions.push({ wallMs: Date.now(), frameworkId: call.subscribe?.framework_info.id?.value ?? null });
      return;
    }
    if (remotePort !== undefined) this.connections.add(remotePort);
    if (call.type === 'ACCEPT' || call.type === 'DECLINE') {
      if (call.type === 'ACCEPT') {
        this.lastAccept = now;
        for (const op of call.accept?.operations ?? []) this.tasksLaunched += op.launch?.task_infos?.length ?? 0;
      }
      const ids = (call.type === 'ACCEPT' ? call.accept?.offer_ids : call.decline?.offer_ids) ?? [];
      for (const { value } of ids) this.offerAnswered(value, call.type, now);
    } else if (call.type === 'RECONCILE') {
      this.reconcileTasks += call.reconcile?.tasks?.length ?? 0;
    } else if (call.type === 'ACKNOWLEDGE' && call.acknowledge) {
      this.lastAck = now;
      const taskId = call.acknowledge.task_id.value;
      const key = `${taskId}\u0000${call.acknowledge.uuid}`;
      const pending = this.pendingUpdates.get(key);
      if (!pending) return;
      this.pendingUpdates.delete(key);
      const ms = now - pending.at;
      push(pending.terminal ? this.terminalAcks : this.otherAcks, ms);
      const waiter = this.probeWaiters.get(taskId);
      if (waiter) { this.probeWaiters.delete(taskId); waiter(ms); }
    }
  }

  private offerAnswered(offerId: string, kind: 'ACCEPT' | 'DECLINE', now: number): void {
    const rec = this.offerEventOf.get(offerId);
    if (!rec) return;
    this.offerEventOf.delete(offerId);
    let bySize = this.holds.get(rec.size);
    if (!bySize) { bySize = { ACCEPT: [], DECLINE: [] }; this.holds.set(rec.size, bySize); }
    push(bySize[kind], now - rec.at);
    rec.left -= 1;
    rec.last = now;
    if (rec.left === 0) {
      this.offerTotals.count += 1;
      this.offerTotals.offers += rec.size;
      this.offerTotals.busyMs += rec.last - rec.at;
    }
  }

  reset(): void {
    this.events.clear();
    this.calls.clear();
    this.tasksLaunched = 0;
    this.reconcileTasks = 0;
    this.firstOffers = this.lastAccept = this.firstUpdate = this.lastAck = undefined;
    this.offerEventOf.clear();
    this.offerTotals = { count: 0, offers: 0, busyMs: 0 };
    this.holds.clear();
    this.pendingUpdates.clear();
    this.terminalAcks = [];
    this.otherAcks = [];
    this.connections.clear();
    this.subscriptions = [];
  }

  summary(): LatencySummary {
    const holds: LatencySummary['holds'] = {};
    for (const [size, h] of [...this.holds].sort((a, b) => a[0] - b[0])) {
      holds[String(size)] = {
        ...(h.ACCEPT.length > 0 ? { ACCEPT: stats(h.ACCEPT) } : {}),
        ...(h.DECLINE.length > 0 ? { DECLINE: stats(h.DECLINE) } : {}),
      };
    }
    return {
      events: Object.fromEntries(this.events),
      calls: Object.fromEntries(this.calls),
      tasksLaunched: this.tasksLaunched,
      reconcileTasks: this.reconcileTasks,
      firstOffersMs: this.firstOffers ?? null,
      lastAcceptMs: this.lastAccept ?? null,
      firstUpdateMs: this.firstUpdate ?? null,
      lastAckMs: this.lastAck ?? null,
      offerEvents: { ...this.offerTotals },
      holds,
      updateToAck: { terminal: stats(this.terminalAcks), other: stats(this.otherAcks), unanswered: this.pendingUpdates.size },
      callConnections: this.connections.size,
      subscriptions: [...this.subscriptions],
    };
  }

  /** Tasks of connected frameworks by state, and how many have an update awaiting its ACK. */
  taskCounts(): { byState: Record<string, number>; awaitingAck: number } {
    const byState: Record<string, number> = {};
    let awaitingAck = 0;
    for (const fw of this.core.frameworks.values()) {
      for (const t of fw.tasks.values()) {
        byState[t.state] = (byState[t.state] ?? 0) + 1;
        if (t.statusUpdateState !== undefined) awaitingAck += 1;
      }
    }
    return { byState, awaitingAck };
  }

  /**
   * `count` probes, one at a time, on running tasks whose updates are all
   * acknowledged: 'update' has the agent send another TASK_RUNNING (as a
   * health check does), 'end' kills the task on its agent (TASK_KILLED, as if
   * the command was killed there). Each is timed from its UPDATE written to its
   * ACK; a probe unanswered within `timeoutMs` ends the series, and so does
   * the series running longer than `budgetMs` (with the samples so far).
   */
  async probe(kind: ProbeKind, count: number, timeoutMs: number, budgetMs = Number.POSITIVE_INFINITY): Promise<{ samples: number[]; stats: LatencyStats; timedOut: boolean }> {
    const samples: number[] = [];
    let timedOut = false;
    const started = performance.now();
    for (const task of this.quietRunningTasks(count)) {
      if (performance.now() - started > budgetMs) break;
      const agent = this.core.agents.get(task.agentId);
      if (!agent) continue;
      const acked = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => { this.probeWaiters.delete(task.taskId); resolve(undefined); }, timeoutMs);
        this.probeWaiters.set(task.taskId, (ms) => { clearTimeout(timer); resolve(ms); });
      });
      if (kind === 'update') agent.runtime.sendUpdate(task.frameworkId, task.taskId, { state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', message: 'probe' });
      else agent.runtime.kill(task.frameworkId, task.taskId, 0, false);
      const ms = await acked;
      if (ms === undefined) { timedOut = true; break; }
      samples.push(ms);
    }
    return { samples, stats: stats(samples), timedOut };
  }

  /** Kills every running task of connected frameworks at once; returns how many. */
  endAll(): number {
    let n = 0;
    for (const task of this.quietRunningTasks(Number.MAX_SAFE_INTEGER)) {
      if (this.core.agents.get(task.agentId)?.runtime.kill(task.frameworkId, task.taskId, 0, false)) n += 1;
    }
    return n;
  }

  private *quietRunningTasks(limit: number): Generator<{ taskId: string; frameworkId: string; agentId: string }> {
    let n = 0;
    for (const fw of this.core.frameworks.values()) {
      if (!fw.connected) continue;
      for (const t of [...fw.tasks.values()]) {
        if (n >= limit) return;
        if (t.state !== 'TASK_RUNNING' || t.statusUpdateState !== undefined) continue;
        n += 1;
        yield { taskId: t.taskId, frameworkId: fw.id, agentId: t.agentId };
      }
    }
  }
}
