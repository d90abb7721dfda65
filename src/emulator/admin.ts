/**
 * The emulator's admin endpoint, served under /emulator/ on every master's own
 * port, for loopback clients only, and handled before the leader check (so it
 * works on any master, leading or not). Master indexes are 0-based.
 *
 *   GET  /emulator/leader                     {"index": 0 | null, "url": ...}
 *   GET  /emulator/received                   calls the masters accepted, in order (`local-master`: the latest 5,000–10,000)
 *   GET  /emulator/responses                  HTTP responses of the scheduler endpoint
 *   GET  /emulator/frameworks                 Cluster.frameworks()
 *   GET  /emulator/tasks                      Cluster.tasks()
 *   GET  /emulator/agents                     agent ids, hostnames, registered and recovering flags
 *   POST /emulator/faults/elect-leader        {"index": 1} or {"index": null} (no leader: 503); the
 *                                             old leader exits: connections cut, port closed for the
 *                                             restart time, then it answers as a non-leader
 *   POST /emulator/faults/drop-connections    cut every subscription connection
 *   POST /emulator/faults/end-streams         end every subscription stream cleanly (last chunk)
 *   POST /emulator/faults/stop-heartbeats     keep streams open but send no HEARTBEAT
 *   POST /emulator/faults/resume-heartbeats
 *   POST /emulator/faults/malformed-record    write bytes that are not RecordIO on every stream
 *   POST /emulator/faults/unavailable         {"ms": 2000}: answer 503 for that long
 *   POST /emulator/faults/delay-responses     {"ms": 500}: delay every response (0 = off)
 *   POST /emulator/faults/lose-agent          {"agentId": "..."}: TASK_LOST / TASK_UNREACHABLE
 *   POST /emulator/faults/restart-agent       {"agentId": "..."}
 *   POST /emulator/faults/rescind-offers      rescind every outstanding offer
 *   GET  /emulator/latency                    offer holds, update-to-ACK times, counters (latency-recorder.ts)
 *   GET  /emulator/latency/tasks              tasks of connected frameworks by state, updates awaiting ACK
 *   POST /emulator/latency/reset              start the counters and samples afresh
 *   POST /emulator/latency/probe              {"kind": "update"|"end", "count": 100, "timeoutMs": 10000, "budgetMs": 60000}:
 *                                             timed probes one at a time, answered when done
 *   POST /emulator/latency/end-all            kill every running task of connected frameworks ({"ended": n})
 *
 * Answers are JSON; faults answer {"ok": true}; mistakes answer 400/404/405
 * with {"error": "..."}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterFaults } from './index.js';
import type { LatencyRecorder } from './latency-recorder.js';

export interface AdminTarget {
  readonly masters: ReadonlyArray<unknown>;
  leaderIndex(): number | undefined;
  leaderUrl(): string | undefined;
  readonly received: ReadonlyArray<unknown>;
  readonly responses: ReadonlyArray<unknown>;
  frameworks(): unknown[];
  tasks(): unknown[];
  agents(): unknown[];
  readonly faults: ClusterFaults;
  readonly recorder: LatencyRecorder;
}

class AdminError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* fall through */ }
  throw new AdminError(400, 'body must be a JSON object');
}

function numberField(b: Record<string, unknown>, name: string): number {
  const v = b[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AdminError(400, `'${name}' must be a non-negative number`);
  return v;
}

function stringField(b: Record<string, unknown>, name: string): string {
  const v = b[name];
  if (typeof v !== 'string' || v === '') throw new AdminError(400, `'${name}' must be a non-empty string`);
  return v;
}

async function latencyRoute(recorder: LatencyRecorder, method: string, route: string, body: Buffer, res: ServerResponse): Promise<void> {
  if (method !== 'POST') throw new AdminError(405, `use POST for /emulator/${route}`);
  const b = parseBody(body);
  if (route === 'latency/reset') { recorder.reset(); return json(res, 200, { ok: true }); }
  if (route === 'latency/end-all') return json(res, 200, { ended: recorder.endAll() });
  if (route === 'latency/probe') {
    const kind = b.kind;
    if (kind !== 'update' && kind !== 'end') throw new AdminError(400, "'kind' must be 'update' or 'end'");
    const timeoutMs = b.timeoutMs === undefined ? 10_000 : numberField(b, 'timeoutMs');
    const budgetMs = b.budgetMs === undefined ? Number.POSITIVE_INFINITY : numberField(b, 'budgetMs');
    return json(res, 200, await recorder.probe(kind, numberField(b, 'count'), timeoutMs, budgetMs));
  }
  throw new AdminError(404, `no admin route /emulator/${route}`);
}

export async function handleAdmin(target: AdminTarget, req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
  const method = req.method ?? 'GET';
  const route = path.slice('/emulator/'.length);
  try {
    const gets: Record<string, () => unknown> = {
      leader: () => ({ index: target.leaderIndex() ?? null, url: target.leaderUrl() ?? null }),
      received: () => target.received,
      responses: () => target.responses,
      frameworks: () => target.frameworks(),
      tasks: () => target.tasks(),
      agents: () => target.agents(),
      latency: () => target.recorder.summary(),
      'latency/tasks': () => target.recorder.taskCounts(),
    };
    const get = gets[route];
    if (get) {
      if (method !== 'GET') throw new AdminError(405, `use GET for /emulator/${route}`);
      return json(res, 200, get());
    }
    if (route.startsWith('latency/')) return await latencyRoute(target.recorder, method, route, body, res);
    if (!route.startsWith('faults/')) throw new AdminError(404, `no admin route /emulator/${route}`);
    if (method !== 'POST') throw new AdminError(405, `use POST for /emulator/${route}`);
    const b = parseBody(body);
    const f = target.faults;
    const faults: Record<string, () => void> = {
      'elect-leader': () => {
        const i = b.index;
        if (i !== null && i !== undefined && (typeof i !== 'number' || !Number.isInteger(i))) throw new AdminError(400, "'index' must be an integer or null");
        if (typeof i === 'number' && (i < 0 || i >= target.masters.length)) {
          throw new AdminError(400, `no master with index ${i}; indexes are 0..${target.masters.length - 1}`);
        }
        // The old leader cuts every connection, this one included: answer first.
        res.once('finish', () => f.electLeader(i ?? undefined));
      },
      'drop-connections': () => f.dropConnections(),
      'end-streams': () => f.endStreams(),
      'stop-heartbeats': () => f.stopHeartbeats(),
      'resume-heartbeats': () => f.resumeHeartbeats(),
      'malformed-record': () => f.sendMalformedRecord(),
      unavailable: () => f.unavailableFor(numberField(b, 'ms')),
      'delay-responses': () => f.delayResponses(numberField(b, 'ms')),
      'lose-agent': () => f.loseAgent(stringField(b, 'agentId')),
      'restart-agent': () => f.restartAgent(stringField(b, 'agentId')),
      'rescind-offers': () => f.rescindOffers(),
    };
    const fault = faults[route.slice('faults/'.length)];
    if (!fault) throw new AdminError(404, `no fault /emulator/${route}; known: ${Object.keys(faults).join(', ')}`);
    try {
      fault();
    } catch (err) {
      if (err instanceof AdminError) throw err;
      throw new AdminError(400, (err as Error).message);
    }
    return json(res, 200, { ok: true });
  } catch (err) {
    if (err instanceof AdminError) return json(res, err.status, { error: err.message });
    throw err;
  }
}
