/**
 * The status endpoint (`--http-port`): a small node:http server, on
 * 127.0.0.1 unless told otherwise, serving
 *   GET /health   200 while subscribed to a master, else 503 (JSON body)
 *   GET /state    JSON: framework, master, machine states, round, tasks, counters
 *   GET /metrics  Prometheus text format (prom-client)
 * and 404 for anything else. Read-only: other methods get 405.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { StateView } from './state-view.js';

export interface StatusServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  metrics: { registry: Registry };
  view: StateView;
  /** Current machine states for `/state`, e.g. `{ framework: snapshot.value, job: ... }`. */
  getMachineStates?: () => Record<string, unknown>;
}

export interface StatusServer {
  /** `http://host:port` actually bound. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: StatusServerOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const known = path === '/health' || path === '/state' || path === '/metrics';
  if (!known) return sendJson(res, 404, { error: 'not found', paths: ['/health', '/state', '/metrics'] });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendJson(res, 405, { error: 'method not allowed' });
  }
  if (path === '/health') {
    const subscribed = options.view.isSubscribed();
    return sendJson(res, subscribed ? 200 : 503, { status: subscribed ? 'ok' : 'unavailable', subscribed });
  }
  if (path === '/state') {
    return sendJson(res, 200, { ...options.view.snapshot(), machines: machineStates(options) });
  }
  const { registry } = options.metrics;
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function machineStates(options: StatusServerOptions): Record<string, unknown> {
  try {
    return options.getMachineStates?.() ?? {};
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
