/**
 * A thin promise layer over node-zookeeper-client: one session, the few
 * operations the detector, the election and the state store need, digest auth
 * from the URL, ACLs like Mesos's (everyone may read, the creator may do all
 * when authenticated), and a `close()` that never hangs.
 *
 * node-zookeeper-client facts this relies on (see /work/shared/dependency-notes.md):
 * watches are one-shot and survive reconnects of the same session (the client
 * re-sends them); after `expired` the client is dead and a new one is needed;
 * the client never notices expiry while disconnected (it learns it on reconnect),
 * which is why the election and the detector keep their own timers; it has no
 * read timeout, which the watchdog below adds. The watchdog and close() reach
 * into the client's ConnectionManager (state, socket, connect, onSocketData,
 * onSocketConnected): checked against node-zookeeper-client 1.1.3.
 */
import zookeeper from 'node-zookeeper-client';
import type { ACL, Client, Event as ZkEvent, Stat, Transaction } from 'node-zookeeper-client';
import type { ZkUrl } from './url.js';

const { createClient, CreateMode, Exception, ACL: AclClass, Id, Permission } = zookeeper;

export { CreateMode };
export type { ZkEvent, Stat };

/** ZooKeeper error codes we branch on (node-zookeeper-client's Exception codes). */
export const ZkCode = {
  NO_NODE: Exception.NO_NODE,
  NODE_EXISTS: Exception.NODE_EXISTS,
  BAD_VERSION: Exception.BAD_VERSION,
  CONNECTION_LOSS: Exception.CONNECTION_LOSS,
  SESSION_EXPIRED: Exception.SESSION_EXPIRED,
  NOT_EMPTY: Exception.NOT_EMPTY,
  NO_AUTH: Exception.NO_AUTH,
} as const;

/** The ZooKeeper error code of `err` (node-zookeeper-client Exception), if it is one. */
export function zkErrorCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number') {
    return (err as { code: number }).code;
  }
  return undefined;
}

/** True when `err` is the ZooKeeper error `code` (a ZkCode value). */
export function isZkError(err: unknown, code: number): boolean {
  return zkErrorCode(err) === code;
}

export interface ZkSessionOptions {
  /** Requested session timeout (ms); the server clamps it to [2, 20] ticks unless configured otherwise. Default 10 000 (as Mesos). */
  sessionTimeoutMs?: number;
  /** Delay between reconnect rounds over the server list (ms). Default 500. */
  spinDelayMs?: number;
  /**
   * A TCP connection whose session handshake gets no answer for this long is
   * dropped and the next server tried (node-zookeeper-client has no read
   * timeout; a server that is starting up can accept and never answer).
   * Doubles after each such cut, up to session timeout / servers.
   * Default min(2000, session timeout / servers).
   */
  handshakeTimeoutMs?: number;
}

/**
 * One ZooKeeper session. Construct, then `await connected()` (or just issue
 * operations: they queue until connected). Listen to `client.on('state')`,
 * 'connected', 'disconnected', 'expired' for session events.
 */
export class ZkSession {
  readonly client: Client;
  readonly url: ZkUrl;
  /** ACLs for nodes we create: open without auth; with auth, world-read + creator-all (as Mesos). */
  readonly acls: ACL[];
  private closed = false;
  private readonly watchdog: NodeJS.Timeout;
  private readonly onClose = new Set<() => void>();
  /** When the server last sent us anything (ms since epoch; 0 before the first byte). */
  lastHeardAt = 0;

  constructor(url: ZkUrl, options: ZkSessionOptions = {}) {
    this.url = url;
    this.client = createClient(url.connectString, {
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      spinDelay: options.spinDelayMs ?? 500,
      retries: 0,
    });
    if (url.auth) {
      this.client.addAuthInfo('digest', Buffer.from(`${url.auth.user}:${url.auth.password}`));
      this.acls = [
        new AclClass(Permission.READ, new Id('world', 'anyone')),
        new AclClass(Permission.ALL, new Id('auth', '')),
      ];
    } else {
      this.acls = [new AclClass(Permission.ALL, new Id('world', 'anyone'))];
    }
    // An 'error' with no listener would crash the process; the client reports through states.
    this.client.on('error', () => undefined);
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.watchdog = startWatchdog(
      this.client,
      options.handshakeTimeoutMs ?? Math.min(2000, sessionTimeoutMs / url.servers.length),
      sessionTimeoutMs / url.servers.length,
      (at) => (this.lastHeardAt = at),
    );
    this.client.connect();
  }

  /** The session timeout the server granted (ms); the requested one before connecting. */
  get sessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * With digest credentials, operations wait until connected: the client sends
   * the credentials when a connection opens, after anything already queued,
   * and ZooKeeper checks them per connection.
   */
  private async ready(): Promise<void> {
    if (this.url.auth && !this.isConnected) await this.connected();
  }

