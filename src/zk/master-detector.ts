/**
 * `zk://` master detection: a LeaderSource that follows the leading Mesos
 * master the way Mesos's own ZooKeeperMasterDetector does.
 *
 * Masters contend by creating EPHEMERAL_SEQUENTIAL `json.info_<seq>` children
 * of the path with their MasterInfo as JSON; the lowest sequence leads. We
 * watch the children (re-registering the one-shot watch after each fire),
 * read the leader's MasterInfo and turn it into a base URL.
 *
 * - A node that vanishes between list and get means "no leader for now": the
 *   children watch fires for that deletion and we look again.
 * - A missing path is watched with `exists` until a master creates it.
 * - While ZooKeeper is unreachable the last known leader is kept until the
 *   session could have expired (the session timeout since ZooKeeper was last
 *   heard); then, as Mesos does (docs/high-availability.md: "we also
 *   explicitly timeout our sessions"), there is no leader until ZooKeeper
 *   answers again. After reconnecting we look again; after session expiry we
 *   open a new session and look again.
 */
import type { Logger } from 'pino';
import type { LeaderSource } from '../client/leader-source.js';
import type { MasterInfo } from '../mesos/types.js';
import { ZkSession, isZkError, ZkCode, type ZkSessionOptions } from './client.js';
import { MASTER_INFO_LABEL, masterInfoToUrl, parseMasterInfo, pickLeaderChild, type MasterUrlOptions } from './master-info.js';
import { Rerunner } from './rerunner.js';
import { joinZkPath, parseZkUrl, type ZkUrl } from './url.js';

export interface ZkLeaderSourceOptions extends MasterUrlOptions, ZkSessionOptions {
  /** Optional pino logger (a child with `component: 'zk-detector'` is used). */
  logger?: Logger;
  /** Contender label; `json.info` (Mesos >= 0.24). */
  label?: string;
  /** How long to keep the last leader while ZooKeeper is unreachable (ms). Default: the session timeout. */
  disconnectGraceMs?: number;
}

/** The leading master as last read from ZooKeeper. */
export interface DetectedLeader {
  /** Base URL, e.g. `http://10.0.0.1:5050`. */
  url: string;
  /** Full znode path of its contender node. */
  node: string;
  info: MasterInfo;
}

/**
 * Follows the Mesos leader published in ZooKeeper. Connects lazily on the first
 * `candidates()`/`changed()`/`start()` call; `close()` ends the session.
 */
