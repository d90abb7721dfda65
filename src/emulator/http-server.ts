/**
 * The HTTP face of one emulated master. Routes:
 *
 *   POST /api/v1/scheduler, /master/api/v1/scheduler   the scheduler API
 *   GET  /redirect, /master/redirect                    307 to //leader:port (503 without leader)
 *   GET  /state, /master/state (+ .json)                 leader, leader_info, frameworks, slaves
 *   GET  /health, /master/health                         200
 *   ...  /emulator/...                                   admin and fault injection (loopback only; admin.ts)
 *
 * The scheduler endpoint reproduces the order of checks of
 * Master::Http::scheduler (src/master/http.cpp): authentication (401),
 * leadership (307/503), recovery (503), method (405), Content-Type (400/415),
 * body (400), call validation (400), Accept (406), stream id on SUBSCRIBE
 * (400); then SUBSCRIBE answers 200 with a RecordIO stream, other calls need a
 * known (400), connected (403) framework and its current Mesos-Stream-Id (400)
 * and get 202 (UPDATE_FRAMEWORK 200, UNKNOWN 501).
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { CONTENT_TYPES, CodecError, decodeCall, formatForContentType } from '../mesos/codec.js';
import type { Call, MasterInfo } from '../mesos/types.js';
import { acceptsMediaType, authenticate, validateCall } from './call-validation.js';
import type { MasterCore } from './master.js';
import { SchedulerStream } from './scheduler-stream.js';
import { buildState } from './state-endpoint.js';

export interface ReceivedCall {
  at: number; master: number; contentType: string; call: Call;
  /** The client's port: which of its connections carried the call. */
  remotePort?: number;
}
export interface ResponseRecord { at: number; master: number; method: string; status: number; callType?: string }

export interface MasterControl {
  readonly core: MasterCore;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly credentials: ReadonlyMap<string, string> | undefined;
  isLeader(index: number): boolean;
  leaderInfo(): MasterInfo | undefined;
  masterInfo(index: number): MasterInfo;
  electedAt(index: number): number | undefined;
  unavailableUntil(): number;
  responseDelayMs(): number;
  heartbeatsPaused(): boolean;
  readonly streams: Set<SchedulerStream>;
  recordCall(rec: ReceivedCall): void;
  recordResponse(rec: ResponseRecord): void;
  admin(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SCHEDULER_PATHS = new Set(['/api/v1/scheduler', '/master/api/v1/scheduler']);
const STATE_PATHS = new Set(['/state', '/master/state', '/state.json', '/master/state.json']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || (address?.startsWith('127.') ?? false);
}

export function createMasterServer(index: number, ctl: MasterControl, tls?: { cert: string | Buffer; key: string | Buffer }): http.Server {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(index, ctl, req, res).catch((err: Error) => {
      ctl.logger.error({ err, url: req.url }, 'emulated master failed to handle a request');
      if (!res.headersSent) { res.writeHead(500, { 'Content-Type': 'text/plain' }); res.end(err.message); } else res.destroy();
    });
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  // The subscription response never ends; do not let idle or request timers cut it.
  server.requestTimeout = 0;
  // Nor answer 408 to a call whose headers took over 60 s to be read (Node's
  // default): libprocess has no such limit, and a busy master met it (the
  // mesos-framework comparison of the bench got 408s).
  server.headersTimeout = 0;
  server.keepAliveTimeout = 60_000;
  return server;
}

async function handle(index: number, ctl: MasterControl, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname;
  const body = await readBody(req);

  if (path.startsWith('/emulator/')) {
    if (!isLoopback(req.socket.remoteAddress)) return text(res, 403, 'The emulator admin endpoint only answers loopback clients');
    return ctl.admin(req, res, path, body);
  }

  const delay = ctl.responseDelayMs();
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));

  if (SCHEDULER_PATHS.has(path)) return scheduler(index, ctl, req, res, body);
  if (path === '/redirect' || path === '/master/redirect' || path.startsWith('/redirect/') || path.startsWith('/master/redirect/')) {
    return redirect(ctl, req, res, path);
  }
  if (STATE_PATHS.has(path)) {
    if (!ctl.isLeader(index)) return redirect(ctl, req, res, path);
    const state = buildState(ctl.core, ctl.masterInfo(index), ctl.leaderInfo(), ctl.electedAt(index));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(state));
    return;
  }
  if (path === '/health' || path === '/master/health') return text(res, 200, '');
  return text(res, 404, '');
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Master::Http::redirect: scheme-relative Location to the leader. */
function redirect(ctl: MasterControl, req: IncomingMessage, res: ServerResponse, path: string): void {
  const leader = ctl.leaderInfo();
  if (!leader) return text(res, 503, 'No leader elected');
  const base = `//${leader.hostname ?? leader.address?.ip ?? '127.0.0.1'}:${leader.port}`;
  if (path === '/redirect' || path === '/master/redirect') return text(res, 307, '', { Location: base });
  if (path.startsWith('/redirect/') || path.startsWith('/master/redirect/')) return text(res, 404, '');
  return text(res, 307, '', { Location: base + (req.url ?? path) });
}

