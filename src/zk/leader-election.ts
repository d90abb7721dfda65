/**
 * Scheduler high availability (`--ha` with a `zk://host:port/path` URL): the
 * ZooKeeper leader-election recipe, as Mesos masters contend
 * (src/master/contender/zookeeper.cpp, src/zookeeper/group.cpp).
 *
 * - Every instance creates an EPHEMERAL_SEQUENTIAL member node
 *   `<path>/member_<instanceId>_<seq>` whose data is a JSON MemberInfo
 *   (hostname, pid, started, ...). The instance id in the name finds our own
 *   node again when a create's answer is lost with the connection.
 * - The lowest sequence leads. The others watch only their predecessor
 *   (no herd effect); when it goes they look again.
 * - Leadership is lost, and `onLeadershipLost` listeners are told at once, when
 *   the session expires, when the connection stays lost until the session
 *   could have expired on the server (`disconnectGraceMs`, counted from the
 *   last byte heard from ZooKeeper), or when our node is deleted. The instance
 *   must stop acting as leader at once; it may call `waitForLeadership` again
 *   to rejoin (a new session and node).
 * - `resign()` deletes our node so a standby takes over at once (SIGTERM
 *   hand-over); `close()` ends the session.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { CreateMode, isZkError, ZkCode, ZkSession, type ZkSessionOptions } from './client.js';
import { Rerunner } from './rerunner.js';
import { joinZkPath, parseZkUrl, type ZkUrl } from './url.js';

/** What a member node says about its instance (JSON in the node). */
export interface MemberInfo {
  hostname: string;
  pid: number;
  /** ISO time the instance started. */
  started: string;
  /** Random id of this election participant (also part of the node name). */
  instanceId: string;
  /** Anything else worth showing, e.g. the status endpoint URL. */
  [key: string]: unknown;
}

/** One member as read from ZooKeeper, in election order (leader first). */
export interface ElectionMember {
  node: string;
  sequence: number;
  info: MemberInfo | undefined;
}

/** Why leadership ended without `resign()`/`close()`. */
export interface LeadershipLost {
  reason: 'session-expired' | 'connection-lost' | 'node-deleted';
  message: string;
}

export interface LeaderElectionOptions extends ZkSessionOptions {
  /** Extra fields for this instance's MemberInfo (hostname, pid, started and instanceId are filled in). */
  member?: Record<string, unknown>;
  /**
   * How long a leader that lost its ZooKeeper connection keeps leading,
   * counted from the last byte heard from ZooKeeper. Default: the granted
   * session timeout (after which the server may have expired the session
   * and another member may lead).
   */
  disconnectGraceMs?: number;
  logger?: Logger;
}

/** Prefix of member node names. */
export const MEMBER_PREFIX = 'member_';

