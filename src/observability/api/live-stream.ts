/**
 * GET /api/events: the dashboard's live stream (server-sent events). On
 * connecting a client gets `hello` (the active chart states); then, at most
 * every `intervalMs` and only when something changed:
 *   machines   the active chart states (framework, job, task counts)
 *   run        a run that started, changed or finished (RunRecord, with `job`)
 *   tasks      tasks that changed (`{ job, tasks: [...] }`), or `{ job, many: true }`
 *              when more than MAX_TASKS_PER_TICK did (the page refetches)
 *   jobs       the jobs changed (a reload added or changed some, or a removed
 *              one was forgotten): `{ added, changed, removed }` (the page refetches)
 * and a comment every 15 s to keep proxies from closing it. Nothing is
 * computed while no client listens; a slow client is never waited for (what
 * it cannot take is dropped with its connection).
 */
import type { ServerResponse } from 'node:http';
import type { HistoryChange, RunHistory, RunRecord, TaskRow } from '../../history/index.js';
import type { Signals } from '../../runtime/signals.js';
import type { ActiveStates } from '../dashboard/active-states.js';
import type { Route } from './api-routes.js';

const MAX_TASKS_PER_TICK = 200;
/** A client that has this much unsent is dropped. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export interface LiveStreamOptions {
  history: RunHistory;
  signals: Signals;
  activeStates: () => ActiveStates;
  taskJson: (job: string, task: TaskRow) => unknown;
  intervalMs?: number;
}

export interface LiveStream {
  route: Route;
  close(): void;
}

export function liveStream(options: LiveStreamOptions): LiveStream {
  const intervalMs = options.intervalMs ?? 250;
  const clients = new Set<ServerResponse>();
  let dirty = false;
  let lastMachines = '';
  const runs = new Map<string, { job: string; run: RunRecord }>();
  const tasks = new Map<string, Map<string, TaskRow>>();
  const many = new Set<string>();

  const send = (res: ServerResponse, event: string, data: unknown): void => {
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown): void => {
    for (const res of clients) send(res, event, data);
  };

  const onChange = (change: HistoryChange): void => {
    if (clients.size === 0) return;
    dirty = true;
    if (change.kind === 'run') {
      runs.set(`${change.job}\u0000${change.run.run}`, { job: change.job, run: change.run });
      return;
    }
    if (many.has(change.job)) return;
    let changed = tasks.get(change.job);
    if (!changed) tasks.set(change.job, (changed = new Map()));
    changed.set(change.task.taskId, change.task);
    if (changed.size > MAX_TASKS_PER_TICK) {
      many.add(change.job);
      tasks.delete(change.job);
    }
  };
  const touch = (): void => {
    dirty = true;
  };
  const jobsChanged = { added: new Set<string>(), changed: new Set<string>(), removed: new Set<string>() };
  const onJobsChanged = ({ added, changed, removed }: { added: string[]; changed: string[]; removed: string[] }): void => {
    if (clients.size === 0) return;
    dirty = true;
    for (const name of added) { jobsChanged.added.add(name); jobsChanged.removed.delete(name); }
    for (const name of changed) jobsChanged.changed.add(name);
    for (const name of removed) { jobsChanged.removed.add(name); jobsChanged.added.delete(name); jobsChanged.changed.delete(name); }
  };
  const stopHistory = options.history.onChange(onChange);
  options.signals.on('event', touch);
  options.signals.on('disconnected', touch);
  options.signals.on('cooldown', touch);
  options.signals.on('jobsChanged', onJobsChanged);

  let ticks = 0;
  const flush = (): void => {
    ticks++;
    // Also look once a second: a timer inside a machine changes its state with no signal.
    if (clients.size === 0 || (!dirty && ticks % Math.max(1, Math.round(1000 / intervalMs)) !== 0)) return;
    dirty = false;
    const machines = JSON.stringify(options.activeStates());
    if (machines !== lastMachines) {
      lastMachines = machines;
      for (const res of clients) {
        if (res.writableLength > MAX_BUFFERED) res.destroy();
        else res.write(`event: machines\ndata: ${machines}\n\n`);
      }
    }
    if (jobsChanged.added.size + jobsChanged.changed.size + jobsChanged.removed.size > 0) {
      broadcast('jobs', { added: [...jobsChanged.added], changed: [...jobsChanged.changed], removed: [...jobsChanged.removed] });
      for (const names of Object.values(jobsChanged)) names.clear();
    }
    for (const { job, run } of runs.values()) broadcast('run', { job, ...run });
    runs.clear();
    for (const job of many) broadcast('tasks', { job, many: true });
    many.clear();
    for (const [job, changed] of tasks) broadcast('tasks', { job, tasks: [...changed.values()].map((t) => options.taskJson(job, t)) });
    tasks.clear();
  };
  const ticker = setInterval(flush, intervalMs);
  ticker.unref();
  const keepAlive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  const route: Route = async (req, res, url) => {
    if (url.pathname !== '/api/events') return false;
    if (req.method !== 'GET') return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    const machines = JSON.stringify(options.activeStates());
    res.write(`retry: 2000\nevent: hello\ndata: ${machines}\n\n`);
    clients.add(res);
    res.on('close', () => clients.delete(res));
    return true;
  };

  return {
    route,
    close() {
      clearInterval(ticker);
      clearInterval(keepAlive);
      stopHistory();
      options.signals.off('event', touch);
      options.signals.off('disconnected', touch);
      options.signals.off('cooldown', touch);
      options.signals.off('jobsChanged', onJobsChanged);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
