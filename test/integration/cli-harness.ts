/**
 * Runs the real, built CLI (`node dist/src/cli/main.js`) as a child process
 * with JSON logs, collects its log lines, and kills it when the test ends.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const root = join(import.meta.dirname, '../..');
export const MAIN = join(root, 'dist/src/cli/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (npm run build's compiler step) unless it is newer than every source file. */
export function ensureBuilt(): void {
  const built = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
  if (built > Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'machines')))) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    // tsc emits even with type errors elsewhere in the tree; only a missing bin is fatal here.
    if (!existsSync(MAIN)) throw err;
  }
}

/** A TCP port free on 127.0.0.1 right now (for flags such as --inspect that take no 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** Calls `onLine` with each JSON log line the CLI writes (a line that is not JSON becomes `{ msg }`). */
export function onLogLines(stdout: NodeJS.ReadableStream, onLine: (line: LogLine) => void): void {
  let partial = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const text of parts) {
      if (!text.trim()) continue;
      let line: LogLine;
      try { line = JSON.parse(text) as LogLine; } catch { line = { msg: text }; }
      onLine(line);
    }
  });
}

export interface CliRun {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching; rejects if the process exits first. */
  waitFor(pred: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  messages(): string[];
}

export function runCli(t: Pick<TestContext, 'after'>, args: string[], options: { env?: NodeJS.ProcessEnv; stateFile?: boolean } = {}): CliRun {
  const scratch = mkdtempSync(join(tmpdir(), 'cli-run-'));
  const stateArgs = options.stateFile === false ? [] : ['--state-file', join(scratch, 'state.json')];
  const child = spawn(process.execPath, [MAIN, '--log-format', 'json', ...stateArgs, ...args], {
    env: { ...process.env, XDG_STATE_HOME: scratch, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let err = '';
  onLogLines(child.stdout!, (line) => {
    lines.push(line);
    for (const w of [...waiters]) if (w.pred(line)) { waiters.delete(w); w.resolve(line); }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(scratch, { recursive: true, force: true });
  });
  return {
    child, lines, exited,
    stderr: () => err,
    messages: () => lines.map((l) => String(l.msg ?? '')),
    waitFor(pred, what) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.add(w);
        void exited.then(({ code }) => {
          if (waiters.delete(w)) {
            reject(new Error(`CLI exited (${code}) before ${what}; log:\n${lines.map((l) => l.msg).join('\n')}\nstderr:\n${err}`));
          }
        });
      });
    },
  };
}

/** A temporary directory for one test, removed after it. */
export function tempDir(t: Pick<TestContext, 'after'>, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
