import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TestContext } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import { defaultStateFilePath, FileStateStore } from '../../src/state/state-file.js';
import { StateStoreError } from '../../src/state/store.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mhs-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function state(over: Partial<PersistedState> = {}): PersistedState {
  return {
    version: 1,
    frameworkName: 'etl',
    frameworkId: 'fw-0001',
    round: 2,
    completedRounds: 1,
    allFinished: true,
    phase: 'round',
    tasks: [
      { taskId: 'etl-abc-2-0', agentId: 'agent-1', round: 2, index: 0, state: 'TASK_RUNNING' },
      { taskId: 'etl-abc-2-1', round: 2, index: 1, state: 'PENDING_LAUNCH' },
    ],
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

test('round trip: missing file loads as undefined, saved state loads back, parent directories are created', async (t) => {
  const file = path.join(tempDir(t), 'nested', 'dir', 'etl.json');
  const store = new FileStateStore(file);
  assert.equal(await store.load('etl'), undefined);
  await store.save(state());
  assert.deepEqual(await new FileStateStore(file).load('etl'), state());
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['etl.json'], 'no temp files left behind');
  assert.match(store.description, /etl\.json$/);
});

test('writes land in call order; a save is on disk when it resolves', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const order: number[] = [];
  const store = new FileStateStore(file, { onWrite: (s) => order.push(s.round) });
  const writes = [1, 2, 3, 4, 5].map((round) => store.save(state({ round })));
  await store.save(state({ round: 6, tasks: [] }));
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).round, 6);
  await Promise.all(writes);
  await store.flush();
  assert.deepEqual(order, [1, 2, 3, 4, 5, 6]);
  assert.equal((await new FileStateStore(file).load('etl'))?.round, 6);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['etl.json'], 'no temp files left behind');
});

test('close waits for the queued saves and refuses later ones', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const store = new FileStateStore(file);
  const queued = [1, 2, 3].map((round) => store.save(state({ round })));
  await store.close();
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).round, 3);
  await Promise.all(queued);
  await assert.rejects(store.save(state({ round: 4 })), (err: unknown) => err instanceof StateStoreError && err.code === 'STATE_IO' && /closed/.test(err.message));
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).round, 3);
});

