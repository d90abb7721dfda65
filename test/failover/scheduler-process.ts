/**
 * The real, built CLI (`node dist/src/cli/main.js`) as a child process that
 * can be SIGKILLed and started again with the same state file: the failover
 * tests and scripts/chaos.ts use it. Unlike test/integration/cli-harness.ts it
 * is not tied to a TestContext (the chaos script runs outside node:test) and
 * it keeps the JSON log lines of every incarnation, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export { ensureBuilt, MAIN } from '../integration/cli-harness.js';
import { MAIN, onLogLines } from '../integration/cli-harness.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number; run?: number };

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

interface Waiter { pred: (line: LogLine) => boolean; resolve: (line: LogLine) => void; reject: (err: Error) => void; what: string }

/**
 * One scheduler "installation": fixed arguments and state file, started,
 * killed and restarted any number of times. `lines` holds the log lines of all
 * runs (each tagged with `run`, 1-based); waiters see lines of later runs too.
 */
export class SchedulerProcess {
  readonly lines: LogLine[] = [];
  runs = 0;
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<Exit> | undefined;
  private stderrText = '';
  private readonly waiters = new Set<Waiter>();
  private readonly exits: Exit[] = [];

  constructor(
    readonly args: readonly string[],
    readonly stateFile: string,
    private readonly options: { env?: NodeJS.ProcessEnv; scratch: string; echo?: (line: string) => void },
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Exit statuses of the runs that ended, in order. */
  get exitHistory(): readonly Exit[] {
    return this.exits;
  }

  stderr(): string {
    return this.stderrText;
  }

  messages(): string[] {
    return this.lines.map((l) => String(l.msg ?? ''));
  }

  /** Starts a new run (the previous one must have ended). */
  start(): void {
    if (this.running) throw new Error('the scheduler is still running');
    const run = ++this.runs;
    const child = spawn(process.execPath, [MAIN, '--log-format', 'json', '--state-file', this.stateFile, ...this.args], {
      env: { ...process.env, XDG_STATE_HOME: this.options.scratch, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    onLogLines(child.stdout!, (line) => {
      line.run = run;
      this.lines.push(line);
      this.options.echo?.(`[scheduler#${run}] ${String(line.msg ?? '')}`);
      for (const w of [...this.waiters]) if (w.pred(line)) { this.waiters.delete(w); w.resolve(line); }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderrText += chunk; });
    this.exitedPromise = new Promise<Exit>((resolve) => {
      child.on('exit', (code, signal) => {
        const exit = { code, signal };
        this.exits.push(exit);
        resolve(exit);
        // A run that ended cannot produce the lines still awaited from it; later runs can.
        for (const w of [...this.waiters]) {
          if ((w as Waiter & { thisRunOnly?: boolean }).thisRunOnly) {
            this.waiters.delete(w);
            w.reject(new Error(`scheduler run ${run} exited (${code ?? signal}) before ${w.what}; last lines:\n${this.tail()}`));
          }
        }
      });
    });
  }

  /** The current (or last) run's exit. */
  exited(): Promise<Exit> {
    if (!this.exitedPromise) throw new Error('never started');
    return this.exitedPromise;
  }

  /** SIGKILL and wait for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.running) this.child!.kill(signal);
    return this.exited();
  }

  /**
   * The first log line (from index `from` on) matching `pred`. With
   * `thisRunOnly` (default) the wait fails when the current run exits first;
   * the wait always fails after `timeoutMs`.
   */
  waitFor(pred: (line: LogLine) => boolean, what: string, opts: { from?: number; timeoutMs?: number; thisRunOnly?: boolean } = {}): Promise<LogLine> {
    const found = this.lines.slice(opts.from ?? 0).find(pred);
    if (found) return Promise.resolve(found);
    if (!this.running && (opts.thisRunOnly ?? true)) {
      return Promise.reject(new Error(`scheduler is not running, still waiting for ${what}; last lines:\n${this.tail()}`));
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter & { thisRunOnly?: boolean } = {
        pred, what, thisRunOnly: opts.thisRunOnly ?? true,
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        if (this.waiters.delete(waiter)) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  tail(n = 25): string {
    return this.lines.slice(-n).map((l) => `  [#${l.run}] ${String(l.msg)}`).join('\n') + (this.stderrText ? `\nstderr:\n${this.stderrText.slice(-2000)}` : '');
  }
}

export function stateFileIn(dir: string): string {
  return join(dir, 'state.json');
}

/** Polls `check` every `everyMs` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
