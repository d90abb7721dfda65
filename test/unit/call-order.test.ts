/**
 * Which call waits for which write (src/runtime/call-order.ts), with the real
 * state writer over a real state file; the failing store is a full file system.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import type { Call } from '../../src/mesos/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { CallQueue, callWaitsFor, declineInsteadOf } from '../../src/runtime/call-order.js';
import { StateWriter, type StoreHealth } from '../../src/runtime/state-writer.js';
import { FileStateStore, readStateFile } from '../../src/state/state-file.js';
import { withSmallFs } from '../helpers/small-fs.js';

const accept = (offer: string, taskId = `task-of-${offer}`): Call => ({
  type: 'ACCEPT',
  accept: {
    offer_ids: [{ value: offer }],
    operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: taskId, task_id: { value: taskId }, agent_id: { value: 'a1' }, resources: [] }] } }],
  },
});
const ack = (taskId: string): Call => ({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a1' }, task_id: { value: taskId }, uuid: 'dXVpZA==' } });
const kill = (taskId: string): Call => ({ type: 'KILL', kill: { task_id: { value: taskId } } });
const decline = (offer: string): Call => ({ type: 'DECLINE', decline: { offer_ids: [{ value: offer }] } });

function baseState(launched: number): PersistedState {
  return { version: 1, frameworkName: 'etl', round: 1, completedRounds: 0, allFinished: true, phase: 'round', launchedInRound: launched, tasks: [] };
}

interface Rig {
  file: string;
  writer: StateWriter;
  queue: CallQueue;
  /** Calls as dispatched, with the launchedInRound on disk at that moment. */
  sent: { call: Call; generation: number | undefined; onDisk: number | undefined }[];
  unsent: { call: Call; reason: string }[];
  health: StoreHealth[];
  logs: () => string[];
  persist(launched: number): number;
  settled(): Promise<void>;
}