/** The sequence of a member node name `member_<id>_<seq>`, or undefined for other children. */
export function memberSequence(name: string): number | undefined {
  if (!name.startsWith(MEMBER_PREFIX)) return undefined;
  const m = /_(\d{10,})$/.exec(name);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** idle: not in the election; joining: connecting/creating our node; member: standing by; leader; closed. */
export type ElectionPhase = 'idle' | 'joining' | 'member' | 'leader' | 'closed';
type Phase = ElectionPhase;

/**
 * One instance's participation in the election under the URL's path.
 *
 *   const election = new LeaderElection('zk://zk1:2181/mesos-http-scheduler/etl', { logger });
 *   election.onLeadershipLost(({ reason }) => stopActingAsLeaderNow(reason));
 *   await election.waitForLeadership(signal);   // standby until elected
 *   ... act as leader ...
 *   await election.resign();                     // on SIGTERM, after stopping
 */
export class LeaderElection {
  readonly description: string;
  readonly url: ZkUrl;
  readonly info: MemberInfo;
  private readonly options: LeaderElectionOptions;
  private readonly log: Logger | undefined;
  private phase: Phase = 'idle';
  private currentSession: ZkSession | undefined;
  private node: string | undefined;
  private joining: Promise<void> | undefined;
  private readonly checker = new Rerunner(
    () => this.checkOnce(),
    () => this.phase === 'member' || this.phase === 'leader',
    (err) => {
      // Connection loss: 'connected' checks again; expiry: handled by 'expired'.
      this.log?.debug({ err: errText(err) }, 'election check failed; will retry after reconnecting');
    },
  );
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly phaseListeners = new Set<() => void>();
  private readonly lostListeners = new Set<(lost: LeadershipLost) => void>();

  /** `url`: a `zk://` URL string (parsed with parseZkUrl, which throws ZkUrlError) or a parsed ZkUrl. */
  constructor(url: string | ZkUrl, options: LeaderElectionOptions = {}) {
    this.url = typeof url === 'string' ? parseZkUrl(url) : url;
    this.options = options;
    this.description = this.url.redacted;
    this.info = {
      hostname: os.hostname(),
      pid: process.pid,
      started: new Date().toISOString(),
      ...options.member,
      instanceId: randomUUID().replace(/-/g, '').slice(0, 16),
    };
    this.log = options.logger?.child({ component: 'zk-election', zk: this.url.redacted });
  }

  /** Where this instance is in the election (for status pages and tests). */
  get state(): ElectionPhase {
    return this.phase;
  }

  /** True while this instance leads. */
  get isLeader(): boolean {
    return this.phase === 'leader';
  }

  /** Our member node's path while we are a member (for fencing writes, see ZkStateStore). */
  get memberPath(): string | undefined {
    return this.node;
  }

  /** The ZooKeeper session in use (shared with ZkStateStore to fence its writes), if joined. */
  get session(): ZkSession | undefined {
    return this.currentSession;
  }

  /**
   * Joins the election if not a member yet and resolves once this instance
   * leads. Rejects with the signal's reason on abort (the membership stays:
   * call again to keep waiting, or resign/close). Waits while ZooKeeper is
   * unreachable.
   */
  async waitForLeadership(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.phase === 'closed') throw new Error(`leader election at ${this.description} is closed`);
      signal.throwIfAborted();
      if (this.phase === 'leader') return;
      if (this.phase === 'idle') {
        try {
          await this.join(signal);
        } catch (err) {
          this.joinFailed(err);
          signal.throwIfAborted();
          if (!isTransient(err)) {
            throw new Error(`cannot join the leader election at ${this.description}: ${errText(err)}`, { cause: err });
          }
          await sleep(500, signal);
        }
        continue;
      }
      await this.nextPhaseChange(signal);
    }
  }

  /** Registers a listener for involuntary loss of leadership; returns a function that removes it. */
  onLeadershipLost(listener: (lost: LeadershipLost) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** The current members in election order (leader first), with their MemberInfo. */
  async members(): Promise<ElectionMember[]> {
    const session = this.currentSession ?? new ZkSession(this.url, this.options);
    try {
      let children: string[];
      try {
        children = await session.getChildren(this.url.path);
      } catch (err) {
        if (isZkError(err, ZkCode.NO_NODE)) return [];
        throw err;
      }
      const out: ElectionMember[] = [];
      for (const { name, sequence } of sortMembers(children)) {
        const node = joinZkPath(this.url.path, name);
        try {
          const { data } = await session.getData(node);
          out.push({ node, sequence, info: parseMember(data) });
        } catch (err) {
          if (!isZkError(err, ZkCode.NO_NODE)) throw err;
        }
      }
      return out;
    } finally {
      if (session !== this.currentSession) await session.close();
    }
  }

  /**
   * Gives up membership (and leadership): deletes our node so the next member
   * leads at once, and ends the session. Listeners of onLeadershipLost are not
   * called. `waitForLeadership` may be called again afterwards to rejoin.
   */
  async resign(): Promise<void> {
    if (this.phase === 'closed') return;
    const session = this.currentSession;
    const node = this.node;
    const wasLeader = this.phase === 'leader';
    this.reset('idle');
    if (session && node) {
      try {
        await session.remove(node);
      } catch (err) {
        if (!isZkError(err, ZkCode.NO_NODE)) this.log?.warn({ err: errText(err), node }, 'could not delete our member node; it goes when the session ends');
      }
    }
    await session?.close();
    this.log?.info({ node, wasLeader }, 'resigned from the election');
  }

  /** Leaves the election for good (the session ends, our node goes with it). */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    const session = this.currentSession;
    this.reset('closed');
    await session?.close();
  }

  // -------------------------------------------------------------------------

  private join(signal: AbortSignal): Promise<void> {
    if (this.joining) return this.joining;
    this.setPhase('joining');
    const session = new ZkSession(this.url, this.options);
    this.currentSession = session;
    this.wire(session);
    const run = async (): Promise<void> => {
      await session.connected(signal);
      await session.mkdirp(this.url.path);
      const node = await this.createMemberNode(session);
      if (this.currentSession !== session) return; // reset while creating
      this.node = node;
      this.setPhase('member');
      this.log?.info({ node, member: this.info }, 'joined the election');
      this.check();
    };
    this.joining = run().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  private joinFailed(err: unknown): void {
    if (this.phase !== 'joining') return;
    this.log?.warn({ err: errText(err) }, 'could not join the election');
    const session = this.currentSession;
    this.reset('idle');
    void session?.close();
  }

  /** Creates our member node; after a lost answer, finds it by the instance id in its name. */
  private async createMemberNode(session: ZkSession): Promise<string> {
    const prefix = `${MEMBER_PREFIX}${this.info.instanceId}_`;
    const data = Buffer.from(JSON.stringify(this.info));
    for (;;) {
      try {
        return await session.create(joinZkPath(this.url.path, prefix), data, CreateMode.EPHEMERAL_SEQUENTIAL);
      } catch (err) {
        if (!isZkError(err, ZkCode.CONNECTION_LOSS)) throw err;
        await session.connected();
        const mine = (await session.getChildren(this.url.path)).find((c) => c.startsWith(prefix));
        if (mine) return joinZkPath(this.url.path, mine);
      }
    }
  }

  private wire(session: ZkSession): void {
    const current = (): boolean => this.currentSession === session && this.phase !== 'closed';
    session.client.on('disconnected', () => {
      if (!current()) return;
      this.log?.warn({ leader: this.isLeader }, 'disconnected from ZooKeeper');
      if (this.isLeader) this.startGraceTimer(session);
    });
    session.client.on('connected', () => {
      if (!current()) return;
      this.stopGraceTimer();
      if (this.phase === 'member' || this.phase === 'leader') this.check();
    });
    session.client.on('expired', () => {
      if (!current()) return;
      this.endMembership(session, { reason: 'session-expired', message: `the ZooKeeper session to ${this.description} expired` });
    });
  }

  private startGraceTimer(session: ZkSession): void {
    if (this.graceTimer) return;
    const grace = this.options.disconnectGraceMs ?? session.sessionTimeoutMs;
    const since = session.lastHeardAt || Date.now();
    const wait = Math.max(0, since + grace - Date.now());
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.currentSession !== session || session.isConnected) return;
      this.endMembership(session, {
        reason: 'connection-lost',
        message: `no answer from ZooKeeper (${this.description}) for ${grace} ms: the session may have expired and another instance may lead`,
      });
    }, wait);
  }

  private stopGraceTimer(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** Our membership is gone (expiry, lost connection, deleted node): tell listeners if we led, then rejoin if anyone waits. */
  private endMembership(session: ZkSession, lost: LeadershipLost): void {
    const wasLeader = this.phase === 'leader';
    this.reset('idle');
    void session.close();
    if (wasLeader) {
      this.log?.error({ reason: lost.reason }, `leadership lost: ${lost.message}`);
      for (const l of [...this.lostListeners]) {
        try {
          l(lost);
        } catch (err) {
          this.log?.error({ err: errText(err) }, 'onLeadershipLost listener threw');
        }
      }
    } else {
      this.log?.warn({ reason: lost.reason }, `membership ended: ${lost.message}`);
    }
  }

  /** Looks at the members: lead if first, else watch the predecessor. Serialized. */
  private check(): void {
    this.checker.request();
  }

  private async checkOnce(): Promise<void> {
    const session = this.currentSession;
    const node = this.node;
    if (!session || !node || (this.phase !== 'member' && this.phase !== 'leader')) return;
    const watcher = (): void => {
      if (this.currentSession === session && this.node === node) this.check();
    };
    const members = sortMembers(await session.getChildren(this.url.path));
    if (this.currentSession !== session || this.node !== node) return;
    const ownName = node.slice(node.lastIndexOf('/') + 1);
    const index = members.findIndex((m) => m.name === ownName);
    if (index < 0) {
      this.endMembership(session, { reason: 'node-deleted', message: `our member node ${node} was deleted` });
      return;
    }
    if (index === 0) {
      // Watch our own node: if someone deletes it we must stop leading.
      const stat = await session.exists(node, watcher);
      if (!stat) {
        this.checker.request();
        return;
      }
      if (this.phase !== 'leader') {
        this.setPhase('leader');
        this.log?.info({ node }, 'elected leader');
      }
      return;
    }
    const predecessor = joinZkPath(this.url.path, members[index - 1]?.name ?? '');
    if (this.phase === 'leader') {
      // A lower node appeared while we led: cannot happen with sequential nodes; be safe.
      this.endMembership(session, { reason: 'node-deleted', message: `a member (${predecessor}) ranks before us` });
      return;
    }
    const stat = await session.exists(predecessor, watcher);
    if (!stat) {
      this.checker.request(); // gone between list and watch
      return;
    }
    this.log?.debug({ node, predecessor }, 'standing by');
  }

  private reset(phase: 'idle' | 'closed'): void {
    this.stopGraceTimer();
    this.currentSession = undefined;
    this.node = undefined;
    this.setPhase(phase);
  }

  private setPhase(phase: Phase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    for (const l of [...this.phaseListeners]) l();
  }

  private nextPhaseChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.phaseListeners.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.phaseListeners.delete(done);
        reject(signal.reason);
      };
      this.phaseListeners.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function sortMembers(children: readonly string[]): { name: string; sequence: number }[] {
  const out: { name: string; sequence: number }[] = [];
  for (const name of children) {
    const sequence = memberSequence(name);
    if (sequence !== undefined) out.push({ name, sequence });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

function parseMember(data: Buffer | undefined): MemberInfo | undefined {
  try {
    const v: unknown = JSON.parse(data?.toString('utf8') ?? '');
    return v && typeof v === 'object' ? (v as MemberInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** Connection trouble (worth another try) rather than a refusal such as NO_AUTH. */
function isTransient(err: unknown): boolean {
  return isZkError(err, ZkCode.CONNECTION_LOSS) || isZkError(err, ZkCode.SESSION_EXPIRED) || /expired|closed/.test(errText(err));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
