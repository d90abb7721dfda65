/**
 * `--inspect [port]`: shows the live framework and job actors and the tasks
 * of the current round in the Stately inspector. Starts the loopback relay
 * (inspector-relay.ts) and an @statelyai/inspect inspector whose adapter
 * sends to it over one local WebSocket. Pass `inspect` to xstate's
 * `createActor(machine, { inspect })`; actors it spawns are inspected too.
 * Tasks are data stepped by the job, not actors: pass `inspectTask` as the
 * machines' `inspectTask` effect, and each task step (the first tasks of
 * each round only: the machines cap them) is reported through the
 * inspector's manual API (actor, event, snapshot) as a task actor under the
 * job. The job's own snapshots show how many tasks are in flight, not the
 * tasks. The person opens `url` in a browser.
 *
 * The scheduler process only talks to 127.0.0.1. The browser page loads the
 * Stately inspector UI (https://stately.ai/inspect) into an iframe and hands
 * it the messages with postMessage, inside the browser.
 *
 * Unlike @statelyai/inspect's own WebSocket client, this adapter never
 * retries on a timer, so `stop()` always lets the process exit.
 */
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket } from 'ws';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { TaskInspection } from '../../machines/contract.js';
import { taskMachine } from '../../machines/task/task.machine.js';
import { startInspectorRelay } from './inspector-relay.js';

/** Default `--inspect` port (the library's 8080 clashes with too much). */
export const DEFAULT_INSPECT_PORT = 9420;

export interface InspectorOptions {
  /** Default DEFAULT_INSPECT_PORT; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The inspector UI the page embeds; default https://stately.ai/inspect. */
  inspectorUrl?: string;
}

export interface Inspector {
  /** xstate's `inspect` option. */
  inspect: Observer<InspectionEvent>;
  /** The machines' `inspectTask` effect: shows a task's step as a task actor under the job. */
  inspectTask(step: TaskInspection): void;
  /** What to open in a browser, e.g. http://127.0.0.1:9420 */
  url: string;
  port: number;
  /** Sends what is queued, closes the connection and the relay. */
  stop(): Promise<void>;
}

/** Messages kept while the connection opens (the relay is local: rarely more than a few). */
const MAX_QUEUED = 1000;
/** Depth past which snapshot contexts and events are cut (the library's default). */
const DEPTH_LIMIT = 10;

export async function startInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const relay = await startInspectorRelay({
    port: options.port ?? DEFAULT_INSPECT_PORT,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.inspectorUrl !== undefined ? { inspectorUrl: options.inspectorUrl } : {}),
  });
  const adapter = new RelayAdapter(relay.wsUrl);
  try {
    await adapter.open();
  } catch (error) {
    await relay.close();
    throw error;
  }
  const inspector = createInspector(adapter, { serializationDepthLimit: DEPTH_LIMIT });
  const tasks = new TaskReporter(inspector);
  let stopped = false;
  return {
    inspect: {
      next: (event) => inspector.inspect.next?.(tasks.observe(event)),
      error: (err) => inspector.inspect.error?.(err),
      complete: () => inspector.inspect.complete?.(),
    },
    inspectTask: (step) => tasks.report(step),
    url: relay.url,
    port: relay.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      // The library converts inspection events on a setTimeout(0): let those go out first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await adapter.close();
      await relay.close();
    },
  };
}

type ManualInspector = Pick<ReturnType<typeof createInspector>, 'actor' | 'event' | 'snapshot'>;

/** What the inspector's manual API takes for an actor: a session id, its machine (the chart), its parent. */
interface TaskRef {
  sessionId: string;
  id: string;
  logic: typeof taskMachine;
  _parent: AnyActorRef | undefined;
  send(): void;
  getSnapshot(): unknown;
}

/**
 * Reports task steps as task actors under the job actor (learnt from the
 * inspection events xstate sends), one per task of the current round, and
 * trims the job's snapshots to the number of tasks in flight (their tasks
 * are shown one by one, and a round of 100,000 would not fit the browser).
 */
