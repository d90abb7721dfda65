/**
 * Observability in one call: the status endpoint with metrics (`--http-port`,
 * `--http-host`), the Stately inspector (`--inspect [port]`) and the live
 * progress line. Everything listens to the runtime's Signals; nothing here
 * reaches into the machines except through `getMachineStates` and the
 * inspector's `inspectTask` effect.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { TaskInspection } from '../../machines/contract.js';
import type { RunHistory, TaskRow } from '../history/index.js';
import type { Signals } from '../runtime/signals.js';
import { apiRoutes, type Route } from './api/api-routes.js';
import type { BearerToken } from './api/bearer-token.js';
import { taskView, type JobDefinitionView, type JobSources, type TaskOutputLinks } from './api/job-views.js';
import { liveStream } from './api/live-stream.js';
import { activeStates } from './dashboard/active-states.js';
import { dashboardFiles } from './dashboard/static-files.js';
import type { AnyActorRef } from 'xstate';
import type { Logger } from 'pino';
import { controlJob, jobMachineState, type ControlAction } from './api/job-control.js';
import { startInspector } from './inspector.js';
import { createMetrics, type Metrics } from './metrics.js';
import { startProgressLine, type ProgressLine, type ProgressStream } from './progress.js';
import { createStateView, type StateView } from './state-view.js';
import { startStatusServer } from './status-server.js';

export { DEFAULT_INSPECT_PORT } from './inspector.js';
export { describeActors } from './machine-states.js';
export { aroundProgressLine, type ProgressLine } from './progress.js';

export interface ObservabilityOptions {
  signals: Signals;
  /** `--http-port`: serve /health, /state, /metrics. Unset: no status server. 0 picks a free port. */
  httpPort?: number;
  /** `--http-host`; default 127.0.0.1. */
  httpHost?: string;
  /** `--inspect [port]`: DEFAULT_INSPECT_PORT when the flag has no value. Unset: no inspector. */
  inspectPort?: number;
  /** Default 127.0.0.1. */
  inspectHost?: string;
  /** Draw the live progress line (pass false with `--log-format json`); drawn only if `stream` is a TTY. */
  progress: boolean;
  /** Where the progress line goes; default process.stderr. */
  stream?: ProgressStream;
  /** Machine states for /state, e.g. `() => describeActors({ framework: actor })`. */
  getMachineStates?: () => Record<string, unknown>;
  /** `--http-token-file`: /state and /api need it. */
  httpToken?: BearerToken;
  /** The jobs API (/api/...) on the status port. */
  api?: {
    history: RunHistory;
    definitions: () => readonly JobDefinitionView[];
    /** With the embedded master: a task's sandbox directory (its output is served). */
    sandboxOf?: (taskId: string) => string | undefined;
    /** On a real cluster: the Mesos master UI's base URL for `host:port` (links to task sandboxes). */
    masterUi?: (master: string) => string;
    /** The framework actor: the live charts' active states, the job's phase and the control API. */
    frameworkActor?: () => AnyActorRef | undefined;
    /** Where control calls are logged (the logger may come later than the server). */
    log?: () => Logger | undefined;
  };
}

export interface Observability {
  /** Pass to `createActor(machine, { inspect })` when set (with `--inspect`). */
  inspect?: Observer<InspectionEvent>;
  /** Pass as the machines' `inspectTask` effect when set (with `--inspect`): the tasks in the inspector. */
  inspectTask?: (step: TaskInspection) => void;
  /** The page to open for the inspector (log it). */
  inspectUrl?: string;
  /** The status endpoint's base URL (log it). */
  statusUrl?: string;
  /**
   * The live progress line, when drawn (progress on and the stream is a TTY).
   * Log lines to the same terminal should go through `aroundProgressLine(progress, process.stdout)`.
   */
  progress?: ProgressLine;
  /** Present with a status server. */
  metrics?: Metrics;
  view?: StateView;
  /** Stops everything; the process can exit afterwards. */
  close(): Promise<void>;
}