test('atomic replace: a concurrent reader never sees a partial or empty file', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const store = new FileStateStore(file);
  const big = (n: number): PersistedState =>
    state({ round: n, tasks: Array.from({ length: 400 }, (_, i) => ({ taskId: `etl-run-${n}-${i}`, agentId: `agent-${i}`, round: n, index: i, state: 'TASK_RUNNING' as const })) });
  await store.save(big(0));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const reader = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads'); const fs = require('node:fs');
     let reads = 0, bad = 0, last = '';
     while (Atomics.load(workerData.stop, 0) === 0) {
       let text; try { text = fs.readFileSync(workerData.file, 'utf8'); } catch (e) { bad++; last = String(e); continue; }
       try { const s = JSON.parse(text); if (s.tasks.length !== 400) { bad++; last = 'short'; } } catch (e) { bad++; last = text.slice(0, 80); }
       reads++;
     }
     parentPort.postMessage({ reads, bad, last });`,
    { eval: true, workerData: { file, stop } },
  );
  const result = new Promise<{ reads: number; bad: number; last: string }>((resolve, reject) => {
    reader.once('message', resolve);
    reader.once('error', reject);
  });
  t.after(() => reader.terminate());
  await new Promise((r) => setTimeout(r, 50)); // let the reader start reading
  await Promise.all(Array.from({ length: 60 }, (_, i) => store.save(big(i + 1))));
  Atomics.store(stop, 0, 1);
  const { reads, bad, last } = await result;
  assert.ok(reads > 0, 'the reader read the file');
  assert.equal(bad, 0, `partial or missing file seen: ${last}`);
  assert.equal((await store.load('etl'))?.round, 60);
});

test('a corrupt file is reported with its path and a remedy, and never overwritten', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const cases: [string, RegExp][] = [
    ['{"version":1,"frameworkName":"etl"', /not JSON/],
    ['', /not JSON/],
    ['[1,2]', /not a JSON object/],
    [JSON.stringify({ ...state(), version: 2 }), /format version 2 was written by a newer/],
    [JSON.stringify({ ...state(), round: -1 }), /round is not a non-negative integer/],
    [JSON.stringify({ ...state(), tasks: [{ taskId: 'x', round: 1, index: 0, state: 'RUNNING' }] }), /tasks\[0\]: state "RUNNING"/],
    [JSON.stringify({ ...state(), phase: 'sleeping' }), /phase "sleeping"/],
  ];
  for (const [content, re] of cases) {
    fs.writeFileSync(file, content);
    const store = new FileStateStore(file);
    const check = (err: unknown): boolean =>
      err instanceof StateStoreError && err.code === 'STATE_CORRUPT' && re.test(err.message) && err.message.includes(file) && /move it away|--state-file/.test(err.message);
    await assert.rejects(store.load('etl'), check, content);
    await assert.rejects(store.save(state()), check, 'save refuses after a failed load');
    await assert.rejects(store.save(state({ round: 3 })), check, 'every later save refuses too');
    assert.equal(fs.readFileSync(file, 'utf8'), content, 'left untouched');
  }
  // After the user moves it away, a store loads afresh and can write.
  fs.renameSync(file, `${file}.bad`);
  const store = new FileStateStore(file);
  assert.equal(await store.load('etl'), undefined);
  await store.save(state());
  assert.equal((await store.load('etl'))?.frameworkId, 'fw-0001');
});

test("another framework's file is STATE_FOREIGN, with or without load() first, and left untouched", async (t) => {
  const file = path.join(tempDir(t), 'shared.json');
  const theirs = JSON.stringify(state({ frameworkName: 'billing' }));
  fs.writeFileSync(file, theirs);
  const check = (err: unknown): boolean =>
    err instanceof StateStoreError && err.code === 'STATE_FOREIGN' && err.message.includes("'billing'") && err.message.includes("'etl'") && err.message.includes(file);
  await assert.rejects(new FileStateStore(file).load('etl'), check);
  await assert.rejects(new FileStateStore(file).save(state()), check, 'save without load checks too');
  assert.equal(fs.readFileSync(file, 'utf8'), theirs);
  assert.equal((await new FileStateStore(file).load('billing'))?.frameworkName, 'billing');
});

test('defaultStateFilePath follows XDG_STATE_HOME, else ~/.local/state', () => {
  assert.equal(defaultStateFilePath('etl', { env: { XDG_STATE_HOME: '/var/xdg' }, homedir: '/home/u' }), '/var/xdg/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('etl', { env: {}, homedir: '/home/u' }), '/home/u/.local/state/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('etl', { env: { XDG_STATE_HOME: 'relative' }, homedir: '/home/u' }), '/home/u/.local/state/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('a/b c', { env: {}, homedir: '/h' }), '/h/.local/state/mesos-http-scheduler/a_b_c.json');
  assert.equal(defaultStateFilePath('..', { env: {}, homedir: '/h' }), '/h/.local/state/mesos-http-scheduler/_...json');
  assert.ok(path.isAbsolute(defaultStateFilePath('etl')));
});

test('a write that fails is STATE_IO with the path and leaves nothing behind; the next save still runs', async (t) => {
  const dir = path.join(tempDir(t), 'state');
  const file = path.join(dir, 'etl.json');
  const store = new FileStateStore(file);
  assert.equal(await store.load('etl'), undefined);
  fs.writeFileSync(dir, 'not a directory');
  await assert.rejects(store.save(state()), (err: unknown) => err instanceof StateStoreError && err.code === 'STATE_IO' && err.message.includes(file));
  fs.rmSync(dir);
  await store.save(state({ round: 7 }));
  assert.equal((await new FileStateStore(file).load('etl'))?.round, 7);
  assert.deepEqual(fs.readdirSync(dir), ['etl.json']);
});
