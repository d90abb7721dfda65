/**
 * runScheduler against the emulated master when the state store fails for
 * real (a full tmpfs) and when an ACCEPT never reaches the master (answered
 * 503, or made under a subscription that is gone; there the write-ahead is held
 * by awaiting the real store until the framework subscribed again): what the
 * master receives, what /health-facing status says, and that the round goes on.
 */
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import { buildConfig } from '../../src/cli/config.js';
import { StaticLeaderSource } from '../../src/client/static-leader-source.js';
import type { Call } from '../../src/mesos/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { runScheduler } from '../../src/runtime/scheduler.js';
import { Signals } from '../../src/runtime/signals.js';
import type { StoreHealth } from '../../src/runtime/state-writer.js';
import { initialStatus } from '../../src/runtime/status.js';
import { readStateFileBytes } from '../../src/state/state-file-format.js';
import { FileStateStore } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';
import { withSmallFs } from '../helpers/small-fs.js';

const NAME = 'store-failure';

function configFor(master: string, stateFile: string, maxtasks: string) {
  return buildConfig({ master, name: NAME, cmd: 'true', maxtasks, rounds: '1', wait: '0', stateFile }, {
    username: userInfo().username, homedir: '/nonexistent', env: {}, readFile: () => { throw new Error('no files'); }, machine: { cpus: 2, memMb: 2048 },
  });
}

function logLines(): { log: ReturnType<typeof createLogger>; messages: () => string[] } {
  const chunks: string[] = [];
  const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) });
  return { log, messages: () => chunks.join('').split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as { msg?: unknown }).msg)) };
}

/** The state on disk right now (synchronously: as a crash at this instant would find it). */
function onDisk(file: string): PersistedState | undefined {
  try {
    return readStateFileBytes(readFileSync(file), NAME, { what: file, remedy: '' }).state;
  } catch {
    return undefined;
  }
}

const launchedIn = (call: Call): string[] =>
  (call.accept?.operations ?? []).flatMap((op) => op.launch?.task_infos ?? []).map((info) => info.task_id.value);

