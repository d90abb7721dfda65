/**
 * The state in ZooKeeper (default `<ha path>/state`), for schedulers that run
 * as several instances: the leader keeps its state where a standby that takes
 * over finds it. ZooKeeper refuses nodes over 1 MB (jute.maxbuffer), so the
 * state is a journal spread over nodes, as the state file is:
 *
 * - `<node>`: the manifest (JSON: format version 2, framework name, cluster,
 *   the snapshot's generation and parts, the first journal sequence number
 *   after it). An earlier version of this program wrote the whole state here
 *   (format 1); such a state is read and migrated once.
 * - `<node>/snap-<generation>-<random>-<i>`: the parts of the snapshot record,
 *   each 256 KiB at most (ZooKeeper refuses requests over 1 MB).
 * - `<node>/journal-<sequence>`: one commit's records (length, checksum, JSON;
 *   src/state/journal-records.ts), sequential nodes, read in order.
 *
 * A commit appends one journal node (several for a large one) in a multi-op
 * that also checks the manifest's version and, with `election`, that our
 * leader-election member node exists, so a deposed leader cannot write. Now and
 * then (when the journal outgrows 1 MiB and twice the snapshot, or 1,000 nodes)
 * and whenever a change comes without a delta, a commit writes a new snapshot
 * instead: its parts, then the manifest switched to it (version-checked,
 * fenced), then the old parts and journal nodes are deleted.
 *
 * `load()` claims the state by rewriting the manifest, so an earlier writer's
 * next commit fails (STATE_STALE, for good until it loads again). Every
 * ZooKeeper operation not done within `timeoutMs` (--state-timeout) fails the
 * commit with STATE_IO (temporary: retried by the runtime). A commit whose
 * answer was lost is safe to retry: applying a run of records twice in a row
 * changes nothing, and a manifest write of unknown outcome is checked before
 * the next one.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { PersistedState } from '../../machines/contract.js';
import { decodeRecords, encodeRecord, fromLastSnapshot, recordOf, snapshotRecord, StateAccumulator } from '../state/journal-records.js';
import { StateStoreError, type StateChange, type StateStore, type StoredState } from '../state/store.js';
import { checkPersistedState, corruptState, parsePersistedState, type StateLocation } from '../state/validate.js';
import { CreateMode, isZkError, zkErrorCode, ZkCode, ZkSession, type ZkSessionOptions } from './client.js';
import { joinZkPath, parseZkUrl, type ZkUrl } from './url.js';

/** Largest data we put in one node (ZooKeeper's limit is 1 MB for the whole request). */
export const PART_BYTES = 256 * 1024;
const COMPACT_MIN_BYTES = 1024 * 1024;
const COMPACT_MAX_NODES = 1000;
const MANIFEST_VERSION = 2;

interface Manifest {
  version: typeof MANIFEST_VERSION;
  frameworkName: string;
  cluster?: string;
  /** Name of the snapshot (`<generation>-<random>`: unique per attempt), and how many parts it has. */
  snapshot: string;
  parts: number;
  /** Journal nodes with a sequence number below this are covered by the snapshot. */
  journalFrom: number;
}

export interface ZkStateStoreOptions extends ZkSessionOptions {
  /** Absolute znode path of the state. Default `<url path>/state`. */
  node?: string;
  /**
   * HA: use the election's session and write only while its member node
   * exists (a LeaderElection). Without it the store opens its own session.
   */
  election?: { readonly session: ZkSession | undefined; readonly memberPath: string | undefined };
  /** The cluster the state belongs to (recorded in the manifest and snapshot). */
  cluster?: string;
  /** A ZooKeeper operation not done within this fails the commit (STATE_IO). Default 10 000. */
  timeoutMs?: number;
  logger?: Logger;
}

