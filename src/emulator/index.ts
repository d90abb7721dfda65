/**
 * The embedded Mesos-compatible cluster: one or more masters on consecutive
 * loopback ports (one leading) sharing one set of records, and agents that run
 * tasks as real local processes or simulate them.
 *
 *   const cluster = await startCluster({ agents: 2, allocationIntervalMs: 50 });
 *   // point a scheduler at cluster.leaderUrl(); inject faults via cluster.faults
 *   await cluster.stop();
 *
 * Events: 'leaderChanged' (index | undefined, MasterInfo | undefined) and
 * 'call' (a ReceivedCall record). Master indexes are 0-based.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Attribute, Call, MasterInfo, TaskInfo, TaskState } from '../mesos/types.js';
import { handleAdmin } from './admin.js';
import { parseAttributes } from './attributes.js';
import { ProcessRunner } from './executors/process-runner.js';
import { SimulatedRunner } from './executors/simulated-runner.js';
import type { TaskRunner } from './executors/types.js';
import { createMasterServer, type MasterControl, type ReceivedCall, type ResponseRecord } from './http-server.js';
import { LatencyRecorder } from './latency-recorder.js';
import { MasterCore } from './master.js';
import { frameworkSuppressed, type FrameworkRecord } from './model.js';
import type { SchedulerStream } from './scheduler-stream.js';

export interface ClusterOptions {
  /** Number of masters, on consecutive ports; the first leads. Default 1. */
  masters?: number;
  /** Number of agents. Default 1. */
  agents?: number;
  /** CPUs offered per agent. Default: os.availableParallelism(). */
  cpusPerAgent?: number;
  /** Memory offered per agent in MB. Default: total memory in MB. */
  memPerAgent?: number;
  /** Disk offered per agent in MB. Default 10240. */
  diskPerAgent?: number;
  /**
   * Agent attributes in the agent's `--attributes` syntax (`rack:r1;zone:eu-1`):
   * agent i gets entry i modulo the list's length (one entry: every agent).
   */
  agentAttributes?: readonly string[];
  /**
   * Agent hostnames (offers' `hostname`), agent i gets entry i modulo the
   * list's length. Default: the masters' advertised host for every agent.
   */
  agentHostnames?: readonly string[];
  /** Listen address and advertised hostname. Default '127.0.0.1'. */
  host?: string;
  /** 0 (default) = an ephemeral port per master; N = ports N, N+1, ... */
  port?: number;
  /** Default 15, as real masters. */
  heartbeatIntervalSeconds?: number;
  /**
   * A master that loses leadership exits and is restarted, as a real one does
   * ("Conceded leadership ... committing suicide"): its connections are cut
   * (reset, no last chunk), it refuses connections for this long, then answers
   * as a non-leader (307 to the leader, 503 without one). Default 2000.
   */
  masterRestartMs?: number;
  /** Default 1000 (tests use ~20-50). */
  allocationIntervalMs?: number;
  /** Rescind outstanding offers after this long (the master's --offer_timeout); default never. */
  offerTimeoutMs?: number;
  /** First status update resend delay, default 10000, doubling up to 10 min. */
  agentRetryMs?: number;
  /**
   * After a leader change, agents re-register with the new leader after this
   * long (default 0 = at once). Until then the new leader does not know their
   * tasks: no offers from them, no answer to reconciliation about them.
   */
  agentReregisterDelayMs?: number;
  /** 'process' (default) runs `sh -c`; 'simulated' ends tasks after simulatedTaskMs. */
  mode?: 'process' | 'simulated';
  simulatedTaskMs?: number;
  simulatedExit?: (task: TaskInfo) => 'TASK_FINISHED' | 'TASK_FAILED';
  /** Sandbox root; default a temp dir removed on stop. */
  workDir?: string;
  /** Tasks with a container image: run on the host with a warning (default) or refuse (TASK_FAILED). */
  containerImages?: 'host' | 'refuse';
  /** Enables HTTP basic authentication of schedulers. */
  credentials?: { principal: string; secret: string }[];
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  /**
   * Keep about this many of the latest calls in `received` and responses in
   * `responses`: when a list holds this many, its older half is dropped.
   * Default: all of them (tests read them); a long-lived master (the
   * `local-master` command, `--master local`) sets a bound, as 100,000 tasks'
   * calls would otherwise stay in its heap.
   */
  keepCalls?: number;
}

/** The default of `keepCalls` for long-lived masters. */
export const KEEP_CALLS_LONG_LIVED = 10_000;

