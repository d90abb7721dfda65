/**
 * PersistedState in a ZooKeeper node (default `<path>/state` under the HA
 * path), for schedulers that run as several instances: the leader keeps its
 * state where a standby that takes over finds it.
 *
 * A deposed leader must not overwrite the new leader's state:
 * - every write is version-checked (setData with the version we last read
 *   or wrote); `load()` claims the node by rewriting it, so the previous
 *   writer's next write fails with BAD_VERSION;
 * - with `election`, writes also go through a multi-op that checks our
 *   election member node still exists (fencing: once our session is gone
 *   or we resigned, nothing we send can land).
 * Both cases reject with StateStoreError STATE_STALE, and so does every later
 * save: the instance must stop acting as leader.
 *
 * After (re)gaining leadership, call `load()` again before saving: it
 * re-reads and re-claims the node and clears an earlier STATE_STALE.
 *
 * Writes are applied in call order (one at a time). A write whose answer is
 * lost with the connection is checked after reconnecting (applied or not).
 * While ZooKeeper is unreachable, saves wait for it.
 */
import type { Logger } from 'pino';
import type { PersistedState } from '../../machines/contract.js';
import { StateStoreError, type StateChange, type StateStore, type StoredState } from '../state/store.js';
import { parsePersistedState, serializePersistedState, type StateLocation } from '../state/validate.js';
import { isZkError, zkErrorCode, ZkCode, ZkSession, type ZkSessionOptions } from './client.js';
import { joinZkPath, parseZkUrl, type ZkUrl } from './url.js';

/** ZooKeeper's default limit on node data (jute.maxbuffer). */
const MAX_NODE_BYTES = 1024 * 1024 - 1024;

export interface ZkStateStoreOptions extends ZkSessionOptions {
  /** Absolute znode path of the state. Default `<url path>/state`. */
  node?: string;
  /**
   * HA: use the election's session and write only while its member node
   * exists (a LeaderElection). Without it the store opens its own session.
   */
  election?: { readonly session: ZkSession | undefined; readonly memberPath: string | undefined };
  logger?: Logger;
}

/** A StateStore in one ZooKeeper node. */
export class ZkStateStore implements StateStore {
  readonly description: string;
  readonly url: ZkUrl;
  /** The znode path of the state. */
  readonly node: string;
  private readonly options: ZkStateStoreOptions;
  private readonly where: StateLocation;
  private readonly log: Logger | undefined;
  private ownSession: ZkSession | undefined;
  /** Version we last read or wrote; -1: no node yet; undefined: not loaded. */
  private version: number | undefined;
  private loadedFor: string | undefined;
  /** A load error (corrupt/foreign) or staleness: every save refuses with it. */
  private blocked: StateStoreError | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  /** `url`: the `zk://` URL of the HA path (string or parsed). */
  constructor(url: string | ZkUrl, options: ZkStateStoreOptions = {}) {
    this.url = typeof url === 'string' ? parseZkUrl(url) : url;
    this.options = options;
    this.node = options.node ?? joinZkPath(this.url.path, 'state');
    const display = `zk://${this.url.connectString}${this.node}`;
    this.description = `ZooKeeper node ${display}`;
    this.where = {
      what: `the state in ZooKeeper node ${display}`,
      remedy: `delete it (zkCli.sh -server ${this.url.servers[0]?.host ?? 'host'}:${this.url.servers[0]?.port ?? 2181} delete ${this.node}) or use another --ha path`,
    };
    this.log = options.logger?.child({ component: 'zk-state', node: this.node });
  }

  /** See StateStore.load. Also claims the node for this instance (see the file comment). */
  async load(expectedFrameworkName: string): Promise<StoredState | undefined> {
    const state = await this.enqueue(() => this.doLoad(expectedFrameworkName));
    return state === undefined ? undefined : { state };
  }

  /** Writes the newest state of `changes` (version-checked, fenced with `election`); rejects with STATE_STALE once another instance took over. */
  commit(changes: readonly StateChange[]): Promise<void> {
    const last = changes[changes.length - 1];
    if (last === undefined) return Promise.resolve();
    const state = last.state;
    return this.enqueue(async () => {
      if (this.loadedFor !== state.frameworkName) await this.doLoad(state.frameworkName);
      await this.write(state);
    });
  }

  /** Writes a whole state (see commit). */
  save(state: PersistedState): Promise<void> {
    return this.commit([{ state }]);
  }

  /** Waits for queued loads and saves (their errors are reported to their own callers). */
  async flush(): Promise<void> {
    await this.queue;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.ownSession?.close();
    this.ownSession = undefined;
  }

  // -------------------------------------------------------------------------

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new StateStoreError('STATE_IO', `${this.description}: the store is closed`);
      return op();
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private session(): ZkSession {
    const election = this.options.election;
    if (election) {
      const s = election.session;
      if (!s || !election.memberPath) {
        throw this.stale('this instance is not (or no longer) a member of the leader election');
      }
      return s;
    }
    if (!this.ownSession || this.ownSession.isClosed || this.ownSession.isExpired) {
      void this.ownSession?.close();
      this.ownSession = new ZkSession(this.url, this.options);
    }
    return this.ownSession;
  }

