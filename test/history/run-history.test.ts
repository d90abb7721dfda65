/**
 * The run history from the runtime's signals: rounds with their outcome and
 * counts, the first 20 failed tasks with state, reason, source, message and
 * agent (a count for the rest), the last N runs, a round carried on after a
 * restart, and the file beside the state file that survives the process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FileHistoryStore, historyFileFor } from '../../src/history/file-history-store.js';
import { keepHistory } from '../../src/history/index.js';
import { RunHistory } from '../../src/history/run-history.js';
import { recordRuns } from '../../src/history/recorder.js';
import { Signals } from '../../src/runtime/signals.js';

const silent = pino({ level: 'silent' });

function clock(start = Date.parse('2026-12-03T10:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

/** One round of `tasks` tasks, `failing` of which fail, as the runtime signals it. */
function playRound(signals: Signals, round: number, tasks: number, failing: number, c = clock()): void {
  signals.emit('roundStarted', { round, tasks });
  for (let i = 1; i <= tasks; i++) {
    const taskId = `etl-r${round}-t${i}-abc`;
    signals.emit('taskLaunched', { taskId, round, agentId: `agent-${i % 3}` });
    signals.emit('taskState', { taskId, round, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
    c.advance(10);
    if (i <= failing) {
      signals.emit('taskState', { taskId, round, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', source: 'SOURCE_EXECUTOR', message: `Command exited with status ${i}` });
      signals.emit('taskEnded', { taskId, round, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', ok: false, message: `Command exited with status ${i}` });
    } else {
      signals.emit('taskEnded', { taskId, round, state: 'TASK_FINISHED', ok: true });
    }
  }
  signals.emit('roundFinished', { round, finished: tasks - failing, failed: failing });
}

describe('run history', () => {
  it('records a round: times, outcome, counts, and the first 20 failures in full', () => {
    const c = clock();
    const history = new RunHistory({ limit: 100, now: c.now });
    const signals = new Signals();
    recordRuns(signals, history, { name: 'etl', tasksPerRound: 30 });
    signals.emit('subscribed', { frameworkId: 'fw-1', master: 'm:5050', resubscribe: false });
    playRound(signals, 1, 30, 25, c);
    const [run] = history.runs('etl');
    assert.ok(run);
    assert.equal(run.run, 1);
    assert.equal(run.round, 1);
    assert.equal(run.frameworkId, 'fw-1');
    assert.equal(run.outcome, 'failed');
    assert.deepEqual([run.tasks, run.launched, run.finished, run.failed, run.retried], [30, 30, 5, 25, 0]);
    assert.equal(run.failures.length, 20);
    assert.equal(run.failuresNotListed, 5);
    assert.deepEqual(run.failures[2], {
      taskId: 'etl-r1-t3-abc', state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', source: 'SOURCE_EXECUTOR',
      message: 'Command exited with status 3', agentId: 'agent-0', endedAt: run.failures[2]!.endedAt,
    });
    assert.equal(run.durationMs, 300);
    assert.equal(run.endedAt, '2026-12-03T10:00:00.300Z');
    assert.equal(history.current('etl'), undefined);
    assert.equal(history.tasks('etl').size, 30, 'the latest round\'s tasks stay until the next round');
  });

  it('keeps the last N runs; run numbers count on', () => {
    const history = new RunHistory({ limit: 3 });
    const signals = new Signals();
    recordRuns(signals, history, { name: 'etl', tasksPerRound: 2 });
    for (let round = 1; round <= 5; round++) playRound(signals, round, 2, round === 4 ? 1 : 0);
    assert.deepEqual(history.runs('etl').map((r) => [r.run, r.outcome]), [[3, 'succeeded'], [4, 'failed'], [5, 'succeeded']]);
    assert.equal(history.run('etl', 4)?.failed, 1);
    assert.equal(history.run('etl', 1), undefined);
  });

  it('counts a task launched again after its ACCEPT never reached the master as retried', () => {
    const history = new RunHistory({ limit: 10 });
    const signals = new Signals();
    recordRuns(signals, history, { name: 'etl', tasksPerRound: 1 });
    signals.emit('roundStarted', { round: 1, tasks: 1 });
    signals.emit('taskLaunched', { taskId: 'a', round: 1, agentId: 's1' });
    signals.emit('taskUnlaunched', { taskId: 'a', round: 1, reason: 'the ACCEPT never reached the master' });
    signals.emit('taskLaunched', { taskId: 'b', round: 1, agentId: 's1' });
    assert.equal(history.current('etl')?.retried, 1);
    assert.equal(history.tasks('etl').get('a')?.state, 'NOT_LAUNCHED');
    assert.equal(history.current('etl')?.failed, 0, 'a task that never launched is not a failure');
  });

  it('carries a round on after a restart (no roundStarted), and closes a round a reset left open as interrupted', () => {
    const first = new RunHistory({ limit: 10 });
    const s1 = new Signals();
    recordRuns(s1, first, { name: 'etl', tasksPerRound: 2 });
    s1.emit('subscribed', { frameworkId: 'fw-1', master: 'm', resubscribe: false });
    s1.emit('roundStarted', { round: 1, tasks: 2 });
    s1.emit('taskLaunched', { taskId: 't1', round: 1, agentId: 's1' });
    const saved = JSON.parse(JSON.stringify(first.toDocument()));

    const second = new RunHistory({ limit: 10 });
    second.restore(saved);
    const s2 = new Signals();
    recordRuns(s2, second, { name: 'etl', tasksPerRound: 2 });
    s2.emit('subscribed', { frameworkId: 'fw-1', master: 'm', resubscribe: true });
    s2.emit('taskEnded', { taskId: 't1', round: 1, state: 'TASK_FINISHED', ok: true });
    s2.emit('taskEnded', { taskId: 't2', round: 1, state: 'TASK_LOST', ok: false, reason: 'REASON_RECONCILIATION' });
    s2.emit('roundFinished', { round: 1, finished: 1, failed: 1 });
    assert.deepEqual(second.runs('etl').map((r) => [r.run, r.round, r.outcome, r.finished, r.failed]), [[1, 1, 'failed', 1, 1]]);

    // A new framework (the state was reset) starting round 1 again: a new run, the old open one interrupted.
    const third = new RunHistory({ limit: 10 });
    third.restore(saved);
    const s3 = new Signals();
    recordRuns(s3, third, { name: 'etl', tasksPerRound: 2 });
    s3.emit('subscribed', { frameworkId: 'fw-2', master: 'm', resubscribe: false });
    s3.emit('roundStarted', { round: 1, tasks: 2 });
    assert.deepEqual(third.runs('etl').map((r) => [r.run, r.round, r.outcome]), [[1, 1, 'interrupted'], [2, 1, 'running']]);
  });

  it('is written beside the state file, atomically, and read back by the next process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    const file = historyFileFor(join(dir, 'etl.json'));
    assert.equal(file, join(dir, 'etl.history.json'));
    const history = new RunHistory({ limit: 100 });
    const signals = new Signals();
    const kept = await keepHistory(history, signals, { name: 'etl', tasksPerRound: 3 }, new FileHistoryStore(file), silent);
    playRound(signals, 1, 3, 1);
    playRound(signals, 2, 3, 0);
    signals.emit('roundStarted', { round: 3, tasks: 3 });
    await kept.stop({ interrupted: true });
    assert.deepEqual(readdirSync(dir), ['etl.history.json'], 'no temporary file left');

    const next = new RunHistory({ limit: 100 });
    await keepHistory(next, new Signals(), { name: 'etl', tasksPerRound: 3 }, new FileHistoryStore(file), silent);
    assert.deepEqual(next.runs('etl').map((r) => [r.run, r.outcome]), [[1, 'failed'], [2, 'succeeded'], [3, 'interrupted']]);
    assert.equal(next.run('etl', 1)?.failures[0]?.message, 'Command exited with status 1');
  });

  it('a round we killed is recorded killed (also with no task failed, or some finished), kept as such in the file, and a stop closes nothing of it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    const file = historyFileFor(join(dir, 'etl.json'));
    const history = new RunHistory({ limit: 100 });
    const signals = new Signals();
    const kept = await keepHistory(history, signals, { name: 'etl', tasksPerRound: 2 }, new FileHistoryStore(file), silent);
    signals.emit('roundStarted', { round: 1, tasks: 2 });
    signals.emit('roundFinished', { round: 1, finished: 0, failed: 0, killed: true });
    playRound(signals, 2, 2, 0);
    signals.emit('roundStarted', { round: 3, tasks: 2 });
    signals.emit('taskLaunched', { taskId: 'etl-r3-t1-abc', round: 3, agentId: 'agent-1' });
    signals.emit('taskEnded', { taskId: 'etl-r3-t1-abc', round: 3, state: 'TASK_FINISHED', ok: true });
    signals.emit('roundFinished', { round: 3, finished: 1, failed: 0, killed: true });
    await kept.stop({ interrupted: true });
    const next = new RunHistory({ limit: 100 });
    await keepHistory(next, new Signals(), { name: 'etl', tasksPerRound: 2 }, new FileHistoryStore(file), silent);
    assert.deepEqual(next.runs('etl').map((r) => [r.run, r.outcome, r.finished, r.failed]), [[1, 'killed', 0, 0], [2, 'succeeded', 2, 0], [3, 'killed', 1, 0]]);
  });

  it('an unreadable history file is reported and left as it is; the history is kept in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    const file = join(dir, 'etl.history.json');
    writeFileSync(file, '{not json');
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
    const history = new RunHistory({ limit: 100 });
    const signals = new Signals();
    const kept = await keepHistory(history, signals, { name: 'etl', tasksPerRound: 1 }, new FileHistoryStore(file), log);
    playRound(signals, 1, 1, 0);
    await kept.stop({ interrupted: false });
    assert.equal(readFileSync(file, 'utf8'), '{not json');
    assert.equal(history.runs('etl').length, 1);
    assert.match(lines.join(''), /run history not loaded .*not JSON.*left as it is/);
  });
});

describe('overlapping rounds (concurrency allow)', () => {
  it('keeps a run open per round in flight; each closes with its own outcome, and the tasks of both are listed', () => {
    const signals = new Signals();
    const history = new RunHistory({ limit: 10 });
    recordRuns(signals, history, { name: 'tick', tasksPerRound: 1, jobsOfFile: () => ['tick'] });
    signals.emit('roundStarted', { round: 1, tasks: 1, job: 'tick' });
    signals.emit('taskLaunched', { taskId: 'tick-r1-t1-abc', round: 1, agentId: 'a' });
    signals.emit('roundStarted', { round: 2, tasks: 1, job: 'tick', overlaps: [1] });
    signals.emit('taskLaunched', { taskId: 'tick-r2-t1-abc', round: 2, agentId: 'a' });
    assert.deepEqual(history.inFlight('tick').map((r) => [r.round, r.outcome]), [[1, 'running'], [2, 'running']]);
    assert.equal(history.current('tick')?.round, 2);
    assert.deepEqual([...history.tasks('tick').values()].map((t) => [t.taskId, t.round]), [['tick-r1-t1-abc', 1], ['tick-r2-t1-abc', 2]]);

    signals.emit('taskEnded', { taskId: 'tick-r2-t1-abc', round: 2, state: 'TASK_FAILED', ok: false });
    signals.emit('roundFinished', { round: 2, finished: 0, failed: 1, job: 'tick' });
    signals.emit('taskEnded', { taskId: 'tick-r1-t1-abc', round: 1, state: 'TASK_FINISHED', ok: true });
    signals.emit('roundFinished', { round: 1, finished: 1, failed: 0, job: 'tick' });
    assert.deepEqual(history.runs('tick').map((r) => [r.run, r.round, r.outcome]), [[1, 1, 'succeeded'], [2, 2, 'failed']]);
    assert.deepEqual(history.inFlight('tick'), []);

    // A round that does not overlap (none in flight, or not named) closes the runs left open as interrupted.
    signals.emit('roundStarted', { round: 3, tasks: 1, job: 'tick' });
    signals.emit('taskLaunched', { taskId: 'tick-r3-t1-abc', round: 3, agentId: 'a' });
    assert.deepEqual([...history.tasks('tick').keys()], ['tick-r3-t1-abc'], 'the tasks of rounds no longer in flight go');
    signals.emit('roundStarted', { round: 4, tasks: 1, job: 'tick' });
    assert.deepEqual(history.runs('tick').map((r) => [r.round, r.outcome]).slice(2), [[3, 'interrupted'], [4, 'running']]);
  });
});
