import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Signals } from '../../src/runtime/signals.js';
import { aroundProgressLine, startProgressLine } from '../../src/observability/progress.js';

/** A fake terminal: keeps what was written and shows the screen as a user would see it. */
function fakeTerminal(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    stream: { isTTY, columns: 120, write: (chunk: string) => chunks.push(chunk) },
    raw: () => chunks.join(''),
    /** Lines on screen: `\r` + erase-line rewrites the current line. */
    screen: () => {
      const lines = [''];
      for (const chunk of chunks) {
        for (const part of chunk.split(/(\r\x1b\[2K|\n)/)) {
          if (part === '\r\x1b[2K') lines[lines.length - 1] = '';
          else if (part === '\n') lines.push('');
          else lines[lines.length - 1] += part;
        }
      }
      return lines;
    },
  };
}

/** A manual timer in place of setInterval. */
function manualTimer() {
  let tick: (() => void) | undefined;
  return {
    every: (fn: () => void) => {
      tick = fn;
      return () => {
        tick = undefined;
      };
    },
    fire: () => tick?.(),
    running: () => tick !== undefined,
  };
}

test('draws one live line per round on a terminal, then the cooldown countdown', () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  const timer = manualTimer();
  let clock = 1_000_000;
  const line = startProgressLine({ signals, stream: term.stream, now: () => clock, every: timer.every });

  signals.emit('roundStarted', { round: 3, tasks: 3 });
  assert.deepEqual(term.screen(), ['round 3 · running 0 · finished 0 · failed 0']);
  for (const id of ['a', 'b', 'c']) signals.emit('taskLaunched', { taskId: id, round: 3, agentId: 'agent' });
  assert.deepEqual(term.screen(), ['round 3 · running 3 · finished 0 · failed 0']);
  signals.emit('taskEnded', { taskId: 'a', round: 3, state: 'TASK_FINISHED', ok: true });
  signals.emit('taskEnded', { taskId: 'b', round: 3, state: 'TASK_FAILED', ok: false });
  assert.equal(line.text(), 'round 3 · running 1 · finished 1 · failed 1');
  signals.emit('disconnected', { reason: 'STREAM_ENDED', message: 'gone' });
  assert.equal(line.text(), 'round 3 · running 1 · finished 1 · failed 1 · disconnected (STREAM_ENDED)');
  signals.emit('subscribed', { frameworkId: 'fw', master: 'm', resubscribe: true });
  signals.emit('taskEnded', { taskId: 'c', round: 3, state: 'TASK_FINISHED', ok: true });
  signals.emit('roundFinished', { round: 3, finished: 2, failed: 1 });
  assert.deepEqual(term.screen(), ['round 3 done · finished 2 · failed 1', '']);

  signals.emit('cooldown', { round: 3, until: clock + 42_000 });
  assert.deepEqual(term.screen(), ['round 3 done · finished 2 · failed 1', 'cooldown 42s left']);
  assert.ok(timer.running());
  clock += 1000;
  timer.fire();
  assert.deepEqual(term.screen(), ['round 3 done · finished 2 · failed 1', 'cooldown 41s left']);
  clock += 41_000;
  timer.fire();
  assert.equal(term.screen()[1], 'cooldown 0s left');
  assert.equal(timer.running(), false, 'stops ticking when the cooldown is over');

  signals.emit('roundStarted', { round: 4, tasks: 3 });
  assert.deepEqual(term.screen(), ['round 3 done · finished 2 · failed 1', 'round 4 · running 0 · finished 0 · failed 0']);
  line.stop();
  assert.ok(term.raw().endsWith('\n'), 'stop leaves the cursor on a fresh line');
  signals.emit('roundStarted', { round: 5, tasks: 3 });
  assert.equal(term.screen().length, 3, 'nothing drawn after stop');
});

