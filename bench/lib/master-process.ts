/**
 * The master under test in its own process, as a real master is:
 * `node dist/src/cli/main.js local-master --mode simulated ...` on an
 * ephemeral port. The bench reads the master's own timings and counters
 * through its admin endpoint (src/emulator/admin.ts, latency-recorder.ts)
 * and its CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencyStats, LatencySummary } from '../../src/emulator/latency-recorder.js';
import { repoRoot } from './paths.js';

export interface MasterOptions {
  agents: number;
  cpus: number;
  mem: number;
  disk?: number;
  /** Seconds a simulated task runs. */
  taskSeconds: number;
  allocationIntervalMs: number;
  masters?: number;
}

export interface ProbeResult { samples: number[]; stats: LatencyStats; timedOut: boolean }

/** CPU time (user + system) of a live process in ms, from /proc/<pid>/stat; NaN when it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) in clock ticks; after the ')' they are at 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

export class MasterProcess {
  private stderr = '';

  private constructor(private readonly child: ChildProcess, readonly urls: string[]) {
    child.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
  }

  get url(): string { return this.urls[0]!; }
  get pid(): number { return this.child.pid!; }

  static async start(o: MasterOptions): Promise<MasterProcess> {
    const args = [
      '--max-old-space-size=4096', join(repoRoot, 'dist/src/cli/main.js'), 'local-master', '--mode', 'simulated', '--port', '0',
      '--masters', String(o.masters ?? 1), '--agents', String(o.agents), '--cpus', String(o.cpus), '--mem', String(o.mem),
      '--disk', String(o.disk ?? 1024), '--task-duration', String(o.taskSeconds), '--allocation-interval', String(o.allocationIntervalMs),
      '--heartbeat-interval', '15', '--log-level', 'warn',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const urls: string[] = [];
    const want = o.masters ?? 1;
    let out = '';
    let errText = '';
    child.stderr!.on('data', (d: Buffer) => { errText += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`local-master did not start in 60 s: ${errText.slice(-500)}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        for (const m of out.matchAll(/listening on (\S+)/g)) if (!urls.includes(m[1]!)) urls.push(m[1]!);
        if (urls.length >= want) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`local-master exited ${code}: ${errText.slice(-500)}`)); });
    });
    child.stdout!.resume();
    return new MasterProcess(child, urls);
  }

  async admin<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/emulator/${path}`, {
      method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} /emulator/${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  latency(): Promise<LatencySummary> { return this.admin('GET', 'latency'); }
  resetLatency(): Promise<unknown> { return this.admin('POST', 'latency/reset', {}); }
  taskCounts(): Promise<{ byState: Record<string, number>; awaitingAck: number }> { return this.admin('GET', 'latency/tasks'); }
  /** `count` probes one at a time; the series stops early after `budgetMs`. */
  probe(kind: 'update' | 'end', count: number, timeoutMs = 30_000, budgetMs = 60_000): Promise<ProbeResult> {
    return this.admin('POST', 'latency/probe', { kind, count, timeoutMs, budgetMs });
  }
  endAll(): Promise<{ ended: number }> { return this.admin('POST', 'latency/end-all', {}); }
  frameworks(): Promise<Array<{ id: string; name: string; connected: boolean; removed: boolean }>> { return this.admin('GET', 'frameworks'); }
  agents(): Promise<Array<{ id: string }>> { return this.admin('GET', 'agents'); }

  cpuMs(): number { return procCpuMs(this.pid); }
  stderrTail(): string { return this.stderr.slice(-1000); }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts a master, runs `body`, stops the master whatever happens. */
export async function withMaster<T>(o: MasterOptions, body: (m: MasterProcess) => Promise<T>): Promise<T> {
  const m = await MasterProcess.start(o);
  try {
    return await body(m);
  } finally {
    await m.stop();
  }
}