/** A StateStore in ZooKeeper nodes (see the file comment). */
export class ZkStateStore implements StateStore {
  readonly description: string;
  readonly url: ZkUrl;
  /** The znode path of the state (its manifest). */
  readonly node: string;
  private readonly options: ZkStateStoreOptions;
  private readonly where: StateLocation;
  private readonly log: Logger | undefined;
  private ownSession: ZkSession | undefined;
  /** The manifest as we last read or wrote it, and its node version; version -1: no node yet. */
  private manifest: Manifest | undefined;
  private version: number | undefined;
  /** A manifest write whose outcome is unknown (timeout, lost answer): its bytes, checked before the next write. */
  private uncertain: Buffer | undefined;
  private journalBytes = 0;
  private journalNodes = 0;
  private snapshotBytes = 0;
  private lastSeq = -1;
  private loadedFor: string | undefined;
  /** A load error (corrupt/foreign) or staleness: every commit refuses with it. */
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
      remedy: `delete it (zkCli.sh -server ${this.url.servers[0]?.host ?? 'host'}:${this.url.servers[0]?.port ?? 2181} deleteall ${this.node}) or use another --ha path`,
    };
    this.log = options.logger?.child({ component: 'zk-state', node: this.node });
  }

  /** See StateStore.load. Also claims the state for this instance (see the file comment). */
  load(expectedFrameworkName: string): Promise<StoredState | undefined> {
    return this.enqueue(() => this.doLoad(expectedFrameworkName));
  }

  /** See StateStore.commit and the file comment. */
  commit(changes: readonly StateChange[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    const first = changes[0]!;
    const name = first.delta ? first.delta.header.frameworkName : first.state.frameworkName;
    return this.enqueue(async () => {
      if (this.loadedFor !== name) await this.doLoad(name);
      if (this.blocked) throw this.blocked;
      try {
        await this.write(changes);
      } catch (err) {
        throw this.writeError(err);
      }
    });
  }

  /** Writes a whole state (a snapshot). */
  save(state: PersistedState): Promise<void> {
    return this.commit([{ state }]);
  }

  /** Waits for queued loads and commits (their errors are reported to their own callers). */
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
      if (!s || !election.memberPath) throw this.stale('this instance is not (or no longer) a member of the leader election');
      return s;
    }
    if (!this.ownSession || this.ownSession.isClosed || this.ownSession.isExpired) {
      void this.ownSession?.close();
      this.ownSession = new ZkSession(this.url, this.options);
    }
    return this.ownSession;
  }

  /** `op`, or STATE_IO when it is not done within the timeout. */
  private timed<T>(what: string, op: Promise<T>): Promise<T> {
    const ms = this.options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StateStoreError('STATE_IO', `${this.description}: ${what} did not complete within ${ms / 1000} s (--state-timeout)`)), ms);
    });
    return Promise.race([op, timeout]).finally(() => clearTimeout(timer));
  }

  private async doLoad(expectedFrameworkName: string): Promise<StoredState | undefined> {
    this.blocked = undefined;
    this.loadedFor = expectedFrameworkName;
    this.uncertain = undefined;
    try {
      return await this.readAndClaim(expectedFrameworkName);
    } catch (err) {
      if (err instanceof StateStoreError && (err.code === 'STATE_CORRUPT' || err.code === 'STATE_FOREIGN')) this.blocked = err;
      if (err instanceof StateStoreError) throw err;
      throw this.writeError(err);
    }
  }

  private async readAndClaim(expectedFrameworkName: string): Promise<StoredState | undefined> {
    for (let attempt = 0; ; attempt++) {
      const session = this.session();
      let data: Buffer | undefined;
      let version: number;
      try {
        const got = await this.timed('reading the state', session.getData(this.node));
        data = got.data;
        version = got.stat.version;
      } catch (err) {
        if (isZkError(err, ZkCode.NO_NODE)) {
          this.version = -1;
          this.manifest = undefined;
          return undefined;
        }
        throw err instanceof StateStoreError ? err : this.ioError('read', err);
      }
      const text = data?.toString('utf8') ?? '';
      if (text.trim() === '') {
        // An empty node (created by hand, or by a very early version): no state yet; claim it.
        this.version = (await this.timed('claiming the state', this.setManifestData(session, data ?? Buffer.alloc(0), version))).version;
        this.manifest = undefined;
        return undefined;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw corruptState(this.where, `not JSON: ${(err as Error).message}`, err);
      }
      if (isObject(value) && value['version'] === MANIFEST_VERSION) {
        const manifest = this.checkManifest(value, expectedFrameworkName);
        const stored = await this.readJournal(session, manifest, expectedFrameworkName);
        try {
          // Claim: rewrite the same bytes so an earlier writer's version no longer matches.
          this.version = (await this.timed('claiming the state', this.setManifestData(session, data!, version))).version;
        } catch (err) {
          if (isZkError(err, ZkCode.BAD_VERSION) && attempt < 3) continue;
          throw err;
        }
        this.manifest = manifest;
        return stored;
      }
      // Format 1: the whole state in this node, written by an earlier version. Migrate it (which claims it).
      const state = parsePersistedState(text, expectedFrameworkName, this.where);
      this.version = version;
      this.manifest = undefined;
      try {
        await this.writeSnapshot(session, state, [], true);
      } catch (err) {
        if (isZkError(err, ZkCode.BAD_VERSION) && attempt < 3) continue;
        throw err;
      }
      this.log?.info(`migrated ${this.description} from format 1 (one node) to a journal over several nodes`);
      return { state };
    }
  }

  private checkManifest(value: Record<string, unknown>, expectedFrameworkName: string): Manifest {
    if (typeof value['frameworkName'] === 'string' && value['frameworkName'] !== expectedFrameworkName) {
      checkPersistedState({ frameworkName: value['frameworkName'] }, expectedFrameworkName, this.where); // throws STATE_FOREIGN
    }
    const count = (k: string): boolean => typeof value[k] === 'number' && Number.isInteger(value[k]) && (value[k] as number) >= 0;
    if (typeof value['frameworkName'] !== 'string' || typeof value['snapshot'] !== 'string' || !/^\d+-[0-9a-f]+$/.test(value['snapshot']) ||
      !count('parts') || !count('journalFrom') || (value['parts'] as number) < 1) {
      throw corruptState(this.where, 'a manifest without frameworkName, snapshot, parts and journalFrom');
    }
    return value as unknown as Manifest;
  }

  private async readJournal(session: ZkSession, manifest: Manifest, expectedFrameworkName: string): Promise<StoredState> {
    const children = await this.timed('listing the state nodes', session.getChildren(this.node));
    const parts = await this.timed('reading the snapshot', Promise.all(
      Array.from({ length: manifest.parts }, (_, i) => session.getData(joinZkPath(this.node, partName(manifest.snapshot, i))).then((g) => g.data ?? Buffer.alloc(0))),
    )).catch((err: unknown) => {
      if (isZkError(err, ZkCode.NO_NODE)) throw corruptState(this.where, `a part of snapshot ${manifest.snapshot} is missing`);
      throw err;
    });
    const snapshot = Buffer.concat(parts);
    const journal = children
      .map((name) => ({ name, seq: journalSeq(name) }))
      .filter((j): j is { name: string; seq: number } => j.seq !== undefined && j.seq >= manifest.journalFrom)
      .sort((a, b) => a.seq - b.seq);
    const bodies = await this.timed('reading the journal', Promise.all(journal.map((j) => session.getData(joinZkPath(this.node, j.name)).then((g) => g.data ?? Buffer.alloc(0)))));
    const acc = new StateAccumulator();
    const applyAll = (buf: Buffer, what: string): number => {
      const decoded = decodeRecords(buf, 0);
      const bad = decoded.corrupt ?? (decoded.torn ? { offset: decoded.torn.offset, why: decoded.torn.why } : undefined);
      if (bad) throw corruptState(this.where, `${what} is damaged at byte offset ${bad.offset}: ${bad.why}`);
      for (const r of decoded.records) {
        const problem = acc.apply(r.record);
        if (problem) throw corruptState(this.where, `${what} is damaged at byte offset ${r.offset}: ${problem}`);
      }
      return decoded.records.length;
    };
    applyAll(snapshot, `snapshot ${manifest.snapshot}`);
    journal.forEach((j, i) => applyAll(bodies[i]!, `journal node ${j.name}`));
    const value = acc.state();
    if (value === undefined) throw corruptState(this.where, `snapshot ${manifest.snapshot} holds no snapshot record`);
    const state = checkPersistedState(value, expectedFrameworkName, this.where);
    this.snapshotBytes = snapshot.length;
    this.journalBytes = bodies.reduce((n, b) => n + b.length, 0);
    this.journalNodes = journal.length;
    this.lastSeq = Math.max(manifest.journalFrom - 1, ...journal.map((j) => j.seq));
    const cluster = acc.cluster ?? manifest.cluster;
    return { state, ...(cluster !== undefined ? { cluster } : {}) };
  }

  private async write(changes: readonly StateChange[]): Promise<void> {
    const session = this.session();
    await this.settleUncertain(session);
    const { snapshot, deltas } = fromLastSnapshot(changes);
    const last = changes[changes.length - 1]!;
    const compact = this.journalBytes > Math.max(COMPACT_MIN_BYTES, 2 * this.snapshotBytes) || this.journalNodes >= COMPACT_MAX_NODES;
    if (snapshot !== undefined || this.manifest === undefined || compact) {
      return this.writeSnapshot(session, (snapshot ?? last).state, snapshot ? deltas : [], false);
    }
    const frames = deltas.map((c) => encodeRecord(recordOf(c, this.options.cluster)));
    if (frames.some((f) => f.length > PART_BYTES)) return this.writeSnapshot(session, last.state, [], false);
    for (const chunk of chunksOf(frames, PART_BYTES)) await this.append(session, chunk);
  }

  /** One journal node, created only while the manifest is ours (and, with an election, while we are a member). */
  private async append(session: ZkSession, data: Buffer): Promise<void> {
    const fence = this.options.election?.memberPath;
    const results = await this.timed('appending to the journal', session.multi((tx) => {
      if (fence) tx.check(fence, -1);
      return tx.check(this.node, this.version!).create(joinZkPath(this.node, 'journal-'), data, session.acls, CreateMode.PERSISTENT_SEQUENTIAL);
    }));
    const created = (results[results.length - 1] as { path?: string } | undefined)?.path;
    const seq = created ? journalSeq(created.slice(created.lastIndexOf('/') + 1)) : undefined;
    if (seq !== undefined) this.lastSeq = Math.max(this.lastSeq, seq);
    this.journalBytes += data.length;
    this.journalNodes++;
  }

  /**
   * A new snapshot (state, then `after`): its parts, then the manifest switched
   * to it, then the old nodes deleted. `migrating`: the node holds a format-1
   * state (replaced by the manifest, version-checked).
   */
  private async writeSnapshot(session: ZkSession, state: PersistedState, after: readonly StateChange[], migrating: boolean): Promise<void> {
    const fence = this.options.election?.memberPath;
    const bytes = encodeRecord(snapshotRecord(state, this.options.cluster));
    const rest = after.map((c) => encodeRecord(recordOf(c, this.options.cluster)));
    const generation = Number((this.manifest?.snapshot ?? '0-0').split('-')[0]) + 1;
    const name = `${generation}-${randomBytes(4).toString('hex')}`;
    const parts = chunksOf([bytes], PART_BYTES, true);
    if (this.version === -1) {
      // The node, empty (no state yet), created only if nobody else did (NODE_EXISTS: stale).
      const parent = this.node.slice(0, this.node.lastIndexOf('/')) || '/';
      if (parent !== '/') await this.timed('creating the state node', session.mkdirp(parent));
      await this.timed('creating the state node', fence ? session.createFenced(this.node, Buffer.alloc(0), fence) : session.create(this.node, Buffer.alloc(0), CreateMode.PERSISTENT).then(() => undefined));
      this.version = 0;
    }
    // Parts first: nobody reads them until the manifest names them. One at a
    // time: megabytes in flight at once starve the session's pings.
    for (const [i, part] of parts.entries()) {
      await this.timed('writing the snapshot', session.multi((tx) => {
        if (fence) tx.check(fence, -1);
        return tx.create(joinZkPath(this.node, partName(name, i)), part, session.acls, CreateMode.PERSISTENT);
      }));
    }
    const manifest: Manifest = {
      version: MANIFEST_VERSION, frameworkName: state.frameworkName,
      ...(this.options.cluster !== undefined ? { cluster: this.options.cluster } : {}),
      snapshot: name, parts: parts.length, journalFrom: this.lastSeq + 1,
    };
    const data = Buffer.from(`${JSON.stringify(manifest)}\n`);
    this.uncertain = data;
    const stat = await this.timed('switching to the new snapshot', this.setManifestData(session, data, this.version!));
    this.uncertain = undefined;
    const old = this.manifest;
    this.version = stat.version;
    this.manifest = manifest;
    this.snapshotBytes = bytes.length;
    this.journalBytes = 0;
    this.journalNodes = 0;
    if (migrating) this.log?.debug('format-1 state replaced by a manifest');
    await this.removeOld(session, old, manifest).catch((err: unknown) => {
      this.log?.warn({ err }, `could not delete old state nodes under ${this.node} (they are ignored): ${(err as Error).message}`);
    });
    if (rest.length) for (const chunk of chunksOf(rest, PART_BYTES)) await this.append(session, chunk);
  }

  /** Deletes the parts of other snapshots and the journal nodes the manifest no longer reads (fenced, in batches). */
  private async removeOld(session: ZkSession, _old: Manifest | undefined, now: Manifest): Promise<void> {
    const fence = this.options.election?.memberPath;
    const children = await this.timed('listing the state nodes', session.getChildren(this.node));
    const doomed = children.filter((name) => {
      const seq = journalSeq(name);
      if (seq !== undefined) return seq < now.journalFrom;
      const snapshot = partSnapshot(name);
      return snapshot !== undefined && snapshot !== now.snapshot;
    });
    for (let i = 0; i < doomed.length; i += 100) {
      const batch = doomed.slice(i, i + 100);
      await this.timed('deleting old state nodes', session.multi((tx) => {
        if (fence) tx.check(fence, -1);
        tx.check(this.node, this.version!);
        for (const name of batch) tx.remove(joinZkPath(this.node, name), -1);
        return tx;
      }));
    }
  }

  /** setData of the manifest, version-checked and fenced with the election. */
  private async setManifestData(session: ZkSession, data: Buffer, version: number): Promise<{ version: number }> {
    const fence = this.options.election?.memberPath;
    return fence ? session.setDataFenced(this.node, data, version, fence) : session.setData(this.node, data, version);
  }

  /** After a manifest write of unknown outcome: did it land (adopt its version) or not (keep ours)? */
  private async settleUncertain(session: ZkSession): Promise<void> {
    const attempted = this.uncertain;
    if (attempted === undefined) return;
    const got = await this.timed('reading the state', session.getData(this.node));
    if (got.stat.version === this.version! + 1 && got.data?.equals(attempted)) {
      this.version = got.stat.version;
      this.manifest = JSON.parse(attempted.toString('utf8')) as Manifest;
      this.journalBytes = 0;
      this.journalNodes = 0;
    } else if (got.stat.version !== this.version) {
      throw Object.assign(new Error('changed'), { code: ZkCode.BAD_VERSION });
    }
    this.uncertain = undefined;
  }

  /** Maps a failed write to STATE_STALE (someone else owns the state now) or STATE_IO. */
  private writeError(err: unknown): StateStoreError {
    if (err instanceof StateStoreError) return err;
    const code = zkErrorCode(err);
    const step = (err as { step?: number }).step;
    const fenced = this.options.election?.memberPath !== undefined;
    if (fenced && step === 0 && code === ZkCode.NO_NODE) return this.stale('our leader-election node is gone (session expired or resigned)');
    if (code === ZkCode.BAD_VERSION) return this.stale('another instance wrote the state since this one read it');
    if (code === ZkCode.NODE_EXISTS) return this.stale('another instance created the state since this one looked');
    if (code === ZkCode.NO_NODE) return this.stale('the state node was deleted since this one read it');
    if (code === ZkCode.SESSION_EXPIRED && this.options.election) return this.stale('the leader-election ZooKeeper session expired');
    return this.ioError('write', err);
  }

  private stale(why: string): StateStoreError {
    const e = new StateStoreError('STATE_STALE', `${this.description}: ${why}. This instance must stop acting as leader; the state was not written.`);
    this.blocked = e;
    this.log?.error(e.message);
    return e;
  }

  private ioError(op: string, err: unknown): StateStoreError {
    return new StateStoreError('STATE_IO', `cannot ${op} ${this.description}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function partName(snapshot: string, i: number): string {
  return `snap-${snapshot}-${i}`;
}

/** The snapshot a part node belongs to, or undefined for other nodes. */
function partSnapshot(name: string): string | undefined {
  const m = /^snap-(\d+-[0-9a-f]+)-\d+$/.exec(name);
  return m ? m[1] : undefined;
}

function journalSeq(name: string): number | undefined {
  const m = /^journal-(\d{10})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Groups buffers into chunks of at most `max` bytes without splitting one
 * (`split`: cut the bytes anywhere instead, for a snapshot's parts).
 */
function chunksOf(buffers: readonly Buffer[], max: number, split = false): Buffer[] {
  if (split) {
    const all = Buffer.concat(buffers);
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i += max) out.push(all.subarray(i, i + max));
    return out.length ? out : [Buffer.alloc(0)];
  }
  const out: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const b of buffers) {
    if (size + b.length > max && current.length) {
      out.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(b);
    size += b.length;
  }
  if (current.length) out.push(Buffer.concat(current));
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
