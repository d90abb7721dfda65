/**
 * The jobs file (`--jobs FILE`, YAML or JSON; docs/jobs-file.md) → a frozen,
 * validated list of job definitions, or every problem in it, one line each
 * naming the file, line, column, job and field.
 *
 * Checks, in order: the syntax (yaml's parser, which reads JSON too; a
 * `.json` file must also be strict JSON), the JSON Schema (schema.ts, with
 * ajv), then what a schema cannot say: duplicate names, unknown names in
 * `after`, cycles, `after` with `schedule`, cron expressions, time zones and
 * constraint values. Missing fields take the flags' defaults.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { JobDefinition } from '../../machines/contract.js';
import { constraintProblem, CONSTRAINT_OPERATORS, type Constraint, type ConstraintOperator } from '../../machines/policy/constraints.js';
import { findCycles } from '../../machines/policy/dependencies.js';
import { DEFAULT_RETRY_BACKOFF_MAX_MS, DEFAULT_RETRY_BACKOFF_MS, type RetryPolicy } from '../../machines/policy/retry.js';
import { cronOf, DEFAULT_TIMEZONE, type JobSchedule } from '../../machines/policy/schedule.js';
import { DEFAULTS } from '../config/defaults.js';
import { whyUnreadable } from '../config/unreadable.js';
import { parseDuration } from './duration.js';
import { fieldName, JobsFileError, Locator, type JobsFileProblem, type PathSegment } from './problems.js';
import { schemaIssues } from './schema-check.js';

export { JobsFileError, formatProblem, type JobsFileProblem } from './problems.js';

export interface JobsFileDefaults {
  /** The current OS user: the default of `user`, as with --user. */
  username: string;
}

export interface JobsFileEnv extends JobsFileDefaults {
  /** Reads a whole file as UTF-8; throws when it cannot. */
  readFile(path: string): string;
}

export type JobsFileResult = { ok: true; jobs: readonly JobDefinition[] } | { ok: false; problems: JobsFileProblem[] };

type RawJob = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** Problems of the file's syntax, or undefined when it parses. */
function syntaxProblems(file: string, text: string, doc: ReturnType<typeof parseDocument>, locator: Locator): JobsFileProblem[] | undefined {
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => ({ file, ...locator.position(e.pos[0]), message: firstLine(e.message) }));
  }
  if (/\.json$/i.test(file)) {
    try {
      JSON.parse(text);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message);
      return [{ file, ...locator.position(at ? Number(at[1]) : 0), message: `not valid JSON: ${firstLine((err as Error).message)}` }];
    }
  }
  return undefined;
}

function knownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** A reference time for "does this cron ever fire": any fixed date does. */
const CRON_PROBE = new Date(Date.UTC(2000, 0, 1));