/** Appends `item`; a list that holds `cap` items first loses its older half (amortised O(1) per item). */
function pushBounded<T>(list: T[], item: T, cap: number | undefined): void {
  if (cap !== undefined && list.length >= cap) list.splice(0, list.length - Math.floor(cap / 2));
  list.push(item);
}

export interface ClusterFramework {
  id: string; name: string; connected: boolean; active: boolean; removed: boolean; suppressed: boolean; outstandingOffers: number;
}

export interface ClusterTask {
  taskId: string; frameworkId: string; agentId: string; state: TaskState; launchedAt: number; endedAt?: number; sandbox?: string;
}

export interface ClusterAgent {
  id: string; hostname: string; registered: boolean;
  attributes: Attribute[];
  /** After a leader change, until it re-registers with the new leader. */
  recovering: boolean;
}

export interface ClusterFaults {
  /** undefined = no leader (masters answer 503). */
  electLeader(index: number | undefined): void;
  dropConnections(): void;
  /** Ends every subscription stream cleanly (last chunk), without a leader change. */
  endStreams(): void;
  stopHeartbeats(): void;
  resumeHeartbeats(): void;
  sendMalformedRecord(): void;
  unavailableFor(ms: number): void;
  delayResponses(ms: number): void;
  loseAgent(agentId: string): void;
  rescindOffers(): void;
  restartAgent(agentId: string): void;
}

export interface Cluster extends EventEmitter {
  readonly masters: ReadonlyArray<{ index: number; url: string; hostPort: string; id: string }>;
  leaderIndex(): number | undefined;
  leaderUrl(): string | undefined;
  masterInfo(index: number): MasterInfo;
  /** Every scheduler call a master accepted (after validation), in order (the latest ones with `keepCalls`). */
  readonly received: ReadonlyArray<{ at: number; master: number; contentType: string; call: Call }>;
  /** Every HTTP response the masters gave on /api/v1/scheduler (the latest ones with `keepCalls`). */
  readonly responses: ReadonlyArray<{ at: number; master: number; method: string; status: number; callType?: string }>;
  frameworks(): ClusterFramework[];
  tasks(): ClusterTask[];
  agents(): ClusterAgent[];
  readonly faults: ClusterFaults;
  stop(): Promise<void>;
}

/** The Mesos version the emulated masters claim; they send only enum values of its v1 protos. */
export const CLAIMED_MESOS_VERSION = '1.11.0';