test('ignores news of other rounds', () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  const line = startProgressLine({ signals, stream: term.stream, every: manualTimer().every });
  signals.emit('roundStarted', { round: 2, tasks: 1 });
  signals.emit('taskEnded', { taskId: 'old', round: 1, state: 'TASK_FINISHED', ok: true });
  assert.equal(line.text(), 'round 2 · running 0 · finished 0 · failed 0');
  line.stop();
});

test('writes nothing when the stream is not a terminal', () => {
  const signals = new Signals();
  const term = fakeTerminal(false);
  const line = startProgressLine({ signals, stream: term.stream });
  signals.emit('roundStarted', { round: 1, tasks: 1 });
  signals.emit('roundFinished', { round: 1, finished: 1, failed: 0 });
  signals.emit('cooldown', { round: 1, until: Date.now() + 60_000 });
  line.stop();
  assert.equal(term.raw(), '');
  assert.equal(signals.listenerCount('roundStarted'), 0);
});

test('log lines written around the status line do not mix with it', async () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  const line = startProgressLine({ signals, stream: term.stream, every: manualTimer().every });
  const logs = aroundProgressLine(line, term.stream);
  assert.equal(logs.isTTY, true);
  signals.emit('roundStarted', { round: 1, tasks: 2 });
  await new Promise<void>((resolve) => logs.write('INFO task launched\n', () => resolve()));
  assert.deepEqual(term.screen(), ['INFO task launched', 'round 1 · running 0 · finished 0 · failed 0']);
  line.stop();
});

test('a --jobs run: one segment per round in progress, each job counted by its own rounds and task ids', () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  const timer = manualTimer();
  let clock = 5_000_000;
  term.stream.columns = 200;
  const jobs = ['extract', 'load', 'drain', 'report'];
  const line = startProgressLine({ signals, stream: term.stream, jobs: () => jobs, now: () => clock, every: timer.every });

  // Two jobs with rounds at the same time, both numbered 3, and tasks of each ending in turn.
  signals.emit('roundStarted', { round: 3, tasks: 3, job: 'extract' });
  signals.emit('roundStarted', { round: 3, tasks: 2, job: 'load' });
  assert.equal(line.text(), 'extract r3 0/3 run 0 | load r3 0/2 run 0 | 2 idle');
  for (const id of ['extract-r3-t0-run1', 'extract-r3-t1-run1', 'extract-r3-t2-run1']) signals.emit('taskLaunched', { taskId: id, round: 3, agentId: 'a' });
  for (const id of ['load-r3-t0-run1', 'load-r3-t1-run1']) signals.emit('taskLaunched', { taskId: id, round: 3, agentId: 'a' });
  signals.emit('taskEnded', { taskId: 'extract-r3-t0-run1', round: 3, state: 'TASK_FINISHED', ok: true });
  signals.emit('taskEnded', { taskId: 'load-r3-t1-run1', round: 3, state: 'TASK_FAILED', ok: false });
  signals.emit('taskRetry', { taskId: 'extract-r3-t1-run1', round: 3, state: 'TASK_FAILED' });
  assert.equal(line.text(), 'extract r3 1/3 run 1 | load r3 0/2 run 1 fail 1 | 2 idle');
  assert.deepEqual(term.screen(), ['extract r3 1/3 run 1 | load r3 0/2 run 1 fail 1 | 2 idle']);
  // A task of another round of the same job is not counted.
  signals.emit('taskEnded', { taskId: 'load-r2-t0-run1', round: 2, state: 'TASK_FINISHED', ok: true });
  assert.equal(line.text(), 'extract r3 1/3 run 1 | load r3 0/2 run 1 fail 1 | 2 idle');

  // load's round ends: a line in the scrollback, its cooldown on the status line, ticking.
  signals.emit('taskEnded', { taskId: 'load-r3-t0-run1', round: 3, state: 'TASK_FINISHED', ok: true });
  signals.emit('roundFinished', { round: 3, finished: 1, failed: 1, job: 'load' });
  signals.emit('cooldown', { round: 3, until: clock + 30_000, job: 'load' });
  assert.deepEqual(term.screen(), ['load round 3 done · finished 1 · failed 1', 'extract r3 1/3 run 1 | load cooldown 30s | 2 idle']);
  clock += 1000;
  timer.fire();
  assert.equal(term.screen()[1], 'extract r3 1/3 run 1 | load cooldown 29s | 2 idle');

  // With concurrency allow a job can have two rounds at once: each its own segment.
  signals.emit('roundStarted', { round: 1, tasks: 1, job: 'drain' });
  signals.emit('roundStarted', { round: 2, tasks: 1, job: 'drain' });
  signals.emit('taskLaunched', { taskId: 'drain-r2-t0-run1', round: 2, agentId: 'a' });
  assert.equal(line.text(), 'extract r3 1/3 run 1 | drain r1 0/1 run 0 | drain r2 0/1 run 1 | load cooldown 29s | 1 idle');
  signals.emit('disconnected', { reason: 'STREAM_ENDED', message: 'gone' });
  assert.equal(line.text(), 'disconnected (STREAM_ENDED) · extract r3 1/3 run 1 | drain r1 0/1 run 0 | drain r2 0/1 run 1 | load cooldown 29s | 1 idle');
  signals.emit('subscribed', { frameworkId: 'fw', master: 'm', resubscribe: true });

  // The cooldown over, ticking stops; load's next round takes its place.
  clock += 29_000;
  timer.fire();
  assert.equal(timer.running(), false);
  signals.emit('roundStarted', { round: 4, tasks: 1, job: 'load' });
  assert.equal(line.text(), 'extract r3 1/3 run 1 | load r4 0/1 run 0 | drain r1 0/1 run 0 | drain r2 0/1 run 1 | 1 idle');

  // A removed job (not in the list any more) stays on the line until it is forgotten.
  jobs.splice(jobs.indexOf('drain'), 1);
  assert.equal(line.text(), 'extract r3 1/3 run 1 | load r4 0/1 run 0 | drain r1 0/1 run 0 | drain r2 0/1 run 1 | 1 idle');
  signals.emit('jobRemoved', { job: 'drain' });
  assert.equal(line.text(), 'extract r3 1/3 run 1 | load r4 0/1 run 0 | 1 idle');
  line.stop();
});