/** Checks that the schema cannot express. `jobs` passed the schema's shape at least where it is read. */
function crossProblems(jobs: readonly unknown[], report: (index: number, path: PathSegment[], message: string) => void): void {
  const firstByName = new Map<string, number>();
  jobs.forEach((job, i) => {
    if (!isRecord(job)) return;
    if (typeof job.name === 'string') {
      const first = firstByName.get(job.name);
      if (first === undefined) firstByName.set(job.name, i);
      else report(i, ['name'], `another job (#${first + 1}) has the name '${job.name}'`);
    }
    const after = Array.isArray(job.after) ? job.after : [];
    after.forEach((parent, j) => {
      if (typeof parent === 'string' && !jobs.some((other) => isRecord(other) && other.name === parent)) {
        report(i, ['after', j], `no job is named '${parent}'`);
      }
    });
    if (job.after !== undefined && job.schedule !== undefined) {
      report(i, ['schedule'], "a job with 'after' runs when its parents succeed and takes no 'schedule'");
    }
    if (job.wait !== undefined && (job.after !== undefined || job.schedule !== undefined)) {
      report(i, ['wait'], `'wait' is the cooldown of jobs without 'schedule' or 'after'; this job has '${job.schedule !== undefined ? 'schedule' : 'after'}'`);
    }
    if (isRecord(job.schedule)) scheduleProblems(job.schedule, (path, message) => report(i, ['schedule', ...path], message));
    if (isRecord(job.retries)) {
      const backoff = parseDuration(job.retries.backoff ?? `${DEFAULT_RETRY_BACKOFF_MS}ms`);
      const max = parseDuration(job.retries['backoff-max'] ?? `${DEFAULT_RETRY_BACKOFF_MAX_MS}ms`);
      if (backoff !== undefined && max !== undefined && max < backoff) report(i, ['retries', 'backoff-max'], 'must not be shorter than backoff');
    }
    if (Array.isArray(job.constraints)) {
      job.constraints.forEach((c, j) => {
        if (!Array.isArray(c) || c.length < 2 || c.length > 3 || typeof c[0] !== 'string' || c[0] === '') return;
        if (!(CONSTRAINT_OPERATORS as readonly unknown[]).includes(c[1])) return; // the schema said so
        if (c.length === 3 && typeof c[2] !== 'string' && typeof c[2] !== 'number') return;
        const problem = constraintProblem({ field: c[0], operator: String(c[1]), ...(c.length === 3 ? { value: String(c[2]) } : {}) });
        if (problem !== undefined) report(i, ['constraints', j], problem);
      });
    }
  });
  // With a name used twice the graph is ambiguous; that problem is reported above.
  if (jobs.filter(isRecord).length !== firstByName.size) return;
  const nodes = jobs.filter(isRecord).filter((j) => typeof j.name === 'string').map((j) => ({
    name: j.name as string,
    after: Array.isArray(j.after) ? j.after.filter((p): p is string => typeof p === 'string') : [],
  }));
  const indexOf = (name: string): number => jobs.findIndex((j) => isRecord(j) && j.name === name);
  for (const found of findCycles(nodes)) {
    // Reported at the cycle's job that comes first in the file, on its `after` entry in the cycle.
    const ring = found.slice(0, -1);
    const first = ring.reduce((best, name) => (indexOf(name) < indexOf(best) ? name : best));
    const at = ring.indexOf(first);
    const parentAt = (at - 1 + ring.length) % ring.length;
    const cycle = [...ring.slice(parentAt), ...ring.slice(0, parentAt), ring[parentAt]!];
    const entry = nodes.find((n) => n.name === first)!.after.indexOf(ring[parentAt]!);
    report(indexOf(first), ['after', entry], `the jobs wait for each other in a cycle: ${cycle.join(' -> ')}`);
  }
}

function scheduleProblems(schedule: Record<string, unknown>, report: (path: PathSegment[], message: string) => void): void {
  const every = parseDuration(schedule.every);
  if (schedule.every !== undefined && every === 0) report(['every'], 'must be longer than 0');
  const timezone = schedule.timezone;
  const zoneOk = typeof timezone !== 'string' || knownTimezone(timezone);
  if (!zoneOk) report(['timezone'], `unknown IANA time zone '${String(timezone)}' (like 'Europe/Berlin', 'America/New_York', 'UTC')`);
  if (typeof schedule.cron === 'string') {
    try {
      const cron = cronOf(schedule.cron, zoneOk && typeof timezone === 'string' ? timezone : DEFAULT_TIMEZONE);
      if (cron.nextRun(CRON_PROBE) === null) report(['cron'], `'${schedule.cron}' never fires`);
    } catch (err) {
      report(['cron'], `not a valid cron expression: ${firstLine((err as Error).message).replace(/^CronPattern: /, '')}`);
    }
  }
}

function textMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return Object.freeze(out);
}

function seconds(value: unknown, fallback: string): number {
  return parseDuration(value ?? fallback)! / 1000;
}

function toSchedule(raw: Record<string, unknown>): JobSchedule {
  const deadline = parseDuration(raw['starting-deadline']);
  const common = {
    concurrency: raw.concurrency === 'allow' ? ('allow' as const) : ('forbid' as const),
    ...(deadline !== undefined ? { startingDeadlineMs: deadline } : {}),
    ...(typeof raw['max-in-flight'] === 'number' ? { maxInFlight: raw['max-in-flight'] } : {}),
  };
  if (typeof raw.cron === 'string') {
    return Object.freeze({ ...common, kind: 'cron' as const, cron: raw.cron, timezone: typeof raw.timezone === 'string' ? raw.timezone : DEFAULT_TIMEZONE });
  }
  return Object.freeze({ ...common, kind: 'every' as const, everyMs: parseDuration(raw.every)! });
}

function toRetries(raw: Record<string, unknown>): RetryPolicy {
  return Object.freeze({
    max: Number(raw.max),
    backoffMs: parseDuration(raw.backoff ?? `${DEFAULT_RETRY_BACKOFF_MS}ms`)!,
    backoffMaxMs: parseDuration(raw['backoff-max'] ?? `${DEFAULT_RETRY_BACKOFF_MAX_MS}ms`)!,
  });
}

