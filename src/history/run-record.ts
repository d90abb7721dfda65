/**
 * What the run history keeps of each round of a job (`--history N` rounds per
 * job): when it started and ended, its outcome, its task counts, and the first
 * FAILURES_LISTED failed tasks with their state, reason, source, message and
 * agent (only a count for the rest, so a round of 100,000 failures stays small).
 *
 * A run's `run` number counts on for the job's whole history, across restarts,
 * takeovers and resets of the job's state; `round` is the job's round number,
 * which starts again at 1 after the job's state is reset (a `--rounds` job that
 * completed). The API names a run by `run`.
 */

/** Failed tasks listed per run; the rest are counted in `failuresNotListed`. */
export const FAILURES_LISTED = 20;
/** Longest status message kept per failed task (characters). */
export const MESSAGE_LIMIT = 1000;
/** Rounds kept per job unless `--history` says otherwise. */
export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * running: still going; succeeded: every task finished; failed: some task did
 * not finish; killed: we ended it (POST kill, a stop's or a removal's kill, or
 * a stop before all its tasks launched), never a success whatever its tasks
 * did; interrupted: the round never finished here (the scheduler stopped, or
 * its state was reset, before every task ended).
 */
export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'killed' | 'interrupted';

export interface FailedTask {
  taskId: string;
  state: string;
  reason?: string;
  source?: string;
  message?: string;
  agentId?: string;
  endedAt: string;
}

export interface RunRecord {
  run: number;
  round: number;
  /** The framework id the round ran under, when known. */
  frameworkId?: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  outcome: RunOutcome;
  /** Tasks the round wanted. */
  tasks: number;
  launched: number;
  finished: number;
  failed: number;
  /** Launches beyond the round's tasks (a launch that never reached the master is made again). */
  retried: number;
  failures: FailedTask[];
  failuresNotListed: number;
}

export interface JobHistory {
  /** The number the next run gets. */
  nextRun: number;
  /** Oldest first, at most the history limit. */
  runs: RunRecord[];
}

/** What is persisted: every job's history, by job name. */
export interface HistoryDocument {
  version: 1;
  jobs: Record<string, JobHistory>;
}

export class HistoryFormatError extends Error {
  readonly code = 'HISTORY_CORRUPT';
  constructor(message: string) {
    super(message);
    this.name = 'HistoryFormatError';
  }
}

const OUTCOMES: readonly string[] = ['running', 'succeeded', 'failed', 'killed', 'interrupted'];

/** Parses and checks a persisted history; throws HistoryFormatError naming `where`. */
export function parseHistory(text: string, where: string): HistoryDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new HistoryFormatError(`${where} is not JSON: ${(err as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new HistoryFormatError(`${where} is not a run history: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null) bad('not an object');
  const { version, jobs } = doc as { version?: unknown; jobs?: unknown };
  if (version !== 1) bad(`unknown version ${JSON.stringify(version)}`);
  if (typeof jobs !== 'object' || jobs === null || Array.isArray(jobs)) bad('no jobs');
  for (const [name, job] of Object.entries(jobs as Record<string, unknown>)) {
    const j = job as Partial<JobHistory> | null;
    if (typeof j !== 'object' || j === null || !Number.isSafeInteger(j.nextRun) || !Array.isArray(j.runs)) bad(`job ${name}`);
    for (const run of j!.runs!) {
      const r = run as Partial<RunRecord> | null;
      const ok = typeof r === 'object' && r !== null && Number.isSafeInteger(r.run) && Number.isSafeInteger(r.round)
        && typeof r.startedAt === 'string' && OUTCOMES.includes(String(r.outcome)) && Array.isArray(r.failures)
        && [r.tasks, r.launched, r.finished, r.failed, r.retried, r.failuresNotListed].every((n) => Number.isSafeInteger(n));
      if (!ok) bad(`run ${JSON.stringify((r as { run?: unknown } | null)?.run)} of job ${name}`);
    }
  }
  return doc as HistoryDocument;
}

export function serializeHistory(doc: HistoryDocument): string {
  return `${JSON.stringify(doc)}\n`;
}
