/**
 * Live progress on a terminal: one status line per round, redrawn in place on
 * every signal and once a second during the cooldown:
 *
 *   round 3 · running 2 · finished 3 · failed 0
 *   round 3 done · finished 5 · failed 0
 *   cooldown 42s left
 *
 * A round's line is finished with a newline when the round ends, so the
 * scrollback keeps one line per round. Not a TTY: does nothing (the logger's
 * plain or JSON lines carry the same facts).
 */
import { Writable } from 'node:stream';
import type { Signals, SignalMap } from '../runtime/signals.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  signals: Signals;
  /** Usually process.stderr. */
  stream: ProgressStream;
  /** Whether to draw; default `stream.isTTY`. */
  isTTY?: boolean;
  now?: () => number;
  /** Calls `tick` every `ms` until the returned function is called; default an unref'd setInterval. */
  every?: (tick: () => void, ms: number) => () => void;
}

export interface ProgressLine {
  /** The line as it would be drawn now ('' when nothing to show). */
  text(): string;
  /**
   * Runs `write` (which prints whole lines to the same terminal, e.g. a log
   * line) with the status line taken away first and drawn again after, so
   * the two do not mix.
   */
  around(write: () => void): void;
  stop(): void;
}

const CLEAR_LINE = '\r\x1b[2K';

export function startProgressLine(options: ProgressOptions): ProgressLine {
  const enabled = options.isTTY ?? options.stream.isTTY === true;
  if (!enabled) return { text: () => '', around: (write) => write(), stop: () => undefined };
  const { signals, stream } = options;
  const now = options.now ?? Date.now;
  const every = options.every ?? defaultEvery;

  let round = 0;
  const running = new Set<string>();
  let finished = 0;
  let failed = 0;
  let cooldownUntil: number | null = null;
  let stopTicking: (() => void) | null = null;
  let disconnected: string | null = null;
  /** A line is on screen without its newline. */
  let drawn = false;

  const text = (): string => {
    const connection = disconnected === null ? '' : ` · disconnected (${disconnected})`;
    if (cooldownUntil !== null) {
      const left = Math.max(0, Math.ceil((cooldownUntil - now()) / 1000));
      return `cooldown ${left}s left${connection}`;
    }
    if (round === 0) return '';
    return `round ${round} · running ${running.size} · finished ${finished} · failed ${failed}${connection}`;
  };
  const draw = (): void => {
    const line = text();
    if (line === '' && !drawn) return;
    const width = options.stream.columns;
    stream.write(CLEAR_LINE + (width !== undefined && width > 1 ? line.slice(0, width - 1) : line));
    drawn = line !== '';
  };
  const endLine = (line: string): void => {
    stream.write(`${CLEAR_LINE}${line}\n`);
    drawn = false;
  };
  const stopCooldown = (): void => {
    stopTicking?.();
    stopTicking = null;
    cooldownUntil = null;
  };

  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    roundStarted: (s) => {
      if (cooldownUntil !== null && drawn) stream.write(CLEAR_LINE);
      stopCooldown();
      drawn = false;
      round = s.round;
      running.clear();
      finished = 0;
      failed = 0;
      draw();
    },
    taskLaunched: ({ taskId, round: r }) => {
      if (r !== round) return;
      running.add(taskId);
      draw();
    },
    taskUnlaunched: ({ taskId, round: r }) => {
      if (r !== round) return;
      running.delete(taskId);
      draw();
    },
    taskEnded: ({ taskId, round: r, ok }) => {
      if (r !== round) return;
      running.delete(taskId);
      if (ok) finished++;
      else failed++;
      draw();
    },
    roundFinished: (s) => {
      endLine(`round ${s.round} done · finished ${s.finished} · failed ${s.failed}`);
    },
    cooldown: ({ until }) => {
      stopCooldown();
      cooldownUntil = until;
      draw();
      stopTicking = every(() => {
        draw();
        if (cooldownUntil !== null && now() >= cooldownUntil) stopTicking?.();
      }, 1000);
    },
    disconnected: ({ reason }) => {
      disconnected = reason;
      draw();
    },
    subscribed: () => {
      if (disconnected === null) return;
      disconnected = null;
      draw();
    },
  };
  for (const [name, listener] of Object.entries(listeners)) signals.on(name as keyof SignalMap, listener as never);

  return {
    text,
    around(write) {
      if (!drawn) return write();
      stream.write(CLEAR_LINE);
      drawn = false;
      write();
      draw();
    },
    stop() {
      for (const [name, listener] of Object.entries(listeners)) signals.off(name as keyof SignalMap, listener as never);
      stopCooldown();
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

function defaultEvery(tick: () => void, ms: number): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A stream for the logger on the same terminal: every write goes to `target`
 * with the status line taken away first and redrawn after.
 */
export function aroundProgressLine(line: ProgressLine, target: ProgressStream): Writable & { isTTY?: boolean } {
  const stream: Writable & { isTTY?: boolean } = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      line.around(() => target.write(typeof chunk === 'string' ? chunk : chunk.toString()));
      done();
    },
  });
  if (target.isTTY !== undefined) stream.isTTY = target.isTTY;
  return stream;
}