function toDefinition(job: RawJob, defaults: JobsFileDefaults): JobDefinition {
  const taskTimeoutSeconds = job['task-timeout'] === undefined ? 0 : seconds(job['task-timeout'], '0');
  const constraints = ((job.constraints ?? []) as unknown[][]).map((c): Constraint => Object.freeze({
    field: String(c[0]),
    operator: c[1] as ConstraintOperator,
    ...(c.length === 3 ? { value: String(c[2]) } : {}),
  }));
  const definition: JobDefinition = {
    name: job.name as string,
    cmd: (job.cmd as string | undefined) ?? DEFAULTS.cmd,
    cpus: (job.cpu as number | undefined) ?? Number(DEFAULTS.cpu),
    memMb: (job.mem as number | undefined) ?? Number(DEFAULTS.mem),
    ...(job.disk !== undefined ? { diskMb: job.disk as number } : {}),
    maxTasks: (job.maxtasks as number | undefined) ?? Number(DEFAULTS.maxtasks),
    waitSeconds: seconds(job.wait, DEFAULTS.wait),
    rounds: (job.rounds as number | undefined) ?? Number(DEFAULTS.rounds),
    role: (job.role as string | undefined) ?? DEFAULTS.role,
    graceSeconds: seconds(job.grace, DEFAULTS.grace),
    env: textMap(job.env),
    uris: Object.freeze([...((job.uris as string[] | undefined) ?? [])]) as string[],
    ...(typeof job.img === 'string' ? { image: job.img.trim() } : {}),
    containerizer: (job.containerizer as 'docker' | 'mesos' | undefined) ?? (DEFAULTS.containerizer as 'docker'),
    user: (job.user as string | undefined) ?? defaults.username,
    ...(taskTimeoutSeconds > 0 ? { taskTimeoutSeconds } : {}),
    labels: textMap(job.labels),
    ...(isRecord(job.schedule) ? { schedule: toSchedule(job.schedule) } : {}),
    ...(isRecord(job.retries) ? { retries: toRetries(job.retries) } : {}),
    constraints: Object.freeze(constraints) as Constraint[],
    after: Object.freeze([...((job.after as string[] | undefined) ?? [])]) as string[],
    priority: (job.priority as number | undefined) ?? 0,
  };
  return Object.freeze(definition);
}

/** Parses and checks the text of a jobs file named `file` (the name is only used in messages and for `.json`). */
export function parseJobsFile(file: string, text: string, defaults: JobsFileDefaults): JobsFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const locator = new Locator(doc, lineCounter);
  const syntax = syntaxProblems(file, text, doc, locator);
  if (syntax) return { ok: false, problems: syntax };

  const data: unknown = doc.toJS();
  const jobs: unknown[] = isRecord(data) && Array.isArray(data.jobs) ? data.jobs : [];
  const jobLabel = (index: number): string => {
    const job = jobs[index];
    return isRecord(job) && typeof job.name === 'string' && job.name !== '' ? job.name : `#${index + 1}`;
  };
  const problems: JobsFileProblem[] = [];
  const place = (path: PathSegment[], key: string | undefined, message: string): void => {
    const where = key === undefined ? locator.at(path) : locator.keyAt(path, key);
    const inJob = path[0] === 'jobs' && typeof path[1] === 'number';
    const field = inJob ? fieldName([...path.slice(2), ...(key !== undefined ? [key] : [])]) : fieldName([...path, ...(key !== undefined ? [key] : [])]);
    problems.push({ file, ...where, ...(inJob ? { job: jobLabel(path[1] as number) } : {}), ...(field !== undefined ? { field } : {}), message });
  };
  for (const issue of schemaIssues(data)) place(issue.path, issue.key, issue.message);
  crossProblems(jobs, (index, path, message) => place(['jobs', index, ...path], undefined, message));
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, problems };
  }
  return { ok: true, jobs: Object.freeze(jobs.map((job) => toDefinition(job as RawJob, defaults))) };
}

/** Reads and checks a jobs file; throws JobsFileError (one line per problem) when it cannot be used. */
export function loadJobsFile(path: string, env: JobsFileEnv): readonly JobDefinition[] {
  let text: string;
  try {
    text = env.readFile(path);
  } catch (err) {
    throw new JobsFileError([{ file: path, line: 1, column: 1, message: `the jobs file ${whyUnreadable(err)}` }]);
  }
  const result = parseJobsFile(path, text, env);
  if (!result.ok) throw new JobsFileError(result.problems);
  return result.jobs;
}

/** For the CLI: the problems of a jobs file as lines to print (empty when it is fine). */
export function jobsFileProblemLines(path: string, env: JobsFileEnv): string[] {
  try {
    loadJobsFile(path, env);
    return [];
  } catch (err) {
    if (err instanceof JobsFileError) return [...err.lines];
    throw err;
  }
}
