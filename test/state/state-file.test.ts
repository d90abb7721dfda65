import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import type { PersistedState, PersistedTask, StateDelta } from '../../machines/contract.js';
import { createLogger } from '../../src/observability/logger.js';
import { decodeRecords } from '../../src/state/journal-records.js';
import { JOURNAL_MAGIC } from '../../src/state/state-file-format.js';
import { defaultStateFilePath, FileStateStore, readStateFile, type CommitInfo } from '../../src/state/state-file.js';
import { StateStoreError, type StateChange } from '../../src/state/store.js';
import { withSmallFs } from '../helpers/small-fs.js';

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

/** A model of the machines' persists: the whole state, and a delta from the previous one. */
class Persists {
  current: PersistedState;
  constructor(initial: PersistedState = state()) {
    this.current = initial;
  }
  change(over: Partial<Omit<PersistedState, 'tasks'>>, upsert: PersistedTask[] = [], remove: string[] = []): StateChange {
    const tasks = new Map(this.current.tasks.map((x) => [x.taskId, x]));
    for (const id of remove) tasks.delete(id);
    for (const x of upsert) tasks.set(x.taskId, x);
    const { tasks: _old, ...header } = { ...this.current, ...over };
    this.current = { ...header, tasks: [...tasks.values()] };
    const delta: StateDelta = { header, upsert, remove };
    return { state: this.current, delta };
  }
  launch(round: number, index: number): StateChange {
    return this.change({ round, launchedInRound: index + 1 }, [{ taskId: `etl-r${round}-t${index}`, round, index, state: 'PENDING_LAUNCH' }]);
  }
}

function logSink(): { log: ReturnType<typeof createLogger>; lines: () => { level: number; msg: string; offset?: number }[] } {
  const chunks: string[] = [];
  const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) });
  return { log, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

test('round trip: missing file loads as undefined; a snapshot, then changes appended, load back; parent directories are created', async (t) => {
  const file = path.join(tempDir(t), 'nested', 'dir', 'etl.json');
  const infos: CommitInfo[] = [];
  const store = new FileStateStore(file, { onWrite: (i) => infos.push(i), cluster: 'c1' });
  assert.equal(await store.load('etl'), undefined);
  const p = new Persists();
  await store.commit([{ state: p.current }]);
  const inode = fs.statSync(file).ino;
  await store.commit([p.launch(3, 0), p.launch(3, 1)]);
  await store.commit([p.change({}, [{ taskId: 'etl-r3-t0', round: 3, index: 0, state: 'TASK_FINISHED', agentId: 'a' }], ['etl-abc-2-0'])]);
  assert.equal(fs.statSync(file).ino, inode, 'changes are appended to the same file');
  assert.deepEqual(infos.map((i) => [i.snapshot, i.records]), [[true, 1], [false, 2], [false, 1]]);
  assert.deepEqual(await new FileStateStore(file).load('etl'), { state: p.current, cluster: 'c1' });
  assert.deepEqual(await readStateFile(file, 'etl'), { state: p.current, cluster: 'c1' });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['etl.json'], 'no temp files left behind');
  assert.ok(fs.readFileSync(file).subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC));
  assert.match(store.description, /etl\.json$/);
});

test('a change without a delta writes a snapshot; a store that loaded goes on appending', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const p = new Persists();
  const a = new FileStateStore(file);
  await a.commit([p.launch(2, 5), { state: p.current }, p.launch(2, 6)]);
  const records = decodeRecords(fs.readFileSync(file), JOURNAL_MAGIC.length).records.map((r) => (r.record as { k: string }).k);
  assert.deepEqual(records, ['snapshot', 'delta'], 'what came before the whole state is not written');
  await a.close();
  const b = new FileStateStore(file);
  assert.deepEqual((await b.load('etl'))?.state, p.current);
  await b.commit([p.launch(2, 7)]);
  assert.deepEqual((await readStateFile(file, 'etl'))?.state, p.current);
});