class TaskReporter {
  private job: AnyActorRef | undefined;
  private round = -1;
  private readonly refs = new Map<string, TaskRef>();

  constructor(private readonly inspector: ManualInspector) {}

  observe(event: InspectionEvent): InspectionEvent {
    const id = (event.actorRef as { logic?: { config?: { id?: unknown } } }).logic?.config?.id;
    if (id !== 'job') return event;
    if (event.type === '@xstate.actor') this.job = event.actorRef as AnyActorRef;
    if (event.type !== '@xstate.snapshot') return event;
    const snapshot = event.snapshot as { value?: unknown; status?: unknown; context?: { active?: { size?: unknown } } & Record<string, unknown> };
    if (snapshot.context?.active === undefined) return event;
    const { active, ...context } = snapshot.context;
    return { ...event, snapshot: { value: snapshot.value, status: snapshot.status, context: { ...context, tasksInFlight: active.size } } as never };
  }

  report(step: TaskInspection): void {
    if (step.round !== this.round) {
      this.round = step.round;
      this.refs.clear();
    }
    let ref = this.refs.get(step.taskId);
    if (ref === undefined) {
      ref = {
        sessionId: `task:${step.taskId}`, id: step.taskId, logic: taskMachine, _parent: this.job,
        send: () => {}, getSnapshot: () => step.snapshot,
      };
      this.refs.set(step.taskId, ref);
      // No `info`: the library reads parent and root from `_parent` (an `info.parentId` would be dropped).
      this.inspector.actor(ref, inspected(step));
    }
    if (step.event.type === 'xstate.init') return;
    this.inspector.event(ref, step.event, ...(this.job !== undefined ? [{ source: this.job }] : []));
    this.inspector.snapshot(ref, inspected(step), { event: step.event });
  }
}

function inspected(step: TaskInspection): Parameters<ManualInspector['snapshot']>[1] {
  return step.snapshot as Parameters<ManualInspector['snapshot']>[1];
}

/** The @statelyai/inspect Adapter: JSON over one WebSocket to the relay. */
class RelayAdapter {
  private socket: WebSocket | undefined;
  private readonly queue: string[] = [];
  private closed = false;

  constructor(private readonly url: string) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      socket.once('open', () => {
        this.socket = socket;
        for (const message of this.queue.splice(0)) socket.send(message);
        resolve();
      });
      socket.once('error', reject);
      socket.on('error', () => undefined);
    });
  }

  send(event: StatelyInspectionEvent): void {
    if (this.closed) return;
    const message = JSON.stringify(toJsonSafe(event, DEPTH_LIMIT + 2));
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(message);
    else if (this.socket === undefined) {
      this.queue.push(message);
      if (this.queue.length > MAX_QUEUED) this.queue.shift();
    }
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.closed = true;
    this.socket = undefined;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }
}

/**
 * A JSON-safe copy: honours toJSON (xstate snapshots and actor refs have one),
 * cuts cycles and depth, names functions, turns bigint into strings.
 */
export function toJsonSafe(value: unknown, depth: number, ancestors: object[] = []): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return { type: value.name === '' ? 'function' : value.name };
  if (typeof value === 'symbol' || value === undefined) return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.includes(value)) return '[Circular]';
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    const json: unknown = (withToJson.toJSON as () => unknown).call(value);
    if (json !== value) return toJsonSafe(json, depth, [...ancestors, value]);
  }
  if (depth <= 0) return '[Object]';
  const next = [...ancestors, value];
  if (Array.isArray(value)) return value.map((item) => toJsonSafe(item, depth - 1, next) ?? null);
  if (value instanceof Map) return toJsonSafe(Object.fromEntries(value), depth, next);
  if (value instanceof Set) return toJsonSafe([...value], depth, next);
  if (value instanceof Error) return { name: value.name, message: value.message };
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const safe = toJsonSafe(item, depth - 1, next);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}
