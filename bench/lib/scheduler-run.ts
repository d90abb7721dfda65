/**
 * Runs the real scheduler runtime (runScheduler) in this process against an
 * emulated master, with a real state file in a temp dir, a silent logger and
 * a high-resolution clock; the bench watches its Signals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { RuntimeEvent, Timing } from '../../machines/contract.js';
import { buildConfig, type Config, type RawFlags } from '../../src/cli/config.js';
import { StaticLeaderSource } from '../../src/client/static-leader-source.js';
import { runScheduler } from '../../src/runtime/scheduler.js';
import { Signals } from '../../src/runtime/signals.js';
import { FileStateStore } from '../../src/state/state-file.js';
import type { StateStore } from '../../src/state/store.js';
import { nowMs } from './stats.js';

export interface RunningScheduler {
  signals: Signals;
  config: Config;
  /** Resolves with the exit code. */
  exit: Promise<number>;
  frameworkId(): string | undefined;
  /** State writes so far and the time spent in them (ms). */
  writes(): { count: number; ms: number };
  /** framework.stopNow, then waits for the exit (TEARDOWN sent). */
  stop(): Promise<number>;
}

export interface SchedulerVariant {
  run?: typeof runScheduler;
  /** Builds the state store for a state file path (default FileStateStore). */
  store?: (file: string) => StateStore;
}

export function startScheduler(masters: string[], flags: RawFlags, timing?: Partial<Timing>, variant: SchedulerVariant = {}): RunningScheduler {
  const run = variant.run ?? runScheduler;
  const dir = mkdtempSync(join(tmpdir(), 'bench-sched-'));
  const config = buildConfig({ master: masters.join(','), stateFile: join(dir, 'state.json'), ...flags }, {
    username: 'bench', homedir: dir, env: {}, readFile: () => { throw new Error('no files'); },
    machine: { cpus: 2, memMb: 2048 },
  });
  const signals = new Signals();
  let frameworkId: string | undefined;
  signals.on('subscribed', (s) => { frameworkId = s.frameworkId; });
  let send: ((e: RuntimeEvent) => void) | undefined;
  const urls = config.master.kind === 'static' ? config.master.urls : [];
  const store: StateStore = variant.store ? variant.store(config.stateFile) : new FileStateStore(config.stateFile);
  const writes = { count: 0, ms: 0 };
  const save = store.save.bind(store);
  store.save = async (state) => {
    const t = nowMs();
    try { await save(state); } finally { writes.count += 1; writes.ms += nowMs() - t; }
  };
  const noSignals = { on: () => undefined, off: () => undefined };
  const exit = run(config, {
    log: pino({ level: 'silent' }),
    source: new StaticLeaderSource(urls),
    store,
    signals,
    signalSource: noSignals,
    now: nowMs,
    ...(timing ? { timing } : {}),
    onStarted: (s) => { send = s; },
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  return {
    signals, config, exit,
    frameworkId: () => frameworkId,
    writes: () => ({ ...writes }),
    stop: async () => {
      send?.({ type: 'framework.stopNow' });
      return exit;
    },
  };
}
