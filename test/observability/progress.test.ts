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
