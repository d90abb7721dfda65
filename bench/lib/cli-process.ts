/**
 * The scheduler under test as the real CLI process (`node dist/src/cli/main.js`),
 * with its state on disk in a temporary directory and its JSON log written to a
 * file there, as a user would run it. A small preload (cli-probe.mjs) lets the
 * bench read its heap (after a full GC), RSS and CPU time over IPC, and writes
 * the same, with the peak RSS, when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { procCpuMs, type MasterProcess } from './master-process.js';
import { cliMain, repoRoot } from './paths.js';
import { sleep } from './stats.js';

export interface CliOptions {
  /** --master (one or more master URLs, or the masters' host:port list). */
  master: string;
  maxtasks: number;
  rounds: number;
  waitSeconds: number;
  cpu: number;
  mem: number;
  name: string;
  contentType?: 'protobuf' | 'json';
  failoverTimeoutSeconds?: number;
  /** --ha zk://... */
  ha?: string;
  /** Reuse this state directory (HA standby); default a fresh one, removed after. */
  stateDir?: string;
  extra?: string[];
}

export interface CliReading { heapUsed: number; rss: number; cpuMs: number; maxRssKiB: number; gc: boolean }
export interface CliExitReport extends CliReading { code: number }

export class CliProcess {
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private seq = 0;
  private readonly waiting = new Map<number, (r: CliReading) => void>();
  private readonly ownDir: boolean;

  private constructor(private readonly child: ChildProcess, readonly dir: string, ownDir: boolean) {
    this.ownDir = ownDir;
    this.exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    child.on('message', (m: { type?: string; id?: number } & CliReading) => {
      if (m?.type !== 'bench.probe.reply' || m.id === undefined) return;
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
  }

  get pid(): number { return this.child.pid!; }
  get logFile(): string { return join(this.dir, 'log.jsonl'); }

  static start(o: CliOptions): CliProcess {
    const ownDir = o.stateDir === undefined;
    const dir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'bench-cli-'));
    const args = [
      '--expose-gc', '--import', pathToFileURL(join(repoRoot, 'bench/lib/cli-probe.mjs')).href, cliMain,
      '--master', o.master, '--maxtasks', String(o.maxtasks), '--rounds', String(o.rounds), '--wait', String(o.waitSeconds),
      '--cpu', String(o.cpu), '--mem', String(o.mem), '--name', o.name, '--cmd', 'true',
      '--state-file', join(dir, 'state.json'), '--log-format', 'json', '--content-type', o.contentType ?? 'protobuf',
      '--failover-timeout', String(o.failoverTimeoutSeconds ?? 0),
      ...(o.ha ? ['--ha', o.ha] : []), ...(o.extra ?? []),
    ];
    const log = openSync(join(dir, 'log.jsonl'), 'a');
    const child = spawn(process.execPath, args, {
      cwd: dir, stdio: ['ignore', log, log, 'ipc'],
      env: { ...process.env, BENCH_PROBE_OUT: join(dir, 'exit.json') },
    });
    closeSync(log);
    return new CliProcess(child, dir, ownDir);
  }

  /** Heap, RSS and CPU of the running CLI; `gc` collects garbage first. */
  read(gc = false, timeoutMs = 60_000): Promise<CliReading> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(new Error('the CLI did not answer the bench probe')); }, timeoutMs);
      this.waiting.set(id, (r) => { clearTimeout(timer); resolve(r); });
      try {
        this.child.send({ type: 'bench.probe', id, gc });
      } catch (err) {
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }

  /** CPU time so far from /proc (NaN once it has exited). */
  cpuMs(): number { return procCpuMs(this.pid); }

  /** What the preload wrote at exit (after `exit` resolved), or undefined after a SIGKILL. */
  exitReport(): CliExitReport | undefined {
    const file = join(this.dir, 'exit.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as CliExitReport : undefined;
  }

  /** The last log lines (errors and warnings first), each as its message and error message, for reports of failures. */
  logTail(lines = 5): string {
    let all: string[];
    try {
      all = readFileSync(this.logFile, 'utf8').trim().split('\n');
    } catch {
      return '';
    }
    const bad = all.filter((l) => /"level":(40|50|60)/.test(l) || !l.startsWith('{'));
    return (bad.length > 0 ? bad : all).slice(-lines).map(shortLine).join(' | ').slice(-2000);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exit;
  }

  /** Kills it if still running and removes its directory (unless it was given one). */
  async dispose(): Promise<void> {
    await this.kill('SIGKILL');
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A JSON log line as `msg: err.message`; other lines as they are. */
function shortLine(line: string): string {
  try {
    const rec = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return [rec.msg, rec.err?.message].filter(Boolean).join(': ') || line;
  } catch {
    return line;
  }
}

/** Waits until the master has a connected framework of this name; returns its id. */
export async function subscribedFramework(master: MasterProcess, name: string, cli: CliProcess, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const fw = (await master.frameworks()).find((f) => f.name === name && f.connected);
    if (fw) return fw.id;
    if (cli && (await Promise.race([cli.exit.then(() => true), sleep(0).then(() => false)]))) {
      throw new Error(`the CLI exited before subscribing: ${cli.logTail()}`);
    }
    if (Date.now() > end) throw new Error(`the CLI did not subscribe within ${timeoutMs} ms: ${cli.logTail()}`);
    await sleep(20);
  }
}

/** Resolves with the exit, rejects (after killing it) when it takes longer than `timeoutMs`. */
export async function exitWithin(cli: CliProcess, timeoutMs: number, what: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      cli.exit,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s: ${cli.logTail()}`)), timeoutMs); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
