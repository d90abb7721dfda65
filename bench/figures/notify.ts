/**
 * Offer handling with a notification receiver that never answers, beside the
 * same without `--notify-url` (issue 12: within 10%).
 *
 * Workload, run twice on a fresh `local-master --mode simulated` each: the CLI
 * runs rounds of 20 one-CPU tasks (0.1 s each, no cooldown) on 10 agents of 4
 * CPUs with `--task-timeout 0.01`, so the master's executor kills every task
 * (TASK_FAILED, REASON_MAX_COMPLETION_TIME_REACHED), every round fails and
 * queues a `round.failed` notification. Once with `--notify-url` pointing at
 * a loopback receiver in the bench process that accepts connections and never
 * answers (so deliveries hang until their timeout and the queue grows), once
 * without. The first round (JIT warm-up, first state write) is left out.
 *
 * Value: mean offer hold (OFFERS event written → ACCEPT/DECLINE accepted,
 * timed at the master) over every offer answered, with the hanging receiver.
 * Limit: the same without a receiver. Target: ratio <= 1.1.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CliProcess, exitWithin } from '../lib/cli-process.js';
import { withMaster } from '../lib/master-process.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type FigureOutput, type Target } from '../lib/results.js';
import { sleep } from '../lib/stats.js';
import type { LatencySummary } from '../../src/emulator/latency-recorder.js';

export const NOTIFY_TARGET: Target = { kind: 'ratio<=', value: 1.1, text: 'within 10% of offer handling without a receiver (ratio <= 1.1)' };

/** A receiver that accepts connections, reads what comes and never answers. */
class HangingReceiver {
  posts = 0;
  roundFailed = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => { /* the client gives up: expected */ });
      socket.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        this.posts += text.match(/^POST /gm)?.length ?? 0;
        this.roundFailed += text.match(/"type":"round\.failed"/g)?.length ?? 0;
      });
    });
  }

  static async start(): Promise<HangingReceiver> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
    return new HangingReceiver(server);
  }

  get url(): string { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`; }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Run { summary: LatencySummary; meanHold: number; offers: number; launched: number; posts: number; roundFailed: number }

/** Mean hold over every offer answered (any event size, accepted or declined), weighted by count. */
function meanHold(s: LatencySummary): { mean: number; offers: number } {
  let sum = 0;
  let n = 0;
  for (const byAnswer of Object.values(s.holds)) {
    for (const st of [byAnswer.ACCEPT, byAnswer.DECLINE]) {
      if (!st || st.count === 0) continue;
      sum += st.mean * st.count;
      n += st.count;
    }
  }
  return { mean: n > 0 ? sum / n : Number.NaN, offers: n };
}

async function failingRounds(rounds: number, name: string, receiver: HangingReceiver | undefined): Promise<Run> {
  return withMaster({ agents: 10, cpus: 4, mem: 4096, taskSeconds: 0.1, allocationIntervalMs: 20 }, async (m) => {
    const cli = CliProcess.start({
      master: m.url, maxtasks: 20, rounds: rounds + 1, waitSeconds: 0, cpu: 1, mem: 64, name,
      extra: ['--task-timeout', '0.01', ...(receiver ? ['--notify-url', receiver.url] : [])],
    });
    try {
      for (;;) {
        if ((await m.latency()).offerEvents.count >= 1) { await m.resetLatency(); break; }
        if (await Promise.race([cli.exit.then(() => true), sleep(10).then(() => false)])) break;
      }
      const exit = await exitWithin(cli, 300_000, `${rounds} failing rounds of 20 tasks`);
      // Failed rounds are the workload: the CLI's exit code says so, it is not a bench error.
      if (exit.signal !== null) throw new Error(`the CLI was killed by ${exit.signal}: ${cli.logTail()}`);
    } finally {
      await cli.dispose();
    }
    const summary = await m.latency();
    const { mean, offers } = meanHold(summary);
    return { summary, meanHold: mean, offers, launched: summary.tasksLaunched, posts: receiver?.posts ?? 0, roundFailed: receiver?.roundFailed ?? 0 };
  });
}

export async function runNotify(opts: BenchOptions): Promise<FigureOutput> {
  const rounds = envInt('BENCH_NOTIFY_ROUNDS', opts.quick ? 5 : 20);
  const id = 'notify.hanging_receiver';
  const name = 'Offer handling with a --notify-url receiver that never answers (mean offer hold, at the master)';
  opts.log(`notify: ${rounds} failing rounds without, then with a hanging receiver`);
  let receiver: HangingReceiver | undefined;
  try {
    const without = await failingRounds(rounds, 'notify-none', undefined);
    receiver = await HangingReceiver.start();
    const withReceiver = await failingRounds(rounds, 'notify-hanging', receiver);
    if (withReceiver.roundFailed === 0) {
      throw new Error(`the run with the receiver produced no notifications (${withReceiver.posts} POSTs, none a round.failed)`);
    }
    return {
      figures: [figure({
        id, name, value: withReceiver.meanHold, unit: 'ms', limit: without.meanHold,
        limitName: 'the same failing rounds without --notify-url, fresh master process (mean offer hold)',
        target: NOTIFY_TARGET,
        notes: `${rounds} rounds of 20 one-CPU tasks on 10 agents of 4 CPUs, every task killed by --task-timeout 0.01 so every round fails; with the receiver ${withReceiver.offers} offers answered, ${withReceiver.launched} tasks launched (all failed), ${withReceiver.posts} POST(s) reached the receiver (none answered; the rest queued behind them); without it ${without.offers} offers answered, ${without.launched} tasks launched`,
        detail: {
          withReceiver: { offers: withReceiver.offers, launched: withReceiver.launched, posts: withReceiver.posts, roundFailedPosts: withReceiver.roundFailed, holds: withReceiver.summary.holds },
          without: { offers: without.offers, launched: without.launched, holds: without.summary.holds },
        },
      })],
      method: [
        `Notifications: the CLI runs ${rounds} rounds (after one left out) of 20 one-CPU tasks on 10 agents of 4 CPUs of \`local-master --mode simulated\` with \`--task-timeout 0.01\`, so every task fails and every round queues a \`round.failed\` notification; once with \`--notify-url\` at a loopback receiver that accepts connections and never answers, once without, each on a fresh master. Value / limit: the mean offer hold (event written → answer accepted, at the master) over every offer answered, with / without the receiver.`,
      ],
    };
  } catch (err) {
    return { figures: [notMeasured(id, name, 'ms', (err as Error).message.slice(0, 400), NOTIFY_TARGET)] };
  } finally {
    await receiver?.close();
  }
}