/** MasterInfo.ip: the IPv4 address in network byte order read as a host-order uint32 (MESOS-1201). */
function packIp(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return packIp('127.0.0.1');
  return ((parts[3]! << 24) >>> 0) + (parts[2]! << 16) + (parts[1]! << 8) + parts[0]!;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

class ClusterImpl extends EventEmitter implements Cluster {
  masters: Array<{ index: number; url: string; hostPort: string; id: string }> = [];
  readonly received: ReceivedCall[] = [];
  readonly responses: ResponseRecord[] = [];
  readonly faults: ClusterFaults;
  readonly core: MasterCore;
  /** Offer holds and update-to-ACK times, for the bench (GET /emulator/latency). */
  readonly recorder: LatencyRecorder;
  private readonly infos: MasterInfo[] = [];
  private readonly servers: http.Server[] = [];
  private readonly electedAt: Array<number | undefined> = [];
  private leader: number | undefined = 0;
  private readonly streams = new Set<SchedulerStream>();
  private unavailableUntil = 0;
  private delayMs = 0;
  private heartbeatsPaused = false;
  private stopped: Promise<void> | undefined;
  /** Masters that lost leadership and are "restarting" (not listening), by index. */
  private readonly restarting = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly opts: Required<Pick<ClusterOptions, 'host' | 'heartbeatIntervalSeconds'>> & ClusterOptions,
    private readonly logger: Logger,
    runner: TaskRunner,
    private readonly tempWorkDir: string | undefined,
  ) {
    super();
    this.core = new MasterCore({
      allocationIntervalMs: opts.allocationIntervalMs ?? 1000,
      offerTimeoutMs: opts.offerTimeoutMs,
      agentRetryMs: opts.agentRetryMs ?? 10_000,
      ...(opts.agentReregisterDelayMs !== undefined ? { agentReregisterDelayMs: opts.agentReregisterDelayMs } : {}),
      heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds,
      runner,
      logger,
      leader: () => (this.leader === undefined ? undefined : this.infos[this.leader]),
      onEventSent: (event) => this.recorder.eventSent(event),
    });
    this.recorder = new LatencyRecorder(this.core);
    const core = this.core;
    this.faults = {
      electLeader: (index) => this.electLeader(index),
      dropConnections: () => {
        for (const s of [...this.streams]) s.destroy();
        for (const server of this.servers) server.closeIdleConnections();
      },
      endStreams: () => { for (const s of [...this.streams]) s.close(); },
      stopHeartbeats: () => { this.heartbeatsPaused = true; },
      resumeHeartbeats: () => { this.heartbeatsPaused = false; },
      sendMalformedRecord: () => { for (const s of this.streams) s.sendMalformedRecord(); },
      unavailableFor: (ms) => { this.unavailableUntil = Date.now() + ms; },
      delayResponses: (ms) => { this.delayMs = ms; },
      loseAgent: (agentId) => core.loseAgent(agentId),
      rescindOffers: () => { for (const id of [...core.offers.keys()]) core.allocator.rescind(id); },
      restartAgent: (agentId) => core.restartAgent(agentId),
    };
  }

  async listenAll(count: number, tls: ClusterOptions['tls']): Promise<void> {
    const credentials = this.opts.credentials ? new Map(this.opts.credentials.map((c) => [c.principal, c.secret])) : undefined;
    const control = (): MasterControl => ({
      core: this.core,
      logger: this.logger,
      heartbeatIntervalMs: this.opts.heartbeatIntervalSeconds * 1000,
      credentials,
      isLeader: (i) => this.leader === i,
      leaderInfo: () => (this.leader === undefined ? undefined : this.infos[this.leader]),
      masterInfo: (i) => this.masterInfo(i),
      electedAt: (i) => (this.leader === i ? this.electedAt[i] : undefined),
      unavailableUntil: () => this.unavailableUntil,
      responseDelayMs: () => this.delayMs,
      heartbeatsPaused: () => this.heartbeatsPaused,
      streams: this.streams,
      recordCall: (rec) => { pushBounded(this.received, rec, this.opts.keepCalls); this.recorder.callAccepted(rec.call, rec.remotePort); this.emit('call', rec); },
      recordResponse: (rec) => { pushBounded(this.responses, rec, this.opts.keepCalls); },
      admin: (req, res, p, body) => handleAdmin(this, req, res, p, body),
    });
    const scheme = tls ? 'https' : 'http';
    const host = this.opts.host;
    const ipForInfo = /^\d+\.\d+\.\d+\.\d+$/.test(host) && host !== '0.0.0.0' ? host : '127.0.0.1';
    const advertised = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    for (let i = 0; i < count; i++) {
      const server = createMasterServer(i, control(), tls);
      this.servers.push(server);
      const port = await listen(server, this.opts.port ? this.opts.port + i : 0, host);
      const id = randomUUID();
      this.infos.push({
        id, ip: packIp(ipForInfo), port, pid: `master@${ipForInfo}:${port}`, hostname: advertised, version: CLAIMED_MESOS_VERSION,
        address: { hostname: advertised, ip: ipForInfo, port },
        // A 1.11 master has AGENT_UPDATE, AGENT_DRAINING and QUOTA_V2; the v1 proto has no
        // QUOTA_V2, so evolving MasterInfo to v1 leaves that capability without a type
        // (`{}` in JSON). Only values of the claimed version's v1 proto are sent.
        capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, {}],
      });
      this.masters.push({ index: i, url: `${scheme}://${advertised}:${port}`, hostPort: `${advertised}:${port}`, id });
    }
    this.electedAt[0] = Date.now();
  }

  electLeader(index: number | undefined): void {
    if (index !== undefined && (!Number.isInteger(index) || index < 0 || index >= this.infos.length)) {
      throw new Error(`no master with index ${index}; indexes are 0..${this.infos.length - 1}`);
    }
    if (index === this.leader) return;
    const previous = this.leader;
    this.leader = index;
    if (index !== undefined) this.electedAt[index] = Date.now();
    this.core.leaderChanged();
    if (previous !== undefined) this.restartMaster(previous);
    this.emit('leaderChanged', index, index === undefined ? undefined : this.infos[index]);
  }

  /**
   * The master that lost leadership exits: every connection to it is cut
   * (subscription streams reset mid-body), its port refuses connections for
   * `masterRestartMs`, then it listens again as a non-leader.
   */
  private restartMaster(index: number): void {
    const server = this.servers[index];
    const port = this.infos[index]?.port;
    if (!server || port === undefined || this.restarting.has(index)) return;
    for (const s of [...this.streams]) if (s.master === index) s.destroy();
    server.close();
    server.closeAllConnections();
    this.logger.info({ master: index, restartMs: this.restartMs }, 'master lost leadership: exiting and restarting');
    const relisten = (attempt: number): void => {
      const timer = setTimeout(() => {
        const failed = (err: Error): void => {
          if (this.stopped) return;
          this.logger.warn({ err, master: index, port }, 'restarted master cannot listen yet; retrying');
          if (attempt < 50) relisten(attempt + 1);
          else this.restarting.delete(index);
        };
        server.once('error', failed);
        server.listen(port, this.opts.host, () => {
          server.off('error', failed);
          this.restarting.delete(index);
        });
      }, attempt === 0 ? this.restartMs : 100);
      timer.unref();
      this.restarting.set(index, timer);
    };
    relisten(0);
  }

  private get restartMs(): number {
    return this.opts.masterRestartMs ?? 2000;
  }

  leaderIndex(): number | undefined {
    return this.leader;
  }

  leaderUrl(): string | undefined {
    return this.leader === undefined ? undefined : this.masters[this.leader]?.url;
  }

  masterInfo(index: number): MasterInfo {
    const info = this.infos[index];
    if (!info) throw new Error(`no master with index ${index}`);
    return info;
  }

  frameworks(): ClusterFramework[] {
    const view = (fw: FrameworkRecord): ClusterFramework => ({
      id: fw.id, name: fw.info.name, connected: fw.connected, active: fw.active, removed: fw.removed,
      suppressed: frameworkSuppressed(fw), outstandingOffers: fw.offers.size,
    });
    return [...this.core.frameworks.values(), ...this.core.removedFrameworks.values()].map(view);
  }

  tasks(): ClusterTask[] {
    return [...this.core.allTasks.values()].map((t) => ({
      taskId: t.taskId, frameworkId: t.frameworkId, agentId: t.agentId, state: t.state, launchedAt: t.launchedAt,
      ...(t.endedAt !== undefined ? { endedAt: t.endedAt } : {}),
      ...(t.sandbox !== undefined ? { sandbox: t.sandbox } : {}),
    }));
  }

  agents(): ClusterAgent[] {
    return [...this.core.agents.values()].map((a) => ({ id: a.id, hostname: a.hostname, registered: a.registered, recovering: a.recovering, attributes: a.attributes }));
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const t of this.restarting.values()) clearTimeout(t);
      this.restarting.clear();
      await this.core.stop();
      await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
      if (this.tempWorkDir) rmSync(this.tempWorkDir, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const masters = opts.masters ?? 1;
  const agents = opts.agents ?? 1;
  if (!Number.isInteger(masters) || masters < 1) throw new Error(`masters must be a positive integer, got ${masters}`);
  if (!Number.isInteger(agents) || agents < 0) throw new Error(`agents must be a non-negative integer, got ${agents}`);
  // Bad attributes refuse to start, as the agent does.
  const attributes = (opts.agentAttributes ?? []).map((spec) => parseAttributes(spec));
  for (const h of opts.agentHostnames ?? []) if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(h)) throw new Error(`invalid agent hostname '${h}'`);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const tempWorkDir = opts.workDir ? undefined : mkdtempSync(path.join(os.tmpdir(), 'mesos-emulator-'));
  const workDir = opts.workDir ?? tempWorkDir!;
  // Like an agent's work dir (0755): a task run as another user reaches its persistent volumes through it.
  if (tempWorkDir) chmodSync(tempWorkDir, 0o755);
  const runner: TaskRunner = opts.mode === 'simulated'
    ? new SimulatedRunner({ durationMs: opts.simulatedTaskMs ?? 1000, ...(opts.simulatedExit ? { exit: opts.simulatedExit } : {}) })
    : new ProcessRunner({ workDir, containerImages: opts.containerImages ?? 'host', logger });
  const cluster = new ClusterImpl({ ...opts, host: opts.host ?? '127.0.0.1', heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds ?? 15 }, logger, runner, tempWorkDir);
  try {
    await cluster.listenAll(masters, opts.tls);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const cpus = opts.cpusPerAgent ?? os.availableParallelism();
  const mem = opts.memPerAgent ?? Math.floor(os.totalmem() / (1024 * 1024));
  const disk = opts.diskPerAgent ?? 10240;
  const hostname = cluster.masters[0]!.hostPort.split(':')[0]!;
  for (let i = 0; i < agents; i++) {
    const at = <T>(list: readonly T[] | undefined): T | undefined => (list && list.length > 0 ? list[i % list.length] : undefined);
    cluster.core.addAgent(at(opts.agentHostnames) ?? hostname, { cpus, mem, disk, ports: [{ begin: 31000, end: 32000 }] }, attributes[i % Math.max(1, attributes.length)] ?? []);
  }
  return cluster;
}