test('a --jobs run: the line is cut to the terminal width, what does not fit counted', () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  term.stream.columns = 51;
  const jobs = ['extract', 'load', 'drain', 'a', 'b'];
  const line = startProgressLine({ signals, stream: term.stream, jobs: () => jobs, every: manualTimer().every });
  for (const job of ['extract', 'load', 'drain']) signals.emit('roundStarted', { round: 1, tasks: 4, job });
  // Whole: 'extract r1 0/4 run 0 | load r1 0/4 run 0 | drain r1 0/4 run 0 | 2 idle'
  assert.equal(line.text(), 'extract r1 0/4 run 0 | load r1 0/4 run 0 | +3 more');
  assert.ok(line.text().length <= 50);
  assert.deepEqual(term.screen(), ['extract r1 0/4 run 0 | load r1 0/4 run 0 | +3 more']);
  term.stream.columns = 31;
  assert.equal(line.text(), 'extract r1 0/4 run 0 | +4 more');
  line.stop();
});

test('the flags\' job keeps its one-round line even when the jobs list names it', () => {
  const signals = new Signals();
  const term = fakeTerminal(true);
  const line = startProgressLine({ signals, stream: term.stream, jobs: () => ['sleeper'], every: manualTimer().every });
  signals.emit('roundStarted', { round: 1, tasks: 2 });
  signals.emit('taskLaunched', { taskId: 'sleeper-r1-t0-abc', round: 1, agentId: 'a' });
  signals.emit('taskEnded', { taskId: 'sleeper-r1-t1-abc', round: 1, state: 'TASK_FINISHED', ok: true });
  assert.equal(line.text(), 'round 1 · running 1 · finished 1 · failed 0');
  line.stop();
});