function rig(t: TestContext, dir: string): Rig {
  const file = path.join(dir, 'etl.json');
  const chunks: string[] = [];
  const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) });
  const health: StoreHealth[] = [];
  const store = new FileStateStore(file);
  const writer = new StateWriter(store, { log, retryInitialMs: 20, retryMaxMs: 50, onHealth: (h) => health.push(h) });
  t.after(() => store.close());
  const sent: Rig['sent'] = [];
  const unsent: Rig['unsent'] = [];
  const queue = new CallQueue({
    writes: writer,
    dispatch: (call, generation) => {
      let onDisk: number | undefined;
      try {
        // What a crash at this moment would find (synchronously: the call goes out now).
        onDisk = readLatestSync(fs.readFileSync(file));
      } catch {
        onDisk = undefined;
      }
      sent.push({ call, generation, onDisk });
    },
    unsent: (call, reason) => unsent.push({ call, reason }),
    dropped: () => {},
  });
  writer.onDurable(() => queue.pump());
  writer.onFailure(() => queue.writeFailed());
  return {
    file, writer, queue, sent, unsent, health,
    logs: () => chunks.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg),
    persist: (launched) => writer.write({ state: baseState(launched) }),
    settled: async () => {
      for (let i = 0; i < 50 && (queue.size > 0 || writer.lastDurable < writer.lastQueued); i++) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** launchedInRound of the newest state in a journal's bytes (the last snapshot: these tests write whole states). */
function readLatestSync(buf: Buffer): number | undefined {
  const text = buf.toString('utf8');
  const all = [...text.matchAll(/"launchedInRound":(\d+)/g)];
  return all.length ? Number(all[all.length - 1]![1]) : undefined;
}

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mhs-calls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('call order', () => {
  it('states what each call waits for', () => {
    const table: [Call, boolean, string][] = [
      [decline('o1'), false, 'nothing'],
      [accept('o1'), false, 'writes'],
      [accept('o1'), true, 'writes'],
      [ack('t1'), false, 'writes'],
      [ack('t1'), true, 'step'],
      [kill('t1'), false, 'writes'],
      [{ type: 'RECONCILE', reconcile: { tasks: [] } }, false, 'writes'],
      [{ type: 'TEARDOWN' }, false, 'writes'],
      [{ type: 'SUPPRESS' }, false, 'accepts'],
      [{ type: 'REVIVE' }, false, 'accepts'],
    ];
    for (const [call, independent, wait] of table) assert.equal(callWaitsFor(call, independent), wait, `${call.type}${independent ? ' (independent)' : ''}`);
    assert.deepEqual(declineInsteadOf(accept('o9')), decline('o9'));
  });

  it('DECLINE goes at once, an independent ACK after the step, an ACCEPT and a terminal ACK only once their write is on disk, KILL behind queued writes', async (t) => {
    const r = rig(t, tempDir(t));
    r.persist(1);
    r.queue.submit(accept('o1'), false, 7);
    r.queue.submit(ack('t-running'), true, 7);
    r.queue.submit(decline('o2'), false, 7);
    assert.deepEqual(r.sent.map((s) => s.call.type), ['DECLINE'], 'DECLINE inside the step');
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(r.sent.map((s) => s.call.type), ['DECLINE', 'ACKNOWLEDGE'], 'the independent ACK after the step, before the ACCEPT');
    r.persist(2);
    r.queue.submit(ack('t-ended'), false, 7);
    r.queue.submit(kill('t-x'), false, 7);
    await r.settled();
    assert.deepEqual(r.sent.map((s) => [s.call.type, s.generation]), [['DECLINE', 7], ['ACKNOWLEDGE', 7], ['ACCEPT', 7], ['ACKNOWLEDGE', 7], ['KILL', 7]]);
    assert.ok(r.sent[2]!.onDisk! >= 1, 'ACCEPT after its write-ahead');
    assert.ok(r.sent[3]!.onDisk! >= 2 && r.sent[4]!.onDisk! >= 2, 'terminal ACK and KILL after the write before them');
  });

  it('SUPPRESS/REVIVE go after the step when nothing is queued, else behind the queued ACCEPT, in their order', async (t) => {
    const r = rig(t, tempDir(t));
    r.queue.submit({ type: 'REVIVE' }, false, 1);
    await Promise.resolve();
    assert.deepEqual(r.sent.map((s) => s.call.type), ['REVIVE']);
    r.persist(1);
    r.queue.submit(accept('o1'), false, 1);
    r.queue.submit({ type: 'SUPPRESS' }, false, 1);
    r.queue.submit({ type: 'REVIVE' }, false, 1);
    await Promise.resolve();
    assert.deepEqual(r.sent.map((s) => s.call.type), ['REVIVE'], 'waiting for the ACCEPT');
    await r.settled();
    assert.deepEqual(r.sent.map((s) => s.call.type), ['REVIVE', 'ACCEPT', 'SUPPRESS', 'REVIVE']);
  });

  it('a failing write-ahead: waiting ACCEPTs and those made meanwhile are declined and reported unsent, the ACK of a terminal update waits; the store heals and the rest goes out', async (t) => {
    const small = withSmallFs(t, 256 * 1024);
    const r = rig(t, small.dir);
    r.persist(1);
    await r.settled();
    small.fill();
    // Big enough that the page slack of the file cannot take it.
    const big = { ...baseState(2), tasks: Array.from({ length: 40 }, (_, i) => ({ taskId: `t-${i}-${'z'.repeat(200)}`, round: 1, index: i, state: 'PENDING_LAUNCH' as const })) };
    r.writer.write({ state: big });
    r.queue.submit(accept('o1'), false, 3);
    r.queue.submit(ack('t-ended'), false, 3);
    for (let i = 0; i < 100 && r.unsent.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual(r.unsent.map((u) => [u.call.accept?.offer_ids?.[0]?.value, u.reason]), [['o1', 'its write-ahead could not be saved']]);
    assert.deepEqual(r.sent.map((s) => s.call), [decline('o1')], 'its offer declined; the ACK waits');
    r.queue.submit(accept('o2'), false, 3);
    assert.deepEqual(r.sent.map((s) => s.call), [decline('o1'), decline('o2')], 'an ACCEPT made while the store fails is declined at once');
    assert.equal(r.health.at(-1)?.ok, false);
    assert.match(r.health.at(-1)!.error!, /ENOSPC/);
    await new Promise((res) => setTimeout(res, 150)); // a few retries
    assert.equal(r.logs().filter((m) => /^saving state to .* failed: /.test(m)).length, 1, `logged once per episode: ${r.logs().join('\n')}`);
    small.free();
    await r.settled();
    assert.deepEqual(r.sent.map((s) => s.call.type), ['DECLINE', 'DECLINE', 'ACKNOWLEDGE'], 'the ACK once its record is on disk');
    assert.equal(r.sent[2]!.onDisk, 2);
    assert.deepEqual((await readStateFile(r.file, 'etl'))?.state.launchedInRound, 2);
    assert.deepEqual(r.health.at(-1), { ok: true });
    assert.equal(r.logs().filter((m) => /works again$/.test(m)).length, 1);
  });
});
