/**
 * Chaos run: the real CLI (`node dist/src/cli/main.js`, built first if stale)
 * runs many short rounds against an embedded 3-master emulator while faults
 * chosen by a seeded PRNG hit it: leader changes, dropped connections,
 * malformed RecordIO on the stream, 503 periods, a stalled stream (no
 * heartbeats), rescinded offers, agent losses (the agent comes back a little
 * later) and SIGKILL of the scheduler followed by a restart with the same
 * --state-file.
 *
 *   npx tsx scripts/chaos.ts --seed 42 --duration 60
 *
 * At the end the faults stop, the cluster is made whole (leader elected, 503s
 * and stalls off, every agent back), the scheduler is started if a kill left
 * it down, and it gets SIGTERM: it launches nothing more, lets the round's
 * tasks finish within --grace, tears down and exits. Then the counts must
 * reconcile exactly (test/failover/invariants.ts):
 *
 *  - every task launched reached a terminal state, and the scheduler logged it
 *    as finished or failed; no task id (and no round/index) launched twice;
 *  - every round before the last one started is complete: each of its tasks
 *    1..maxtasks launched once (or, when a SIGKILL fell between writing a task
 *    ahead and sending its ACCEPT, accounted for as lost), logged done with
 *    finished + failed = maxtasks and finished = what the masters saw finish;
 *  - the last round started (the one the SIGTERM stopped) launched at most
 *    maxtasks tasks, once each, and if it logged done its counts match;
 *  - one framework id throughout (no failover timeout is injected);
 *  - never more than maxtasks tasks non-terminal at once; every agent status
 *    update acknowledged; no offer held at the end.
 *
 * Prints the seed first, one line per fault, and a summary; exits 1 on any
 * mismatch, 0 otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from '../src/emulator/index.js';
import { checkInvariants, watchUpdates } from '../test/failover/invariants.js';
import { ensureBuilt, SchedulerProcess, until } from '../test/failover/scheduler-process.js';

export interface ChaosOptions {
  seed: number;
  durationSeconds: number;
  maxTasks: number;
  taskMs: number;
  waitSeconds: number;
  /** Mean pause between two faults, ms (the actual pause is 0.5x..1.5x). */
  faultEveryMs: number;
  verbose: boolean;
  log: (line: string) => void;
}

export interface ChaosResult {
  ok: boolean;
  violations: string[];
  faults: Record<string, number>;
  rounds: number;
  launched: number;
  finished: number;
  failed: number;
  frameworkIds: string[];
  restarts: number;
  exitCode: number | null;
}

