/**
 * The loopback relay between the scheduler and the Stately inspector in a
 * browser. It speaks the protocol of `@statelyai/inspect/server` (an HTTP page
 * that iframes the Stately inspector UI and forwards every WebSocket message
 * to it with postMessage; WebSocket messages from one client go to every
 * other client), with three differences that the library server lacks:
 *   - it listens on the given host only (127.0.0.1 by default), and port 0 works;
 *   - WebSocket clients must come from a page on a loopback address (this
 *     relay's own, also through a forwarded port) or from no browser at all
 *     (no Origin header), so pages of other sites cannot read it;
 *   - a browser that joins late first gets every live actor with its latest
 *     snapshot, then the recent messages (the library replays only the last 200
 *     messages, which loses the actors registered at start-up).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface InspectorRelayOptions {
  host?: string;
  port: number;
  /** The inspector UI the page embeds. */
  inspectorUrl?: string;
}

export interface InspectorRelay {
  port: number;
  /** What a person opens in a browser. */
  url: string;
  /** What the scheduler's inspector connects to. */
  wsUrl: string;
  close(): Promise<void>;
}

export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';
const RECENT_MESSAGES = 200;
const MAX_LIVE_ACTORS = 1000;

export async function startInspectorRelay(options: InspectorRelayOptions): Promise<InspectorRelay> {
  const host = options.host ?? '127.0.0.1';
  const page = bridgePage(options.inspectorUrl ?? STATELY_INSPECTOR_URL);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : page);
  });
  await listen(server, options.port, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const ownOrigin = `http://${urlHost}:${port}`;
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ origin }: { origin?: string }) => origin === undefined || origin === ownOrigin || isLoopbackOrigin(origin),
  });
  const replay = new ReplayBuffer();
  wss.on('connection', (socket) => {
    for (const message of replay.messages()) socket.send(message);
    socket.on('message', (data) => {
      const message = data.toString();
      replay.add(message);
      for (const client of wss.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
      }
    });
  });

  return {
    port,
    url: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The page as served here, or through a forwarded port (`ssh -L`): any port on a loopback name. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const { protocol, hostname } = new URL(origin);
    return protocol === 'http:' && (hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]');
  } catch {
    return false;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Live actors (latest snapshot folded in) plus the most recent messages. */
class ReplayBuffer {
  private readonly actors = new Map<string, Record<string, unknown>>();
  private readonly recent: string[] = [];

  add(message: string): void {
    this.recent.push(message);
    if (this.recent.length > RECENT_MESSAGES) this.recent.shift();
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== 'object') return;
    const msg = parsed as Record<string, unknown>;
    const sessionId = typeof msg['sessionId'] === 'string' ? msg['sessionId'] : undefined;
    if (sessionId === undefined) return;
    if (msg['type'] === '@xstate.actor') {
      this.actors.set(sessionId, msg);
      if (this.actors.size > MAX_LIVE_ACTORS) {
        const oldest = this.actors.keys().next();
        if (oldest.done !== true) this.actors.delete(oldest.value);
      }
    } else if (msg['type'] === '@xstate.snapshot') {
      const actor = this.actors.get(sessionId);
      if (actor === undefined) return;
      const snapshot = msg['snapshot'] as { status?: unknown } | undefined;
      if (snapshot?.status !== undefined && snapshot.status !== 'active') this.actors.delete(sessionId);
      else actor['snapshot'] = snapshot;
    }
  }

  messages(): string[] {
    return [...[...this.actors.values()].map((actor) => JSON.stringify(actor)), ...this.recent];
  }
}

/** The page a person opens: the Stately inspector in an iframe, fed from this relay. */
function bridgePage(inspectorUrl: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>mesos-http-scheduler · Stately inspector</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${inspectorUrl}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
        buffer.length = 0;
      }
    });
    const ws = new WebSocket('ws://' + location.host);
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>
`;
}