export async function attachObservability(options: ObservabilityOptions): Promise<Observability> {
  const closers: Array<() => void | Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  const result: Observability = { close };
  try {
    if (options.httpPort !== undefined) {
      const metrics = createMetrics(options.signals, { jobs: () => options.api?.definitions().map((job) => job.name) ?? [] });
      closers.push(() => metrics.stop());
      const view = createStateView(options.signals);
      closers.push(() => view.stop());
      const routes: Route[] = [];
      if (options.api) {
        const api = options.api;
        const framework: FrameworkWhere = { id: null, master: null };
        options.signals.on('subscribed', ({ frameworkId, master }) => Object.assign(framework, { id: frameworkId, master }));
        options.signals.on('leaderChanged', ({ master }) => { framework.master = master; });
        const sources: JobSources = {
          history: api.history,
          definitions: api.definitions,
          view: () => view.snapshot(),
          outputLinks: (job, task) => outputLinks(job, task.taskId, task.agentId, framework, api),
          ...(api.frameworkActor ? { machine: (job) => jobMachineState(api.frameworkActor?.(), job), controls: true } : {}),
        };
        const live = liveStream({
          history: api.history,
          signals: options.signals,
          activeStates: () => activeStates(api.frameworkActor?.(), tasksOf(api.history, api.definitions())),
          taskJson: (job, task) => taskView(job, task, sources),
        });
        closers.push(() => live.close());
        const frameworkActor = api.frameworkActor;
        const control = frameworkActor
          ? (job: string, action: ControlAction) => {
            const def = api.definitions().find((d) => d.name === job)!;
            return controlJob({ name: job, graceSeconds: def.graceSeconds, framework: frameworkActor }, action);
          }
          : undefined;
        routes.push(dashboardFiles(), live.route, apiRoutes({
          ...sources,
          ...(api.sandboxOf ? { sandboxOf: api.sandboxOf } : {}),
          ...(control ? { control } : {}),
          get log() { return api.log?.(); },
        }));
      }
      const server = await startStatusServer({
        port: options.httpPort,
        ...(options.httpHost !== undefined ? { host: options.httpHost } : {}),
        metrics,
        view,
        ...(options.getMachineStates !== undefined ? { getMachineStates: options.getMachineStates } : {}),
        routes,
        ...(options.httpToken ? { token: options.httpToken } : {}),
      });
      closers.push(() => server.close());
      Object.assign(result, { metrics, view, statusUrl: server.url });
    }
    if (options.inspectPort !== undefined) {
      const inspector = await startInspector({
        port: options.inspectPort,
        ...(options.inspectHost !== undefined ? { host: options.inspectHost } : {}),
      });
      closers.push(() => inspector.stop());
      Object.assign(result, { inspect: inspector.inspect, inspectTask: inspector.inspectTask, inspectUrl: inspector.url });
    }
    const stream = options.stream ?? process.stderr;
    if (options.progress && stream.isTTY === true) {
      const line = startProgressLine({ signals: options.signals, stream, jobs: () => options.api?.definitions().map((job) => job.name) ?? [] });
      closers.push(() => line.stop());
      result.progress = line;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return result;
}

/** Where a task's output is: served here with the embedded master, else its sandbox in the Mesos master's UI. */
interface FrameworkWhere {
  id: string | null;
  master: string | null;
}

function outputLinks(job: string, taskId: string, agentId: string | undefined, framework: FrameworkWhere, api: NonNullable<ObservabilityOptions['api']>): TaskOutputLinks | undefined {
  if (api.sandboxOf) {
    const base = `/api/jobs/${encodeURIComponent(job)}/tasks/${encodeURIComponent(taskId)}`;
    return { stdout: `${base}/stdout`, stderr: `${base}/stderr` };
  }
  const { master, id } = framework;
  if (!api.masterUi || master === null || id === null || agentId === undefined) return undefined;
  // A command task's executor has the task's id.
  return { sandbox: `${api.masterUi(master)}/#/agents/${encodeURIComponent(agentId)}/frameworks/${encodeURIComponent(id)}/executors/${encodeURIComponent(taskId)}/browse` };
}

/** Every job's current tasks, one after another, without copying them. */
function* tasksOf(history: RunHistory, definitions: readonly JobDefinitionView[]): Generator<TaskRow> {
  for (const def of definitions) yield* history.tasks(def.name).values();
}