/** mulberry32: a small, fast, seedable PRNG (same seed, same sequence of faults). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type FaultName = 'leader-change' | 'drop-connections' | 'malformed-record' | 'unavailable-503' | 'stall-heartbeats' | 'rescind-offers' | 'lose-agent' | 'kill-scheduler';
const WEIGHTS: Array<[FaultName, number]> = [
  ['leader-change', 4], ['drop-connections', 3], ['malformed-record', 1], ['unavailable-503', 2], ['stall-heartbeats', 1],
  ['rescind-offers', 2], ['lose-agent', 2], ['kill-scheduler', 3],
];

function pick(random: () => number): FaultName {
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
  let x = random() * total;
  for (const [name, w] of WEIGHTS) { x -= w; if (x < 0) return name; }
  return WEIGHTS[0]![0];
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const { log } = opts;
  const random = prng(opts.seed);
  log(`chaos: seed ${opts.seed}, duration ${opts.durationSeconds}s, maxtasks ${opts.maxTasks}, tasks ${opts.taskMs} ms, cooldown ${opts.waitSeconds}s`);
  ensureBuilt();
  const cluster: Cluster = await startCluster({
    masters: 3, agents: 2, mode: 'simulated', simulatedTaskMs: opts.taskMs,
    allocationIntervalMs: 20, heartbeatIntervalSeconds: 1, agentRetryMs: 200,
    cpusPerAgent: 4, memPerAgent: 4096, diskPerAgent: 4096,
  });
  const watch = watchUpdates(cluster);
  const scratch = mkdtempSync(join(tmpdir(), 'chaos-'));
  const name = 'chaos';
  const sched = new SchedulerProcess([
    '--master', cluster.masters.map((m) => m.hostPort).join(','),
    '--name', name, '--cmd', 'true', '--maxtasks', String(opts.maxTasks), '--rounds', '0', '--wait', String(opts.waitSeconds),
    '--cpu', '0.1', '--mem', '32', '--grace', '60',
  ], join(scratch, 'state.json'), { scratch, ...(opts.verbose ? { echo: log } : {}) });
  const counts: Record<string, number> = {};
  const pendingRestores: Array<Promise<void>> = [];
  let restarts = 0;
  const t0 = Date.now();
  const stamp = (): string => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;

  try {
    sched.start();
    await sched.waitFor((l) => /^subscribed with framework id/.test(String(l.msg)), 'the first subscription', { timeoutMs: 30_000 });
    const deadline = t0 + opts.durationSeconds * 1000;
    while (Date.now() < deadline) {
      await sleep(Math.round(opts.faultEveryMs * (0.5 + random())));
      if (Date.now() >= deadline) break;
      const fault = pick(random);
      counts[fault] = (counts[fault] ?? 0) + 1;
      let detail = '';
      switch (fault) {
        case 'leader-change': {
          const others = cluster.masters.map((m) => m.index).filter((i) => i !== cluster.leaderIndex());
          const next = others[Math.floor(random() * others.length)]!;
          cluster.faults.electLeader(next);
          detail = `master ${next} leads`;
          break;
        }
        case 'drop-connections':
          cluster.faults.dropConnections();
          break;
        case 'malformed-record':
          // Bytes that are not RecordIO on every stream: the scheduler must drop the stream and re-subscribe.
          cluster.faults.sendMalformedRecord();
          break;
        case 'unavailable-503': {
          const ms = 500 + Math.round(random() * 1500);
          cluster.faults.unavailableFor(ms);
          cluster.faults.dropConnections();
          detail = `${ms} ms`;
          break;
        }
        case 'stall-heartbeats': {
          // Long enough for the watchdog only when the stream is otherwise quiet; either way it must not hurt.
          const ms = 2000 + Math.round(random() * 5000);
          cluster.faults.stopHeartbeats();
          pendingRestores.push(sleep(ms).then(() => cluster.faults.resumeHeartbeats()));
          detail = `${ms} ms`;
          break;
        }
        case 'rescind-offers':
          cluster.faults.rescindOffers();
          break;
        case 'lose-agent': {
          const up = cluster.agents().filter((a) => a.registered);
          if (up.length === 0) { detail = 'no agent up'; break; }
          const agent = up[Math.floor(random() * up.length)]!;
          const ms = 500 + Math.round(random() * 2000);
          cluster.faults.loseAgent(agent.id);
          pendingRestores.push(sleep(ms).then(() => cluster.faults.restartAgent(agent.id)));
          detail = `${agent.id} for ${ms} ms`;
          break;
        }
        case 'kill-scheduler': {
          const downMs = Math.round(random() * 1500);
          if (sched.running) await sched.kill('SIGKILL');
          await sleep(downMs);
          sched.start();
          restarts++;
          detail = `down ${downMs} ms, run ${sched.runs}`;
          break;
        }
      }
      log(`${stamp()} fault ${fault}${detail ? ` (${detail})` : ''}`);
    }

    // Make the cluster whole and let the scheduler stop on its own terms.
    log(`${stamp()} faults stopped; restoring the cluster`);
    await Promise.all(pendingRestores);
    cluster.faults.resumeHeartbeats();
    cluster.faults.unavailableFor(0);
    if (cluster.leaderIndex() === undefined) cluster.faults.electLeader(0);
    for (const a of cluster.agents()) if (!a.registered) cluster.faults.restartAgent(a.id);
    if (!sched.running) { sched.start(); restarts++; }
    // SIGTERM only once the scheduler is subscribed, so its stop really tears the framework down.
    const connection = /^((re-)?subscribed with framework id|no subscription: )/;
    await until(() => {
      const last = sched.lines.filter((l) => l.run === sched.runs && connection.test(String(l.msg))).at(-1);
      return last !== undefined && !String(last.msg).startsWith('no subscription');
    }, 'the scheduler to be subscribed before the stop', 30_000).catch(() => log(`${stamp()} the scheduler is not subscribed; stopping it anyway`));
    await sleep(300);
    log(`${stamp()} SIGTERM to the scheduler`);
    sched.kill('SIGTERM').catch(() => undefined);
    const exit = await Promise.race([
      sched.exited(),
      sleep(90_000).then(() => { throw new Error(`the scheduler did not stop within 90 s after SIGTERM:\n${sched.tail()}`); }),
    ]);
    log(`${stamp()} scheduler exited with ${exit.code ?? exit.signal}`);

    const launchedRounds = cluster.received.filter((r) => r.call.type === 'ACCEPT')
      .flatMap((r) => r.call.accept?.operations ?? []).flatMap((op) => op.launch?.task_infos ?? [])
      .map((t) => Number(/-r(\d+)-t\d+-[^-]+$/.exec(t.task_id.value)?.[1] ?? 0));
    const msgs = sched.messages();
    const startedRounds = msgs.map((m) => Number(/^round (\d+): launching/.exec(m)?.[1] ?? 0));
    const lastRound = Math.max(0, ...launchedRounds, ...startedRounds);
    const report = checkInvariants(cluster, watch, {
      name, maxTasks: opts.maxTasks, expectedFrameworks: 1, lines: sched.lines,
      completeRounds: Math.max(0, lastRound - 1),
      ...(lastRound > 0 ? { partialRound: lastRound } : {}),
    });
    const violations = [...report.violations];
    if (exit.signal !== null) violations.push(`the scheduler died of ${exit.signal} after SIGTERM`);
    if (!cluster.received.some((r) => r.call.type === 'TEARDOWN')) violations.push('the scheduler never sent TEARDOWN');
    if (lastRound < 3) violations.push(`only ${lastRound} round(s) ran; the run proves little`);
    const result: ChaosResult = {
      ok: violations.length === 0, violations, faults: counts, rounds: lastRound,
      launched: report.launched, finished: report.finished, failed: report.failed,
      frameworkIds: report.frameworkIds, restarts, exitCode: exit.code,
    };
    log(`chaos summary: seed ${opts.seed}; ${lastRound} rounds (last one stopped by SIGTERM), ${report.launched} tasks launched, `
      + `${report.finished} finished, ${report.failed} failed, ${report.neverSent.length} written ahead but never sent (killed before the ACCEPT) and counted lost; ${report.acknowledged} updates acknowledged; framework ids ${report.frameworkIds.join(', ')}; `
      + `scheduler restarts ${restarts}; exit ${exit.code}; faults ${JSON.stringify(counts)}`);
    if (violations.length > 0) {
      log(`chaos: ${violations.length} MISMATCH(ES):`);
      for (const v of violations) log(`  - ${v}`);
      log(`last scheduler lines:\n${sched.tail(40)}`);
    } else {
      log('chaos: every count reconciles');
    }
    return result;
  } finally {
    watch.stop();
    await sched.kill('SIGKILL').catch(() => undefined);
    await cluster.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      duration: { type: 'string', default: '60' },
      maxtasks: { type: 'string', default: '3' },
      'task-ms': { type: 'string', default: '600' },
      wait: { type: 'string', default: '1' },
      'fault-every-ms': { type: 'string', default: '1500' },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const result = await runChaos({
    seed, durationSeconds: Number(values.duration), maxTasks: Number(values.maxtasks), taskMs: Number(values['task-ms']),
    waitSeconds: Number(values.wait), faultEveryMs: Number(values['fault-every-ms']), verbose: values.verbose ?? false,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  return result.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  });
}