async function scheduler(index: number, ctl: MasterControl, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const method = req.method ?? 'GET';
  let callType: string | undefined;
  const reply = (status: number, message: string, headers: Record<string, string> = {}): void => {
    ctl.recordResponse({ at: Date.now(), master: index, method, status, ...(callType ? { callType } : {}) });
    text(res, status, message, headers);
  };

  let principal: string | undefined;
  if (ctl.credentials) {
    principal = authenticate(req.headers.authorization, ctl.credentials);
    if (principal === undefined) return reply(401, '', { 'WWW-Authenticate': 'Basic realm="mesos-master-scheduler"' });
  }
  if (!ctl.isLeader(index)) {
    const leader = ctl.leaderInfo();
    ctl.recordResponse({ at: Date.now(), master: index, method, status: leader ? 307 : 503 });
    return redirect(ctl, req, res, '/api/v1/scheduler');
  }
  if (Date.now() < ctl.unavailableUntil()) return reply(503, 'Master has not finished recovery');
  if (method !== 'POST') return reply(405, `Expecting one of { 'POST' }, but received '${method}'`, { Allow: 'POST' });

  const contentType = req.headers['content-type'];
  if (contentType === undefined) return reply(400, "Expecting 'Content-Type' to be present");
  const format = formatForContentType(contentType);
  if (!format) return reply(415, `Expecting 'Content-Type' of ${CONTENT_TYPES.json} or ${CONTENT_TYPES.protobuf}`);

  let call: Call;
  try {
    call = decodeCall(body, format);
  } catch (err) {
    if (err instanceof CodecError) {
      return reply(400, err.message);
    }
    throw err;
  }
  callType = call.type;
  const invalid = validateCall(call, principal);
  if (invalid) return reply(400, `Failed to validate scheduler::Call: ${invalid}`);
  // http.cpp: the calls whose answers carry events need an Accept the master can write.
  if (call.type === 'RECONCILE_OPERATIONS' && !acceptsMediaType(req.headers.accept, CONTENT_TYPES.json) && !acceptsMediaType(req.headers.accept, CONTENT_TYPES.protobuf)) {
    return reply(406, `Expecting 'Accept' to allow '${CONTENT_TYPES.protobuf}' or '${CONTENT_TYPES.json}'`);
  }

  if (call.type === 'SUBSCRIBE') {
    const accept = req.headers.accept;
    const eventFormat = acceptsMediaType(accept, CONTENT_TYPES.json) ? 'json'
      : acceptsMediaType(accept, CONTENT_TYPES.protobuf) ? 'protobuf' : undefined;
    if (!eventFormat) return reply(406, `Expecting 'Accept' to allow '${CONTENT_TYPES.protobuf}' or '${CONTENT_TYPES.json}'`);
    if (req.headers['mesos-stream-id'] !== undefined) return reply(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    const sub = call.subscribe!;
    if (principal !== undefined && sub.framework_info.principal === undefined) sub.framework_info.principal = principal;
    ctl.recordCall({ at: Date.now(), master: index, contentType, call, ...(req.socket.remotePort !== undefined ? { remotePort: req.socket.remotePort } : {}) });
    ctl.recordResponse({ at: Date.now(), master: index, method, status: 200, callType });
    const streamId = randomUUID();
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[eventFormat], 'Mesos-Stream-Id': streamId });
    res.flushHeaders();
    const stream = new SchedulerStream(res, eventFormat, streamId, index, ctl.heartbeatIntervalMs, () => ctl.heartbeatsPaused());
    ctl.streams.add(stream);
    stream.onClose(() => ctl.streams.delete(stream));
    ctl.core.subscribe(stream, sub);
    return;
  }

  const fw = ctl.core.frameworks.get(call.framework_id!.value);
  if (!fw) return reply(400, 'Framework cannot be found');
  if (principal !== undefined && principal !== fw.info.principal) {
    return reply(400, `Authenticated principal '${principal}' does not match principal '${fw.info.principal ?? ''}' set in \`FrameworkInfo\``);
  }
  if (!fw.connected || !fw.stream) return reply(403, 'Framework is not subscribed');
  const streamId = req.headers['mesos-stream-id'];
  if (streamId === undefined) return reply(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  if (streamId !== fw.stream.streamId) {
    return reply(400, `The stream ID '${String(streamId)}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`);
  }
  ctl.recordCall({ at: Date.now(), master: index, contentType, call, ...(req.socket.remotePort !== undefined ? { remotePort: req.socket.remotePort } : {}) });
  const result = ctl.core.handleCall(fw, call);
  reply(result.status, result.body ?? '');
}
