/**
 * The status endpoint (`--http-port`): a small node:http server, on
 * 127.0.0.1 unless told otherwise, serving
 *   GET /health   200 while subscribed to a master and the state store works, else 503 (JSON body)
 *   GET /state    JSON: framework, master, machine states, round, tasks, counters
 *   GET /metrics  Prometheus text format (prom-client)
 * and whatever `routes` answer (the API under /api, the dashboard at /);
 * 404 for anything else. Errors are JSON with a stable code (api/api-error.ts).
 *
 * With a `token`, /state and everything under /api but /api/openapi.json
 * need `Authorization: Bearer <token>` (401 otherwise, and nothing is done);
 * /health and /metrics (no secrets in them) and the dashboard's static files
 * stay open.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ApiError, sendError, sendJson } from './api/api-error.js';
import type { Route } from './api/api-routes.js';
import type { BearerToken } from './api/bearer-token.js';
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
  /** Asked in order for every other path; a route answers and resolves true, or resolves false. */
  routes?: readonly Route[];
  /** `--http-token-file`: the bearer token that /state and /api (but its OpenAPI document) need. */
  token?: BearerToken;
}

/** Paths that need the bearer token when there is one. */
export function needsToken(path: string): boolean {
  return path === '/state' || (path.startsWith('/api/') && path !== '/api/openapi.json') || path === '/api';
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
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) {
        sendError(res, error, error.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer' } : error.code === 'METHOD_NOT_ALLOWED' ? { allow: 'GET, HEAD' } : {});
      } else {
        sendError(res, new ApiError('INTERNAL', error instanceof Error ? error.message : String(error)));
      }
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
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (options.token && needsToken(path) && !options.token.matches(req.headers.authorization)) {
    throw new ApiError('UNAUTHORIZED', 'this path needs Authorization: Bearer <token> (the token of --http-token-file)');
  }
  const known = path === '/health' || path === '/state' || path === '/metrics';
  if (!known) {
    for (const route of options.routes ?? []) {
      if (await route(req, res, url)) return;
    }
    throw new ApiError('NOT_FOUND', `no such path ${path} (try /, /api/jobs, /health, /state, /metrics)`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new ApiError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${path}`);
  }
  if (path === '/health') {
    const subscribed = options.view.isSubscribed();
    const store = options.view.storeHealth();
    const ok = subscribed && store.ok;
    return sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', subscribed, store });
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