  /** True once the server declared the session expired (the client is dead; make a new ZkSession). */
  get isExpired(): boolean {
    return this.client.getState() === zookeeper.State.EXPIRED;
  }

  /** True while the session is connected (read-write or read-only). */
  get isConnected(): boolean {
    const s = this.client.getState();
    return s === zookeeper.State.SYNC_CONNECTED || s === zookeeper.State.CONNECTED_READ_ONLY;
  }

  /** Resolves when connected; rejects when `signal` aborts or the session is closed or expires first. */
  connected(signal?: AbortSignal): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`ZooKeeper session to ${this.url.redacted} is closed`));
    return new Promise((resolve, reject) => {
      const done = (err?: unknown): void => {
        this.client.removeListener('connected', onConnected);
        this.client.removeListener('connectedReadOnly', onConnected);
        this.client.removeListener('expired', onExpired);
        signal?.removeEventListener('abort', onAbort);
        this.onClose.delete(onClosed);
        if (err) reject(err);
        else resolve();
      };
      const onConnected = (): void => done();
      const onExpired = (): void => done(new Error(`ZooKeeper session to ${this.url.redacted} expired`));
      const onAbort = (): void => done(signal?.reason ?? new Error('aborted'));
      const onClosed = (): void => done(new Error(`ZooKeeper session to ${this.url.redacted} was closed`));
      if (signal?.aborted) return onAbort();
      this.client.on('connected', onConnected);
      this.client.on('connectedReadOnly', onConnected);
      this.client.on('expired', onExpired);
      this.onClose.add(onClosed);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async getChildren(path: string, watcher?: (e: ZkEvent) => void): Promise<string[]> {
    await this.ready();
    return new Promise((resolve, reject) => {
      const cb = (err: unknown, children: string[]): void => (err ? reject(err) : resolve(children));
      if (watcher) this.client.getChildren(path, watcher, cb);
      else this.client.getChildren(path, cb);
    });
  }

  async getData(path: string, watcher?: (e: ZkEvent) => void): Promise<{ data: Buffer | undefined; stat: Stat }> {
    await this.ready();
    return new Promise((resolve, reject) => {
      const cb = (err: unknown, data: Buffer | null | undefined, stat: Stat): void =>
        err ? reject(err) : resolve({ data: data ?? undefined, stat });
      if (watcher) this.client.getData(path, watcher, cb);
      else this.client.getData(path, cb);
    });
  }

  /** The node's Stat, or undefined when it does not exist. */
  async exists(path: string, watcher?: (e: ZkEvent) => void): Promise<Stat | undefined> {
    await this.ready();
    return new Promise((resolve, reject) => {
      const cb = (err: unknown, stat: Stat | null | undefined): void => (err ? reject(err) : resolve(stat ?? undefined));
      if (watcher) this.client.exists(path, watcher, cb);
      else this.client.exists(path, cb);
    });
  }

  /** Creates a node; returns its path (with the sequence suffix for sequential modes). */
  async create(path: string, data: Buffer | undefined, mode: number): Promise<string> {
    await this.ready();
    return new Promise((resolve, reject) => {
      this.client.create(path, data ?? Buffer.alloc(0), this.acls, mode, (err: unknown, created: string) =>
        err ? reject(err) : resolve(created),
      );
    });
  }

  /** Creates `path` and its missing parents as persistent nodes (no error when it exists). */
  async mkdirp(path: string): Promise<void> {
    await this.ready();
    return new Promise((resolve, reject) => {
      this.client.mkdirp(path, this.acls, CreateMode.PERSISTENT, (err: unknown) => (err ? reject(err) : resolve()));
    });
  }

  async setData(path: string, data: Buffer, version: number): Promise<Stat> {
    await this.ready();
    return new Promise((resolve, reject) => {
      this.client.setData(path, data, version, (err: unknown, stat: Stat) => (err ? reject(err) : resolve(stat)));
    });
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.ready();
    return new Promise((resolve, reject) => {
      this.client.remove(path, version, (err: unknown) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * setData only while `fencePath` exists (a multi-op: check + setData), so a
   * deposed leader whose election node is gone cannot write. Returns the new
   * Stat; a failure carries the ZooKeeper `code` and `step` (0: the fence
   * check failed, 1: setData failed, e.g. BAD_VERSION).
   */
  setDataFenced(path: string, data: Buffer, version: number, fencePath: string): Promise<Stat> {
    return this.fenced(fencePath, (tx) => tx.setData(path, data, version)).then((results) => {
      const stat = (results[1] as { stat?: Stat } | undefined)?.stat;
      if (!stat) throw new Error('ZooKeeper multi-op returned no Stat for setData');
      return stat;
    });
  }

  /** create (persistent) only while `fencePath` exists; failures as for setDataFenced. */
  async createFenced(path: string, data: Buffer, fencePath: string): Promise<void> {
    await this.fenced(fencePath, (tx) => tx.create(path, data, this.acls, CreateMode.PERSISTENT));
  }

  private fenced(fencePath: string, op: (tx: Transaction) => Transaction): Promise<unknown[]> {
    return this.multi((tx) => op(tx.check(fencePath, -1)));
  }

  /**
   * One multi-op (all or nothing). Resolves with the per-op results (`path`
   * for a create, `stat` for a setData); a failure carries the ZooKeeper `code`
   * and `step`, the index of the op that failed.
   */
  async multi(build: (tx: Transaction) => Transaction): Promise<unknown[]> {
    await this.ready();
    return new Promise((resolve, reject) => {
      build(this.client.transaction()).commit((err: unknown, results: unknown) => {
        const list = Array.isArray(results) ? (results as unknown[]) : [];
        if (!err) return resolve(list);
        // The first result with a non-zero err is the operation that failed.
        const step = list.findIndex((r) => typeof (r as { err?: unknown }).err === 'number' && (r as { err: number }).err !== 0);
        reject(Object.assign(err as object, { step }));
      });
    });
  }

  /**
   * Closes the session: when connected, a CLOSE_SESSION (ephemeral nodes go at
   * once); when not, the reconnect loop is stopped (the server expires the
   * session after its timeout). Never hangs: gives up waiting after `timeoutMs`.
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    for (const f of [...this.onClose]) f();
    if (this.isConnected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        const client = this.client;
        function finish(): void {
          clearTimeout(timer);
          client.removeListener('disconnected', finish);
          resolve();
        }
        client.once('disconnected', finish);
        client.close();
      });
    }
    forceStop(this.client);
  }
}

interface ConnectionManagerInternals {
  state: number;
  socket?: { destroy(): void; readyState?: string };
  connectTimeoutHandler?: NodeJS.Timeout;
  connect(): void;
  onSocketConnected(): void;
  setState(s: number): void;
}

/**
 * node-zookeeper-client reconnects forever until a CLOSE_SESSION goes out, and
 * `client.close()` while still connecting writes to a socket that does not
 * exist yet. Stop the loop from the outside: no more connects, a socket that
 * connects late is dropped, and the CLOSING state makes the socket's close
 * final (ConnectionManager.onSocketClosed does not retry in CLOSING).
 */
function forceStop(client: Client): void {
  const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
  if (!cm || cm.state === -2 /* CLOSED */ || cm.state === -3 /* SESSION_EXPIRED */) return;
  cm.connect = () => undefined;
  cm.onSocketConnected = function (this: ConnectionManagerInternals) {
    if (this.connectTimeoutHandler) clearTimeout(this.connectTimeoutHandler);
    this.socket?.destroy();
  };
  if (cm.connectTimeoutHandler) clearTimeout(cm.connectTimeoutHandler);
  cm.setState(-1 /* CLOSING */);
  cm.socket?.destroy();
}

/**
 * node-zookeeper-client has no read timeout. Every tick, drop the socket when
 * - it is stuck in the session handshake (CONNECTING) for `handshakeTimeoutMs`, or
 * - it is connected but nothing arrived for 2/3 of the negotiated session
 *   timeout (the Java client's read timeout; the client pings every 1/3),
 * so the client's own loop reconnects (and, for a dead server, reports
 * 'disconnected'). Records when the server was last heard from.
 */
function startWatchdog(client: Client, handshakeTimeoutMs: number, maxHandshakeMs: number, heard: (at: number) => void): NodeJS.Timeout {
  const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals & { onSocketData(b: Buffer): void } })
    .connectionManager;
  let lastData = Date.now();
  if (cm) {
    const original = cm.onSocketData;
    // The socket's 'data' listener is bound from this property when the socket is created.
    cm.onSocketData = function (this: typeof cm, buffer: Buffer) {
      lastData = Date.now();
      heard(lastData);
      return original.call(this, buffer);
    };
  }
  let stuck: { socket: object; since: number } | undefined;
  // A slow server (busy disk: session creation is an fsync'd write) must not be
  // cut off forever: each consecutive cut doubles the allowance, up to the
  // Java client's connect timeout (session timeout / servers).
  let allowance = handshakeTimeoutMs;
  const timer = setInterval(() => {
    const socket = cm?.socket;
    if (!cm || !socket || socket.readyState !== 'open') {
      stuck = undefined;
      return;
    }
    const now = Date.now();
    if (cm.state === 1 /* CONNECTING */) {
      if (stuck?.socket !== socket) stuck = { socket, since: now };
      else if (now - stuck.since >= allowance) {
        stuck = undefined;
        allowance = Math.min(allowance * 2, Math.max(handshakeTimeoutMs, maxHandshakeMs));
        socket.destroy();
      }
      return;
    }
    stuck = undefined;
    allowance = handshakeTimeoutMs;
    if ((cm.state === 2 || cm.state === 3) /* CONNECTED(_READ_ONLY) */ && now - lastData > (client.getSessionTimeout() * 2) / 3) {
      socket.destroy();
    }
  }, 100);
  timer.unref();
  return timer;
}
