/**
 * The JSON API of the status port (described by openapi.ts):
 *   GET /api/openapi.json                      the OpenAPI document
 *   GET /api/jobs                              every job with its state, next start, recent runs
 *   GET /api/jobs/{name}                       one job, with its current run and task counts
 *   GET /api/jobs/{name}/runs                  its run history, newest first
 *   GET /api/jobs/{name}/runs/{run}            one run
 *   GET /api/jobs/{name}/tasks                 a page of the current round's tasks (?offset, limit, filter)
 *   GET /api/jobs/{name}/tasks/{id}/{stdout|stderr}  a task's output (embedded master only)
 *   POST /api/jobs/{name}/run|pause|resume|kill      control (job-control.ts); logged with what was done
 * Every answer is JSON except the output; errors are ApiError JSON.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError, sendJson } from './api-error.js';
import { CONTROL_ACTIONS, type ControlAction, type ControlResult } from './job-control.js';
import { jobDetail, jobSummary, runsOf, taskPage, TASK_FILTERS, type JobDefinitionView, type JobSources, type TaskFilter } from './job-views.js';
import { openApiDocument } from './openapi.js';

export interface ApiRoutesOptions extends JobSources {
  /** The sandbox directory of a task of the embedded master, if known. */
  sandboxOf?: (taskId: string) => string | undefined;
  /** The control API; without it POST answers 503 CONTROL_UNAVAILABLE. */
  control?: (job: string, action: ControlAction) => ControlResult;
  /** Where control calls are logged. */
  log?: Logger;
}

/** Longest page of tasks. */
export const MAX_PAGE = 1000;
/** Output bytes served by default (the end of the file) and at most. */
const DEFAULT_TAIL = 1024 * 1024;
const MAX_TAIL = 16 * 1024 * 1024;

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export function apiRoutes(options: ApiRoutesOptions): Route {
  const find = (name: string): JobDefinitionView => {
    const def = options.definitions().find((d) => d.name === name);
    if (!def) throw new ApiError('JOB_NOT_FOUND', `no job named '${name}'`);
    return def;
  };
  return async (req, res, url) => {
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] !== 'api') return false;
    if (req.method === 'POST' && parts.length === 4 && parts[1] === 'jobs' && (CONTROL_ACTIONS as readonly string[]).includes(parts[3]!)) {
      control(req, res, find(parts[2]!).name, parts[3] as ControlAction, options);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new ApiError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${url.pathname}`);
    }
    const [, collection, name, sub, id, leaf] = parts;
    if (collection === 'openapi.json' && parts.length === 2) {
      sendJson(res, 200, openApiDocument);
      return true;
    }
    if (collection !== 'jobs') throw new ApiError('NOT_FOUND', `no such path ${url.pathname}`);
    if (name === undefined || name === '') {
      sendJson(res, 200, { jobs: options.definitions().map((def) => jobSummary(def, options)) });
      return true;
    }
    const def = find(name);
    if (sub === undefined) {
      sendJson(res, 200, jobDetail(def, options));
      return true;
    }
    if (sub === 'runs' && id === undefined) {
      sendJson(res, 200, runsOf(def.name, options.history));
      return true;
    }
    if (sub === 'runs' && leaf === undefined && id !== undefined) {
      const n = /^\d+$/.test(id) ? Number(id) : Number.NaN;
      const run = Number.isSafeInteger(n) ? options.history.run(def.name, n) : undefined;
      if (!run) throw new ApiError('RUN_NOT_FOUND', `job '${def.name}' has no run ${id} in its history (the last ${options.history.limit} are kept)`);
      sendJson(res, 200, run);
      return true;
    }
    if (sub === 'tasks' && id === undefined) {
      sendJson(res, 200, taskPage(def.name, options, pageOf(url)));
      return true;
    }
    if (sub === 'tasks' && id !== undefined && (leaf === 'stdout' || leaf === 'stderr') && parts.length === 6) {
      await sendOutput(res, def.name, id, leaf, url, options);
      return true;
    }
    throw new ApiError('NOT_FOUND', `no such path ${url.pathname}`);
  };
}

/**
 * A control call. A browser on another site cannot make one (the page of a
 * site the user visits could otherwise POST to a loopback port): a request
 * that says it comes from elsewhere (Origin, Sec-Fetch-Site) is refused.
 */
function control(req: IncomingMessage, res: ServerResponse, job: string, action: ControlAction, options: ApiRoutesOptions): void {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if ((origin !== undefined && hostOf(origin) !== req.headers.host) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
    throw new ApiError('FORBIDDEN', 'control calls from another site are refused');
  }
  if (!options.control) throw new ApiError('CONTROL_UNAVAILABLE', 'this scheduler does not serve the control API');
  const from = req.socket.remoteAddress ?? 'unknown';
  try {
    const result = options.control(job, action);
    options.log?.info({ control: action, job, from, changed: result.changed, phase: result.state.phase, round: result.state.round },
      `control: ${action} job ${job} (from ${from}): ${result.message}`);
    sendJson(res, 200, result);
  } catch (err) {
    if (err instanceof ApiError) options.log?.info({ control: action, job, from, refused: err.code }, `control: ${action} job ${job} (from ${from}) refused: ${err.message}`);
    throw err;
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function pageOf(url: URL): { offset: number; limit: number; filter: TaskFilter } {
  const int = (key: string, fallback: number, max: number): number => {
    const text = url.searchParams.get(key);
    if (text === null) return fallback;
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > max) throw new ApiError('BAD_REQUEST', `${key} must be a whole number from 0 to ${max}, got '${text}'`);
    return n;
  };
  const filter = url.searchParams.get('filter') ?? 'all';
  if (!(TASK_FILTERS as readonly string[]).includes(filter)) throw new ApiError('BAD_REQUEST', `filter must be one of ${TASK_FILTERS.join(', ')}, got '${filter}'`);
  return { offset: int('offset', 0, Number.MAX_SAFE_INTEGER), limit: Math.max(1, int('limit', 100, MAX_PAGE)), filter: filter as TaskFilter };
}

async function sendOutput(res: ServerResponse, job: string, taskId: string, file: 'stdout' | 'stderr', url: URL, options: ApiRoutesOptions): Promise<void> {
  if (!options.history.tasks(job).has(taskId) && !taskId.startsWith(`${job}-`)) throw new ApiError('TASK_NOT_FOUND', `job '${job}' has no task '${taskId}'`);
  const sandbox = options.sandboxOf?.(taskId);
  if (sandbox === undefined) {
    throw new ApiError('OUTPUT_NOT_AVAILABLE', `the output of task '${taskId}' is not served here (only with the embedded master, while it knows the task)`);
  }
  const tailText = url.searchParams.get('tail');
  const tail = tailText === null ? DEFAULT_TAIL : Number(tailText);
  if (!Number.isSafeInteger(tail) || tail < 0 || tail > MAX_TAIL) throw new ApiError('BAD_REQUEST', `tail must be a whole number of bytes from 0 to ${MAX_TAIL}`);
  let handle;
  try {
    handle = await open(join(sandbox, file), 'r');
  } catch {
    throw new ApiError('OUTPUT_NOT_AVAILABLE', `task '${taskId}' has no ${file} (yet)`);
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - tail);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
      'x-output-size': String(size), 'x-output-truncated': String(start > 0),
    });
    res.end(res.req.method === 'HEAD' ? undefined : buffer);
  } finally {
    await handle.close();
  }
}
