/**
 * `--inspect [port]`: shows the live framework, job and task actors in the
 * Stately inspector. Starts the loopback relay (inspector-relay.ts) and an
 * @statelyai/inspect inspector whose adapter sends to it over one local
 * WebSocket. Pass `inspect` to xstate's `createActor(machine, { inspect })`;
 * actors it spawns are inspected too. The person opens `url` in a browser.
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
import type { InspectionEvent, Observer } from 'xstate';
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
  let stopped = false;
  return {
    inspect: inspector.inspect,
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
