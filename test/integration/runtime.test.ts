/**
 * runScheduler in this process against the emulated master: the domain
 * signals (offer hold times, rounds, task states), the status record and the
 * state store writes, without going through the CLI.
 */
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import { buildConfig } from '../../src/cli/config.js';
import { StaticLeaderSource } from '../../src/client/static-leader-source.js';
import { createLogger } from '../../src/observability/logger.js';
import { runScheduler } from '../../src/runtime/scheduler.js';
import { Signals, type SignalMap } from '../../src/runtime/signals.js';
import { initialStatus } from '../../src/runtime/status.js';
import { FileStateStore } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';

describe('runScheduler', () => {
  it('emits signals, records the last event and persists state', async (t) => {
    const cluster = await withCluster(t);
    const dir = mkdtempSync(join(tmpdir(), 'runtime-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = buildConfig({ master: cluster.masters[0]!.hostPort, cmd: 'true', maxtasks: '2', rounds: '1', wait: '0', stateFile: join(dir, 's.json') }, {
      username: userInfo().username, homedir: dir, env: {}, readFile: () => { throw new Error('no files'); }, machine: { cpus: 2, memMb: 2048 },
    });
    const signals = new Signals();
    const seen: { [K in keyof SignalMap]?: SignalMap[K][0][] } = {};
    for (const name of ['subscribed', 'offerAccepted', 'offerDeclined', 'roundStarted', 'roundFinished', 'taskEnded', 'acknowledged', 'event'] as const) {
      seen[name] = [];
      (signals as unknown as EventEmitter).on(name, (payload: unknown) => { (seen[name] as unknown[]).push(payload); });
    }
    const writes: PersistedState[] = [];
    const store = new FileStateStore(config.stateFile, { onWrite: (s) => writes.push(s) });
    const status = initialStatus();
    const lines: string[] = [];
    const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const before = Date.now();

    const code = await runScheduler(config, { log, source: new StaticLeaderSource(config.master.kind === 'static' ? config.master.urls : []), store, signals, status });

    assert.equal(code, 0, lines.join(''));
    assert.equal(seen.subscribed!.length, 1);
    assert.equal(seen.subscribed![0]!.frameworkId, cluster.frameworks()[0]!.id);
    assert.deepEqual(seen.roundStarted, [{ round: 1, tasks: 2 }]);
    assert.deepEqual(seen.roundFinished, [{ round: 1, finished: 2, failed: 0 }]);
    assert.equal(seen.taskEnded!.filter((e) => e.ok).length, 2);
    assert.ok(seen.acknowledged!.length >= 6);

    const accepted = seen.offerAccepted!;
    assert.ok(accepted.length >= 1);
    assert.equal(accepted.reduce((n, a) => n + a.tasks, 0), 2);
    for (const a of [...accepted, ...seen.offerDeclined!]) assert.ok(a.heldMs >= 0 && Number.isFinite(a.heldMs));
    const acceptedIds = new Set(cluster.received.filter((r) => r.call.type === 'ACCEPT').flatMap((r) => r.call.accept!.offer_ids!.map((o) => o.value)));
    assert.deepEqual(new Set(accepted.map((a) => a.offerId)), acceptedIds);

    assert.ok(seen.event!.some((e) => e.type === 'mesos.heartbeat'));
    assert.ok(status.lastEventAt !== undefined && status.lastEventAt >= before);
    assert.equal(status.frameworkId, cluster.frameworks()[0]!.id);
    assert.equal(status.round, 1);

    assert.ok(writes.some((w) => w.frameworkId === status.frameworkId), 'framework id persisted');
    assert.ok(writes.some((w) => w.tasks.some((task) => task.state === 'PENDING_LAUNCH')), 'tasks written ahead of ACCEPT');
    assert.ok(writes.every((w) => typeof w.updatedAt === 'number'));
    const last = writes.at(-1)!;
    assert.equal(last.frameworkId, undefined, 'a torn-down framework is forgotten');
  });
});
