/**
 * Live progress on a terminal: one status line, redrawn in place on every
 * signal and once a second during a cooldown.
 *
 * The flags' single job: one line per round.
 *
 *   round 3 · running 2 · finished 3 · failed 0
 *   round 3 done · finished 5 · failed 0
 *   cooldown 42s left
 *
 * A round's line is finished with a newline when the round ends, so the
 * scrollback keeps one line per round.
 *
 * A `--jobs` file (the round signals name their job): one line for every job,
 * a segment per round in progress (finished of the round's tasks, running,
 * failed when any), then the jobs in their cooldown, then how many are idle
 * (waiting for their schedule or parents, or done), cut to the terminal's
 * width with what does not fit counted:
 *
 *   extract r3 3/5 run 2 fail 1 | load r1 0/1 run 1 | drain cooldown 42s | 2 idle
 *
 * Each round that ends leaves a line in the scrollback above it
 * (`extract round 3 done · finished 4 · failed 1`).
 *
 * Not a TTY: does nothing (the logger's plain or JSON lines carry the same facts).
 */
import { Writable } from 'node:stream';
import { jobOfTask } from '../../machines/supervisor/supervisor.context.js';
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
  /**
   * The jobs in force (a `--jobs` file's, in its order), read when drawing:
   * those with no round in progress and no cooldown are counted as idle. The
   * flags' job may be passed too: the per-job line is drawn only once a round
   * signal names its job.
   */
  jobs?: () => readonly string[];
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
/** The key of the flags' job, whose round signals name none. */
const SINGLE = '';
const SEPARATOR = ' | ';

interface RoundProgress {
  tasks: number;
  running: Set<string>;
  finished: number;
  failed: number;
}

interface JobProgress {
  /** Rounds in progress by number (more than one only with `concurrency: allow`). */
  rounds: Map<number, RoundProgress>;
  cooldownUntil: number | null;
}