describe('what the master receives when a state write or a call fails', () => {
  it('disk full: offers are declined instead of launched, /health says failing, logged once; with space again the round goes on, every ACCEPT after its write-ahead', async (t) => {
    const cluster = await withCluster(t, { mode: 'simulated', simulatedTaskMs: 0, agents: 2 });
    const small = withSmallFs(t, 512 * 1024);
    const file = join(small.dir, 'state.json');
    const config = configFor(cluster.masters[0]!.hostPort, file, '3');
    const signals = new Signals();
    const status = initialStatus();
    const { log, messages } = logLines();
    const health: StoreHealth[] = [];
    signals.on('storeHealth', (h) => { health.push(h); });

    // Full as soon as the framework is subscribed: its first writes fail.
    let full = false;
    signals.on('subscribed', () => {
      if (!full && health.length === 0) {
        small.fill();
        full = true;
      }
    });
    // Calls as the master receives them, with the state on disk at that instant.
    const seen: { call: Call; disk: PersistedState | undefined; whileFull: boolean }[] = [];
    const onCall = (rec: { call: Call }): void => { seen.push({ call: rec.call, disk: onDisk(file), whileFull: full }); };
    (cluster as unknown as EventEmitter).on('call', onCall);
    t.after(() => { (cluster as unknown as EventEmitter).off('call', onCall); });
    // Space again after some offers were declined while full.
    const freed = new Promise<void>((resolve) => {
      const check = (): void => {
        if (full && status.store?.ok === false && seen.filter((s) => s.call.type === 'DECLINE' && s.whileFull).length >= 2) {
          full = false;
          small.free();
          resolve();
        } else setTimeout(check, 20);
      };
      check();
    });

    const code = await runScheduler(config, {
      log, signals, status, source: new StaticLeaderSource(config.master.kind === 'static' ? config.master.urls : []),
      store: new FileStateStore(file), storeRetry: { initialMs: 50, maxMs: 200 },
    });
    await freed;
    assert.equal(code, 0, messages().join('\n'));

    assert.ok(!seen.some((s) => s.call.type === 'ACCEPT' && s.whileFull), 'nothing launched while the disk was full');
    const accepts = seen.filter((s) => s.call.type === 'ACCEPT');
    assert.ok(accepts.length >= 1);
    for (const a of accepts) {
      for (const id of launchedIn(a.call)) assert.ok(a.disk?.tasks.some((x) => x.taskId === id), `${id} on disk before its ACCEPT reached the master`);
    }
    assert.equal(cluster.tasks().filter((x) => x.state === 'TASK_FINISHED').length, 3, 'the round went on');
    assert.equal(health[0]?.ok, false);
    assert.match(health[0]?.error ?? '', /ENOSPC/);
    assert.deepEqual(health.at(-1), { ok: true });
    assert.equal(messages().filter((m) => /^saving state to .* failed: .*ENOSPC/.test(m)).length, 1, 'logged once per episode');
    assert.equal(messages().filter((m) => /works again$/.test(m)).length, 1);
  });

  it('an ACCEPT answered 503 never reached the master: its tasks are launched again under new ids, nothing counts as failed', async (t) => {
    const cluster = await withCluster(t, { mode: 'simulated', simulatedTaskMs: 0, agents: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'store-failure-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'state.json');
    const config = configFor(cluster.masters[0]!.hostPort, file, '2');
    const signals = new Signals();
    const { log, messages } = logLines();
    // The master answers 503 from the moment the first ACCEPT is made (it goes out after its write-ahead).
    const launched: string[] = [];
    signals.on('taskLaunched', (l) => {
      if (launched.length === 0) cluster.faults.unavailableFor(300);
      launched.push(l.taskId);
    });
    const finished: { finished: number; failed: number }[] = [];
    signals.on('roundFinished', (r) => { finished.push(r); });
    const code = await runScheduler(config, {
      log, signals, source: new StaticLeaderSource(config.master.kind === 'static' ? config.master.urls : []), store: new FileStateStore(file),
    });
    assert.equal(code, 0, messages().join('\n'));
    // The master answers 503 before reading the call; the refused ACCEPT launched the first two ids.
    assert.ok(cluster.responses.some((r) => r.status === 503), 'calls were answered 503');
    const accepted = cluster.received.filter((r) => r.call.type === 'ACCEPT').flatMap((r) => launchedIn(r.call));
    assert.equal(accepted.length, 2);
    assert.ok(launched.length >= 4, `launched ${launched.join(', ')}\n${messages().join('\n')}`);
    assert.ok(!accepted.some((id) => launched.slice(0, 2).includes(id)), 'the tasks of the refused ACCEPT were launched again under new ids');
    assert.deepEqual(finished, [{ round: 1, finished: 2, failed: 0 }]);
    assert.equal(cluster.tasks().filter((x) => x.state === 'TASK_FINISHED').length, 2);
  });

  it('an ACCEPT made under a subscription that is gone by the time its write-ahead lands is never sent under the new stream id; its tasks are launched again', async (t) => {
    const cluster = await withCluster(t, { mode: 'simulated', simulatedTaskMs: 0, agents: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'store-failure-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'state.json');
    const config = configFor(cluster.masters[0]!.hostPort, file, '2');
    const signals = new Signals();
    const chunks: string[] = [];
    const log = createLogger({ format: 'json', debug: true, destination: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) });
    const messages = (): string[] => chunks.join('').split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as { msg?: unknown }).msg));
    // The first launch's write-ahead is held until the framework has subscribed again.
    const store = new FileStateStore(file);
    const commit = store.commit.bind(store);
    let hold: Promise<void> | undefined;
    let resubscribed: () => void = () => {};
    store.commit = async (changes) => {
      if (hold) await hold;
      return commit(changes);
    };
    const launched: string[] = [];
    signals.on('taskLaunched', (l) => {
      if (launched.length === 0) {
        hold = new Promise<void>((resolve) => { resubscribed = resolve; });
        cluster.faults.dropConnections();
      }
      launched.push(l.taskId);
    });
    signals.on('subscribed', (s) => { if (s.resubscribe) resubscribed(); });
    const finished: { finished: number; failed: number }[] = [];
    signals.on('roundFinished', (r) => { finished.push(r); });
    const code = await runScheduler(config, {
      log, signals, source: new StaticLeaderSource(config.master.kind === 'static' ? config.master.urls : []), store,
    });
    assert.equal(code, 0, messages().join('\n'));
    const first = launched.slice(0, 2);
    const accepted = cluster.received.filter((r) => r.call.type === 'ACCEPT').flatMap((r) => launchedIn(r.call));
    assert.ok(!accepted.some((id) => first.includes(id)), `the first ACCEPT (${first.join(', ')}) never reached the master`);
    assert.equal(accepted.length, 2);
    assert.ok(messages().some((m) => m === 'dropped ACCEPT call: made under an earlier subscription'), messages().join('\n'));
    assert.deepEqual(finished, [{ round: 1, finished: 2, failed: 0 }]);
  });
});