test('compaction keeps the journal bounded: changes since the snapshot never outgrow the limit and twice the snapshot', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const infos: CommitInfo[] = [];
  const store = new FileStateStore(file, { compactMinBytes: 4096, onWrite: (i) => infos.push(i) });
  const p = new Persists(state({ tasks: [] }));
  await store.commit([{ state: p.current }]);
  let largest = 0;
  for (let i = 0; i < 600; i++) {
    const id = `etl-r2-t${i % 20}`;
    await store.commit([p.change({ launchedInRound: i }, [{ taskId: id, round: 2, index: i % 20, state: i % 3 === 0 ? 'TASK_RUNNING' : 'PENDING_LAUNCH' }])]);
    largest = Math.max(largest, fs.statSync(file).size);
  }
  assert.ok(infos.filter((i) => i.snapshot).length > 5, 'compacted now and then');
  assert.ok(largest < 16 * 1024, `the file stayed small (largest ${largest} bytes)`);
  assert.deepEqual((await new FileStateStore(file).load('etl'))?.state, p.current);
});

test('a state file of format 1 (whole JSON) is read and migrated to a journal once', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  fs.writeFileSync(file, `${JSON.stringify(state(), null, 2)}\n`);
  const sink = logSink();
  const store = new FileStateStore(file, { logger: sink.log, cluster: 'm1:5050' });
  assert.deepEqual(await store.load('etl'), { state: state() }, 'the old file has no cluster');
  assert.ok(fs.readFileSync(file).subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC), 'rewritten as a journal');
  assert.equal(sink.lines().filter((l) => /migrated .* from format 1/.test(l.msg)).length, 1);
  const p = new Persists(state());
  await store.commit([p.launch(2, 2)]);
  const again = logSink();
  assert.deepEqual(await new FileStateStore(file, { logger: again.log }).load('etl'), { state: p.current, cluster: 'm1:5050' });
  assert.equal(again.lines().filter((l) => /migrated/.test(l.msg)).length, 0, 'migrated once');
});

/** A journal of a snapshot and three changes; returns the file, the states after each record, and where the last record starts. */
async function journalOfFour(dir: string): Promise<{ file: string; states: PersistedState[]; lastStart: number; bytes: Buffer }> {
  const file = path.join(dir, 'etl.json');
  const store = new FileStateStore(file);
  const p = new Persists();
  const states: PersistedState[] = [];
  await store.commit([{ state: p.current }]);
  states.push(p.current);
  for (let i = 0; i < 3; i++) {
    await store.commit([p.launch(2, 2 + i)]);
    states.push(p.current);
  }
  await store.close();
  const bytes = fs.readFileSync(file);
  const records = decodeRecords(bytes, JOURNAL_MAGIC.length).records;
  assert.equal(records.length, 4);
  return { file, states, lastStart: records[3]!.offset, bytes };
}