  private async doLoad(expectedFrameworkName: string): Promise<PersistedState | undefined> {
    this.blocked = undefined;
    this.loadedFor = expectedFrameworkName;
    for (let attempt = 0; ; attempt++) {
      const session = this.session();
      let data: Buffer | undefined;
      let version: number;
      try {
        const got = await session.getData(this.node);
        data = got.data;
        version = got.stat.version;
      } catch (err) {
        if (isZkError(err, ZkCode.NO_NODE)) {
          this.version = -1;
          return undefined;
        }
        throw this.ioError('read', err);
      }
      const text = data?.toString('utf8') ?? '';
      let state: PersistedState | undefined;
      if (text.trim() !== '') {
        try {
          state = parsePersistedState(text, expectedFrameworkName, this.where);
        } catch (err) {
          if (err instanceof StateStoreError) this.blocked = err;
          throw err;
        }
      }
      // Claim: rewrite the same bytes so an earlier writer's version no longer matches.
      try {
        this.version = (await this.setData(session, data ?? Buffer.alloc(0), version)).version;
        return state;
      } catch (err) {
        if (isZkError(err, ZkCode.BAD_VERSION) && attempt < 3) continue; // changed under us: read again
        throw this.writeError(err);
      }
    }
  }

  private async write(state: PersistedState): Promise<void> {
    if (this.blocked) throw this.blocked;
    const bytes = Buffer.from(serializePersistedState(state));
    if (bytes.length > MAX_NODE_BYTES) {
      throw new StateStoreError('STATE_IO', `${this.description}: the state is ${bytes.length} bytes, over ZooKeeper's node size limit (1 MB); use a --state-file instead`);
    }
    const session = this.session();
    const expected = this.version ?? -1;
    try {
      await this.writeOnce(session, bytes, expected);
    } catch (err) {
      if (!isZkError(err, ZkCode.CONNECTION_LOSS)) throw this.writeError(err);
      // The answer was lost: look whether the write landed.
      this.log?.warn('connection lost during a state write; checking whether it was applied');
      await session.connected();
      let current: { data: Buffer | undefined; version: number } | undefined;
      try {
        const got = await session.getData(this.node);
        current = { data: got.data, version: got.stat.version };
      } catch (e) {
        if (!isZkError(e, ZkCode.NO_NODE)) throw this.ioError('read', e);
      }
      if (current && current.data?.equals(bytes) && current.version === expected + 1) {
        this.version = current.version;
        return;
      }
      if ((current?.version ?? -1) !== expected) throw this.writeError(Object.assign(new Error('changed'), { code: ZkCode.BAD_VERSION }));
      try {
        await this.writeOnce(session, bytes, expected);
      } catch (e) {
        throw this.writeError(e);
      }
    }
  }

  private async writeOnce(session: ZkSession, bytes: Buffer, expected: number): Promise<void> {
    const fence = this.options.election?.memberPath;
    if (expected === -1) {
      const parent = this.node.slice(0, this.node.lastIndexOf('/')) || '/';
      if (parent !== '/') await session.mkdirp(parent);
      if (fence) await session.createFenced(this.node, bytes, fence);
      else await session.create(this.node, bytes, 0 /* PERSISTENT */);
      this.version = 0;
      return;
    }
    this.version = (await this.setData(session, bytes, expected)).version;
  }

  private setData(session: ZkSession, bytes: Buffer, version: number): Promise<{ version: number }> {
    const fence = this.options.election?.memberPath;
    return fence ? session.setDataFenced(this.node, bytes, version, fence) : session.setData(this.node, bytes, version);
  }

  /** Maps a failed write to STATE_STALE (someone else owns the state now) or STATE_IO. */
  private writeError(err: unknown): StateStoreError {
    if (err instanceof StateStoreError) return err;
    const code = zkErrorCode(err);
    const step = (err as { step?: number }).step;
    if (step === 0 && code === ZkCode.NO_NODE) return this.stale('our leader-election node is gone (session expired or resigned)');
    if (code === ZkCode.BAD_VERSION) return this.stale('another instance wrote the state since this one read it');
    if (code === ZkCode.NODE_EXISTS) return this.stale('another instance created the state since this one looked');
    if (code === ZkCode.NO_NODE) return this.stale('the state node was deleted since this one read it');
    if (code === ZkCode.SESSION_EXPIRED && this.options.election) return this.stale('the leader-election ZooKeeper session expired');
    return this.ioError('write', err);
  }

  private stale(why: string): StateStoreError {
    const e = new StateStoreError(
      'STATE_STALE',
      `${this.description}: ${why}. This instance must stop acting as leader; the state was not written.`,
    );
    this.blocked = e;
    this.log?.error(e.message);
    return e;
  }

  private ioError(op: string, err: unknown): StateStoreError {
    return new StateStoreError('STATE_IO', `cannot ${op} ${this.description}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
