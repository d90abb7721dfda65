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
import type { Call } from '../../src/mesos/types.js';
import { buildConfig } from '../../src/cli/config.js';
import { StaticLeaderSource } from '../../src/client/static-leader-source.js';
import { createLogger } from '../../src/observability/logger.js';
import { runScheduler } from '../../src/runtime/scheduler.js';
import { Signals, type SignalMap } from '../../src/runtime/signals.js';
import { initialStatus } from '../../src/runtime/status.js';
import { FileStateStore, readStateFile } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';

/** A state file whose every commit, once on disk, is read back from the file and handed to `onState`. */
function recordingStore(file: string, onState: (state: PersistedState) => void): FileStateStore {
  const store = new FileStateStore(file);
  const commit = store.commit.bind(store);
  store.commit = async (changes) => {
    await commit(changes);
    const stored = await readStateFile(file, changes[0]!.delta?.header.frameworkName ?? changes[0]!.state.frameworkName);
    onState(stored!.state);
  };
  return store;
}

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
    const store = recordingStore(config.stateFile, (s) => writes.push(s));
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

  it('write-ahead holds with grouped writes: every ACCEPT, and the ACK of every terminal update, reaches the master after a write that records what it depends on; SUPPRESS/REVIVE keep their order', async (t) => {
    const cluster = await withCluster(t, { mode: 'simulated', simulatedTaskMs: 0, agents: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'runtime-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = buildConfig({ master: cluster.masters[0]!.hostPort, cmd: 'true', maxtasks: '12', rounds: '2', wait: '0', stateFile: join(dir, 's.json') }, {
      username: userInfo().username, homedir: dir, env: {}, readFile: () => { throw new Error('no files'); }, machine: { cpus: 2, memMb: 2048 },
    });
    // One timeline of completed writes and calls as the master receives them.
    const timeline: ({ kind: 'write'; state: PersistedState } | { kind: 'call'; call: Call })[] = [];
    const store = recordingStore(config.stateFile, (s) => timeline.push({ kind: 'write', state: s }));
    const onCall = (rec: { call: Call }): void => { timeline.push({ kind: 'call', call: rec.call }); };
    (cluster as unknown as EventEmitter).on('call', onCall);
    t.after(() => { (cluster as unknown as EventEmitter).off('call', onCall); });
    const signals = new Signals();
    const acked: { taskId: string; state: string }[] = [];
    signals.on('acknowledged', (a) => { acked.push(a); });
    // Offer interest in the order the machines made it, with the tasks launched (ACCEPTs made) before each.
    const interest: { type: 'SUPPRESS' | 'REVIVE'; launchedBefore: string[] }[] = [];
    const launchedSoFar: string[] = [];
    signals.on('taskLaunched', (l) => { launchedSoFar.push(l.taskId); });
    signals.on('suppressed', () => { interest.push({ type: 'SUPPRESS', launchedBefore: [...launchedSoFar] }); });
    signals.on('revived', () => { interest.push({ type: 'REVIVE', launchedBefore: [...launchedSoFar] }); });
    const lines: string[] = [];
    const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });

    const code = await runScheduler(config, { log, source: new StaticLeaderSource(config.master.kind === 'static' ? config.master.urls : []), store, signals });
    assert.equal(code, 0, lines.join(''));

    const rank = (state: string | undefined): number =>
      state === undefined ? 9 : ['PENDING_LAUNCH', 'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].indexOf(state) === -1 ? 9 : ['PENDING_LAUNCH', 'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].indexOf(state);
    let lastWrite: PersistedState | undefined;
    const everWritten = new Set<string>();
    const ackIndex = new Map<string, number>();
    let accepts = 0;
    let acks = 0;
    let nonTerminalAcks = 0;
    const acceptedSoFar = new Set<string>();
    let interestSeen = 0;
    for (const entry of timeline) {
      if (entry.kind === 'write') {
        lastWrite = entry.state;
        for (const task of entry.state.tasks) everWritten.add(task.taskId);
        continue;
      }
      const { call } = entry;
      if (call.type === 'ACCEPT') {
        accepts++;
        const ids = (call.accept?.operations ?? []).flatMap((op) => op.launch?.task_infos ?? []).map((info) => info.task_id.value);
        for (const id of ids) {
          assert.ok(lastWrite?.tasks.some((task) => task.taskId === id), `task ${id} written ahead of its ACCEPT`);
          acceptedSoFar.add(id);
        }
      } else if (call.type === 'SUPPRESS' || call.type === 'REVIVE') {
        // SUPPRESS/REVIVE skip the write queue but keep their order, and never overtake an earlier ACCEPT.
        const made = interest[interestSeen++];
        assert.equal(call.type, made?.type, `offer interest call ${interestSeen} in the order made`);
        for (const id of made!.launchedBefore) assert.ok(acceptedSoFar.has(id), `${call.type} after the ACCEPT of ${id} made before it`);
      } else if (call.type === 'ACKNOWLEDGE') {
        acks++;
        const taskId = call.acknowledge!.task_id.value;
        // The i-th ACK of a task answers the i-th acknowledged update of that task (ACKs keep their order).
        const i = ackIndex.get(taskId) ?? 0;
        ackIndex.set(taskId, i + 1);
        const update = acked.filter((a) => a.taskId === taskId)[i];
        assert.ok(update !== undefined, `ACK ${i} of ${taskId} was enqueued`);
        assert.ok(everWritten.has(taskId), `${taskId} was written before its first ACK`);
        // A non-terminal update depends on no write (a restart learns it by reconciliation).
        if (rank(update.state) < 9) { nonTerminalAcks++; continue; }
        // The newest write before the ACK of a terminal update records it (or the task gone: ended and counted).
        const written = lastWrite?.tasks.find((task) => task.taskId === taskId)?.state;
        assert.ok(rank(written) >= rank(update.state), `ACK of ${update.state} of ${taskId} after a write with ${written ?? 'the task ended'}`);
      }
    }
    assert.ok(accepts >= 2 && acks >= 2 * 12 * 3, `${accepts} ACCEPTs, ${acks} ACKs`);
    assert.ok(nonTerminalAcks >= 2 * 12 * 2 && acks - nonTerminalAcks >= 2 * 12, `${nonTerminalAcks} of ${acks} ACKs of non-terminal updates`);
    assert.equal(interestSeen, interest.length, 'every SUPPRESS/REVIVE made reached the master');
    assert.ok(interest.some((i) => i.type === 'REVIVE') && interest.some((i) => i.type === 'SUPPRESS'));
  });
});