test('SIGKILL at every byte of the last record: the torn record is dropped and logged, the rest loads, and writing goes on after it', async (t) => {
  const dir = tempDir(t);
  const { file, states, lastStart, bytes } = await journalOfFour(dir);
  for (let cut = lastStart; cut < bytes.length; cut++) {
    fs.writeFileSync(file, bytes.subarray(0, cut));
    const sink = logSink();
    const store = new FileStateStore(file, { logger: sink.log });
    assert.deepEqual((await store.load('etl'))?.state, states[2], `cut at ${cut}`);
    const torn = sink.lines().filter((l) => /dropped a torn last record/.test(l.msg));
    assert.equal(torn.length, cut === lastStart ? 0 : 1, `cut at ${cut}: logged once when torn`);
    if (torn.length) assert.match(torn[0]!.msg, new RegExp(`byte offset ${lastStart} of state file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The next commit goes where the intact records end.
    const p = new Persists(states[2]);
    await store.commit([p.launch(3, 0)]);
    await store.close();
    assert.deepEqual((await readStateFile(file, 'etl'))?.state, p.current, `cut at ${cut}: written after the torn record`);
  }
});

test('a last record that fails its checksum (a torn sector) is dropped; a damaged record before the end is one error naming the file and offset, and nothing is overwritten', async (t) => {
  const dir = tempDir(t);
  const { file, states, lastStart, bytes } = await journalOfFour(dir);
  const lastFlipped = Buffer.from(bytes);
  lastFlipped[lastStart + 12] = lastFlipped[lastStart + 12]! ^ 0x20;
  fs.writeFileSync(file, lastFlipped);
  assert.deepEqual((await new FileStateStore(file).load('etl'))?.state, states[2]);

  const records = decodeRecords(bytes, JOURNAL_MAGIC.length).records;
  const middle = records[2]!.offset;
  const damaged = Buffer.from(bytes);
  damaged[middle + 12] = damaged[middle + 12]! ^ 0x20;
  fs.writeFileSync(file, damaged);
  const store = new FileStateStore(file);
  const check = (err: unknown): boolean =>
    err instanceof StateStoreError && err.code === 'STATE_CORRUPT' && err.message.includes(file) &&
    err.message.includes(`damaged at byte offset ${middle}`) && /left untouched/.test(err.message);
  await assert.rejects(store.load('etl'), check);
  await assert.rejects(store.commit([new Persists(states[3]).launch(4, 0)]), check, 'commits refuse after a failed load');
  assert.ok(fs.readFileSync(file).equals(damaged), 'left untouched');

  // Zeros where a record's length should be, in the middle: corrupt too.
  const zeroed = Buffer.concat([bytes.subarray(0, middle), Buffer.alloc(8), bytes.subarray(middle + 8)]);
  fs.writeFileSync(file, zeroed);
  await assert.rejects(new FileStateStore(file).load('etl'), (err: unknown) => err instanceof StateStoreError && err.code === 'STATE_CORRUPT' && err.message.includes(`offset ${middle}`));
  // Zeros to the end (space allocated for a write that never landed): torn.
  fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, lastStart), Buffer.alloc(100)]));
  assert.deepEqual((await new FileStateStore(file).load('etl'))?.state, states[2]);
});

test('a real process killed with SIGKILL while committing: what it was told is on disk is there, and the file loads', async (t) => {
  const dir = tempDir(t);
  const dist = path.resolve('dist/src/state/state-file.js');
  const script = `
    import { FileStateStore } from ${JSON.stringify(dist)};
    const store = new FileStateStore(process.argv[1]);
    await store.load('etl');
    const base = { version: 1, frameworkName: 'etl', round: 1, completedRounds: 0, allFinished: true, phase: 'round' };
    await store.commit([{ state: { ...base, tasks: [] } }]);
    const pad = 'x'.repeat(3000);
    for (let i = 1; ; i++) {
      const header = { ...base, launchedInRound: i };
      const upsert = Array.from({ length: 5 }, (_, k) => ({ taskId: 'etl-t' + (i * 5 + k) + '-' + pad, round: 1, index: i, state: 'PENDING_LAUNCH' }));
      await store.commit([{ get state() { throw new Error('not needed'); }, delta: { header, upsert, remove: [] } }]);
      process.stdout.write(i + '\\n');
    }`;
  const { spawn } = await import('node:child_process');
  for (const after of [1, 7, 30, 90]) {
    const file = path.join(dir, `kill-${after}.json`);
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let confirmed = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = String(chunk).trim().split('\n');
        confirmed = Number(lines[lines.length - 1]);
        if (confirmed >= after && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    const loaded = (await new FileStateStore(file).load('etl'))!.state;
    assert.ok((loaded.launchedInRound ?? 0) >= confirmed, `killed after ${confirmed} confirmed commits; the file holds ${loaded.launchedInRound}`);
    assert.equal(loaded.tasks.length, (loaded.launchedInRound ?? 0) * 5, 'every change whole or not at all');
  }
});

test('a commit that fails for real (ENOSPC on a full file system) is STATE_IO and leaves the journal as it was; retried with space, it lands', async (t) => {
  const small = withSmallFs(t, 256 * 1024);
  const file = path.join(small.dir, 'etl.json');
  const store = new FileStateStore(file, { compactMinBytes: 1024 * 1024 });
  const p = new Persists();
  await store.commit([{ state: p.current }]);
  await store.commit([p.launch(2, 2)]);
  const committed = p.current;
  small.fill();
  const big = (i: number): StateChange =>
    p.change({ launchedInRound: 100 + i }, [{ taskId: `etl-big-${i}-${'y'.repeat(2000)}`, round: 2, index: 100 + i, state: 'PENDING_LAUNCH' }]);
  const failing: StateChange[] = [];
  let failure: unknown;
  for (let i = 0; i < 20 && failure === undefined; i++) {
    failing.push(big(i));
    try {
      await store.commit(failing.slice(-1));
      failing.length = 0;
    } catch (err) {
      failure = err;
    }
  }
  assert.ok(failure instanceof StateStoreError && failure.code === 'STATE_IO' && /ENOSPC/.test(failure.message) && failure.message.includes(file), String(failure));
  const before = (await readStateFile(file, 'etl'))!.state;
  assert.ok(before.launchedInRound! >= committed.launchedInRound!, 'what was committed is still there');
  assert.notDeepEqual(before, p.current, 'the failed change is not');
  small.free();
  await store.commit(failing);
  assert.deepEqual((await readStateFile(file, 'etl'))?.state, p.current, 'retried, it lands');
});

test('a corrupt file is reported with its path and a remedy, and never overwritten', async (t) => {
  const file = path.join(tempDir(t), 'etl.json');
  const cases: [string, RegExp][] = [
    ['{"version":1,"frameworkName":"etl"', /not JSON/],
    ['', /neither a state journal nor a JSON state file/],
    ['[1,2]', /neither a state journal/],
    [JSON.stringify({ ...state(), version: 2 }), /format version 2 was written by a newer/],
    [JSON.stringify({ ...state(), round: -1 }), /round is not a non-negative integer/],
    [JSON.stringify({ ...state(), tasks: [{ taskId: 'x', round: 1, index: 0, state: 'RUNNING' }] }), /tasks\[0\]: state "RUNNING"/],
    [JSON.stringify({ ...state(), phase: 'sleeping' }), /phase "sleeping"/],
    [JOURNAL_MAGIC.toString(), /holds no snapshot/],
  ];
  for (const [content, re] of cases) {
    fs.writeFileSync(file, content);
    const store = new FileStateStore(file);
    const check = (err: unknown): boolean =>
      err instanceof StateStoreError && err.code === 'STATE_CORRUPT' && re.test(err.message) && err.message.includes(file) && /move it away|--state-file/.test(err.message);
    await assert.rejects(store.load('etl'), check, content);
    await assert.rejects(store.commit([{ state: state() }]), check, 'commit refuses after a failed load');
    assert.equal(fs.readFileSync(file, 'utf8'), content, 'left untouched');
  }
  fs.renameSync(file, `${file}.bad`);
  const store = new FileStateStore(file);
  assert.equal(await store.load('etl'), undefined);
  await store.commit([{ state: state() }]);
  assert.equal((await store.load('etl'))?.state.frameworkId, 'fw-0001');
});

test("another framework's file is STATE_FOREIGN, with or without load() first, and left untouched", async (t) => {
  const file = path.join(tempDir(t), 'shared.json');
  const theirs = JSON.stringify(state({ frameworkName: 'billing' }));
  fs.writeFileSync(file, theirs);
  const check = (err: unknown): boolean =>
    err instanceof StateStoreError && err.code === 'STATE_FOREIGN' && err.message.includes("'billing'") && err.message.includes("'etl'") && err.message.includes(file);
  await assert.rejects(new FileStateStore(file).load('etl'), check);
  await assert.rejects(new FileStateStore(file).commit([{ state: state() }]), check, 'commit without load checks too');
  assert.equal(fs.readFileSync(file, 'utf8'), theirs);
});

test('defaultStateFilePath follows XDG_STATE_HOME, else ~/.local/state', () => {
  assert.equal(defaultStateFilePath('etl', { env: { XDG_STATE_HOME: '/var/xdg' }, homedir: '/home/u' }), '/var/xdg/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('etl', { env: {}, homedir: '/home/u' }), '/home/u/.local/state/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('etl', { env: { XDG_STATE_HOME: 'relative' }, homedir: '/home/u' }), '/home/u/.local/state/mesos-http-scheduler/etl.json');
  assert.equal(defaultStateFilePath('a/b c', { env: {}, homedir: '/h' }), '/h/.local/state/mesos-http-scheduler/a_b_c.json');
  assert.equal(defaultStateFilePath('..', { env: {}, homedir: '/h' }), '/h/.local/state/mesos-http-scheduler/_...json');
  assert.ok(path.isAbsolute(defaultStateFilePath('etl')));
});

test('a snapshot write that fails is STATE_IO with the path and leaves nothing behind; the next commit still runs', async (t) => {
  const dir = path.join(tempDir(t), 'state');
  const file = path.join(dir, 'etl.json');
  const store = new FileStateStore(file);
  assert.equal(await store.load('etl'), undefined);
  fs.writeFileSync(dir, 'not a directory');
  await assert.rejects(store.commit([{ state: state() }]), (err: unknown) => err instanceof StateStoreError && err.code === 'STATE_IO' && err.message.includes(file));
  fs.rmSync(dir);
  await store.commit([{ state: state({ round: 7 }) }]);
  assert.equal((await new FileStateStore(file).load('etl'))?.state.round, 7);
  assert.deepEqual(fs.readdirSync(dir), ['etl.json']);
});