export class ZkLeaderSource implements LeaderSource {
  readonly description: string;
  readonly url: ZkUrl;
  private readonly options: ZkLeaderSourceOptions;
  private readonly log: Logger | undefined;
  private session: ZkSession | undefined;
  private leader: DetectedLeader | undefined;
  private listeners = new Set<() => void>();
  private readonly refresher = new Rerunner(
    () => this.refreshOnce(),
    () => !this.closed,
    (err) => {
      this.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'unexpected error while reading the leader from ZooKeeper');
    },
  );
  private closed = false;
  private graceTimer: NodeJS.Timeout | undefined;

  /** `url`: a `zk://` URL string (parsed with parseZkUrl, which throws ZkUrlError) or a parsed ZkUrl. */
  constructor(url: string | ZkUrl, options: ZkLeaderSourceOptions = {}) {
    this.url = typeof url === 'string' ? parseZkUrl(url) : url;
    this.options = options;
    this.description = this.url.redacted;
    this.log = options.logger?.child({ component: 'zk-detector', zk: this.url.redacted });
  }

  /** Connects and starts watching (idempotent). candidates() and changed() call it. */
  start(): void {
    if (this.closed) throw new Error(`ZkLeaderSource for ${this.description} is closed`);
    if (!this.session) this.openSession();
  }

  /** The leader as currently known, if any. */
  current(): DetectedLeader | undefined {
    return this.leader;
  }

  /** The current leader's base URL; waits while no leader is known. Rejects with the signal's reason on abort. */
  async candidates(signal: AbortSignal): Promise<string[]> {
    this.start();
    const leader = await this.waitFor(() => this.leader, signal);
    return [leader.url];
  }

  /**
   * Resolves when the leader differs from the one known when called (a new
   * URL, or no leader any more). Called while no leader is known, the first
   * leader learned becomes the baseline (so a subscription that calls
   * `changed()` and then `candidates()` is not dropped at once).
   */
  async changed(signal: AbortSignal): Promise<void> {
    this.start();
    let baseline = this.leader?.url;
    await this.waitFor(() => {
      const now = this.leader?.url;
      if (baseline === undefined) {
        baseline = now;
        return undefined;
      }
      return now !== baseline ? true : undefined;
    }, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopGraceTimer();
    const s = this.session;
    this.session = undefined;
    this.notify();
    await s?.close();
  }

  // -------------------------------------------------------------------------

  private openSession(): void {
    const session = new ZkSession(this.url, this.options);
    this.session = session;
    session.client.on('connected', () => {
      if (this.session !== session || this.closed) return;
      this.log?.debug('connected to ZooKeeper');
      this.stopGraceTimer();
      this.refresh();
    });
    session.client.on('disconnected', () => {
      if (this.session !== session || this.closed) return;
      this.log?.warn('disconnected from ZooKeeper; keeping the last known leader while reconnecting');
      this.startGraceTimer(session);
    });
    session.client.on('expired', () => {
      if (this.session !== session || this.closed) return;
      this.stopGraceTimer();
      this.log?.warn('ZooKeeper session expired; opening a new session');
      void session.close();
      this.openSession();
    });
  }

  private startGraceTimer(session: ZkSession): void {
    if (this.graceTimer) return;
    const grace = this.options.disconnectGraceMs ?? session.sessionTimeoutMs;
    const wait = Math.max(0, (session.lastHeardAt || Date.now()) + grace - Date.now());
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.session !== session || session.isConnected || this.closed) return;
      this.setLeader(undefined, `ZooKeeper unreachable for ${grace} ms (the session timeout)`);
    }, wait);
    this.graceTimer.unref();
  }

  private stopGraceTimer(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** Reads the children and the leader's data; serialized: a refresh during a refresh runs once more after it. */
  private refresh(): void {
    if (this.closed) return;
    this.refresher.request();
  }

  private async refreshOnce(): Promise<void> {
    const session = this.session;
    if (!session || this.closed) return;
    const watcher = (): void => {
      if (this.session === session) this.refresh();
    };
    const path = this.url.path;
    let children: string[];
    try {
      children = await session.getChildren(path, watcher);
    } catch (err) {
      if (isZkError(err, ZkCode.NO_NODE)) {
        this.setLeader(undefined, `the path ${path} does not exist yet`);
        try {
          const stat = await session.exists(path, watcher);
          if (stat) this.refresher.request(); // created in between: the watch may not fire
        } catch (e) {
          this.logTransient(e);
        }
        return;
      }
      this.logTransient(err);
      return; // connection loss: 'connected' refreshes; expiry: a new session refreshes
    }

    const child = pickLeaderChild(children, this.options.label ?? MASTER_INFO_LABEL);
    if (!child) {
      this.setLeader(undefined, `no ${this.options.label ?? MASTER_INFO_LABEL}_ node under ${path}`);
      return;
    }
    const node = joinZkPath(path, child);
    let data: Buffer | undefined;
    try {
      ({ data } = await session.getData(node));
    } catch (err) {
      if (isZkError(err, ZkCode.NO_NODE)) {
        // Vanished between list and get: the children watch fires for it.
        this.setLeader(undefined, `${node} vanished while reading it`);
        return;
      }
      this.logTransient(err);
      return;
    }
    try {
      const info = parseMasterInfo(data);
      const url = masterInfoToUrl(info, this.options);
      this.setLeader({ url, node, info });
    } catch (err) {
      this.log?.error({ node, err: (err as Error).message }, 'cannot use the leading master\'s MasterInfo; waiting for a change');
      this.setLeader(undefined, `${node}: ${(err as Error).message}`);
    }
  }

  private setLeader(leader: DetectedLeader | undefined, why?: string): void {
    if (this.closed) return;
    const before = this.leader;
    this.leader = leader;
    if (before?.url !== leader?.url || before?.node !== leader?.node) {
      if (leader) this.log?.info({ master: leader.url, node: leader.node, id: leader.info.id }, 'leading master detected');
      else this.log?.warn({ reason: why }, 'no leading master in ZooKeeper');
    }
    this.notify();
  }

  private logTransient(err: unknown): void {
    if (this.closed) return;
    this.log?.debug({ err: err instanceof Error ? err.message : String(err) }, 'ZooKeeper read failed; will retry after reconnecting');
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Waits until `get()` returns a value; re-checked on every leader update. */
  private waitFor<T>(get: () => T | undefined, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        if (signal.aborted) return finish(signal.reason ?? new Error('aborted'));
        if (this.closed) return finish(new Error(`ZkLeaderSource for ${this.description} was closed`));
        const v = get();
        if (v !== undefined) finish(undefined, v);
      };
      const finish = (err: unknown, v?: T): void => {
        this.listeners.delete(check);
        signal.removeEventListener('abort', check);
        if (err !== undefined) reject(err);
        else resolve(v as T);
      };
      this.listeners.add(check);
      signal.addEventListener('abort', check, { once: true });
      check();
    });
  }
}