export function startProgressLine(options: ProgressOptions): ProgressLine {
  const enabled = options.isTTY ?? options.stream.isTTY === true;
  if (!enabled) return { text: () => '', around: (write) => write(), stop: () => undefined };
  const { signals, stream } = options;
  const now = options.now ?? Date.now;
  const every = options.every ?? defaultEvery;
  const jobNames = options.jobs ?? (() => []);

  /** Every job's progress; SINGLE for the flags' job. */
  const jobs = new Map<string, JobProgress>();
  /** A round signal named its job: draw the per-job line. */
  let perJob = false;
  let stopTicking: (() => void) | null = null;
  let disconnected: string | null = null;
  /** A line is on screen without its newline. */
  let drawn = false;

  const jobProgress = (key: string): JobProgress => {
    let job = jobs.get(key);
    if (job === undefined) {
      job = { rounds: new Map(), cooldownUntil: null };
      jobs.set(key, job);
    }
    return job;
  };
  const keyOfRound = (job: string | undefined): string => job ?? SINGLE;
  /** Task ids read `<job>-r<round>-t<index>-<run id>`; the flags' job is SINGLE. */
  const keyOfTask = (taskId: string): string => (perJob ? jobOfTask(taskId, [...new Set([...jobNames(), ...jobs.keys()])].filter((key) => key !== SINGLE)) : undefined) ?? SINGLE;
  const roundOf = (taskId: string, round: number): RoundProgress | undefined => jobs.get(keyOfTask(taskId))?.rounds.get(round);
  const secondsLeft = (until: number): number => Math.max(0, Math.ceil((until - now()) / 1000));

  const singleText = (): string => {
    const connection = disconnected === null ? '' : ` · disconnected (${disconnected})`;
    const job = jobs.get(SINGLE);
    if (job === undefined) return '';
    if (job.cooldownUntil !== null) return `cooldown ${secondsLeft(job.cooldownUntil)}s left${connection}`;
    const latest = Math.max(0, ...job.rounds.keys());
    const round = job.rounds.get(latest);
    if (round === undefined) return '';
    return `round ${latest} · running ${round.running.size} · finished ${round.finished} · failed ${round.failed}${connection}`;
  };

  const perJobText = (): string => {
    const names = jobNames();
    const order = [...names.filter((name) => jobs.has(name)), ...[...jobs.keys()].filter((key) => key !== SINGLE && !names.includes(key))];
    const active: string[] = [];
    const cooling: string[] = [];
    for (const name of order) {
      const job = jobs.get(name)!;
      for (const [number, round] of [...job.rounds].sort(([a], [b]) => a - b)) {
        active.push(`${name} r${number} ${round.finished}/${round.tasks} run ${round.running.size}${round.failed > 0 ? ` fail ${round.failed}` : ''}`);
      }
      if (job.rounds.size === 0 && job.cooldownUntil !== null) cooling.push(`${name} cooldown ${secondsLeft(job.cooldownUntil)}s`);
    }
    const idle = names.filter((name) => {
      const job = jobs.get(name);
      return job === undefined || (job.rounds.size === 0 && job.cooldownUntil === null);
    }).length;
    const segments = [...active, ...cooling];
    const connection = disconnected === null ? '' : `disconnected (${disconnected}) · `;
    return fit(connection, segments, idle, options.stream.columns);
  };

  const text = (): string => (perJob ? perJobText() : singleText());
  const draw = (): void => {
    const line = text();
    if (line === '' && !drawn) return;
    const width = options.stream.columns;
    stream.write(CLEAR_LINE + (width !== undefined && width > 1 ? line.slice(0, width - 1) : line));
    drawn = line !== '';
  };
  /** Writes a whole line in the status line's place; the status line is drawn again by the next `draw`. */
  const endLine = (line: string): void => {
    stream.write(`${CLEAR_LINE}${line}\n`);
    drawn = false;
  };
  const coolingDown = (): boolean => [...jobs.values()].some((job) => job.cooldownUntil !== null && now() < job.cooldownUntil);
  const tick = (): void => {
    if (stopTicking !== null) return;
    stopTicking = every(() => {
      draw();
      if (!coolingDown()) stopTick();
    }, 1000);
  };
  const stopTick = (): void => {
    stopTicking?.();
    stopTicking = null;
  };

  const listeners: { [K in keyof SignalMap]?: (...args: SignalMap[K]) => void } = {
    roundStarted: (s) => {
      if (s.job !== undefined) perJob = true;
      const job = jobProgress(keyOfRound(s.job));
      job.cooldownUntil = null;
      // The flags' job shows one round: the newest.
      if (!perJob) job.rounds.clear();
      job.rounds.set(s.round, { tasks: s.tasks, running: new Set(), finished: 0, failed: 0 });
      if (!coolingDown()) stopTick();
      draw();
    },
    taskLaunched: ({ taskId, round }) => {
      const progress = roundOf(taskId, round);
      if (progress === undefined) return;
      progress.running.add(taskId);
      draw();
    },
    taskUnlaunched: ({ taskId, round }) => {
      const progress = roundOf(taskId, round);
      if (progress === undefined) return;
      progress.running.delete(taskId);
      draw();
    },
    // Relaunched under a new id (which comes with its own taskLaunched).
    taskRetry: ({ taskId, round }) => {
      const progress = roundOf(taskId, round);
      if (progress === undefined) return;
      progress.running.delete(taskId);
      draw();
    },
    taskEnded: ({ taskId, round, ok }) => {
      const progress = roundOf(taskId, round);
      if (progress === undefined) return;
      progress.running.delete(taskId);
      if (ok) progress.finished++;
      else progress.failed++;
      draw();
    },
    roundFinished: (s) => {
      if (!perJob) {
        endLine(`round ${s.round} done · finished ${s.finished} · failed ${s.failed}${s.killed ? ' · killed' : ''}`);
        return;
      }
      jobs.get(keyOfRound(s.job))?.rounds.delete(s.round);
      endLine(`${s.job ?? ''} round ${s.round} done · finished ${s.finished} · failed ${s.failed}${s.killed ? ' · killed' : ''}`);
      draw();
    },
    cooldown: ({ until, job }) => {
      jobProgress(keyOfRound(job)).cooldownUntil = until;
      draw();
      tick();
    },
    jobRemoved: ({ job }) => {
      jobs.delete(job);
      draw();
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
      stopTick();
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/**
 * The per-job line: `lead`, then the segments and the idle count joined,
 * as many segments as fit in `columns - 1` with the rest counted (`+2 more`).
 */
export function fit(lead: string, segments: readonly string[], idle: number, columns: number | undefined): string {
  const idleText = idle > 0 ? [`${idle} idle`] : [];
  const whole = lead + [...segments, ...idleText].join(SEPARATOR);
  if (columns === undefined || columns <= 1 || whole.length <= columns - 1) return whole;
  for (let shown = segments.length - 1; shown >= 0; shown--) {
    const rest = segments.length - shown + idle;
    const line = lead + [...segments.slice(0, shown), `+${rest} more`].join(SEPARATOR);
    if (line.length <= columns - 1) return line;
  }
  return lead + `+${segments.length + idle} more`;
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
