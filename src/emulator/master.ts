/**
 * The leading master's logic (src/master/master.cpp, reduced): framework
 * subscription and failover, the calls of the scheduler API, status update
 * forwarding and acknowledgement, reconciliation, agent loss and restart.
 * HTTP concerns (status codes, headers, auth, leader redirect) live in
 * http-server.ts; offers and filters in allocator.ts.
 *
 * One MasterCore is shared by all emulated masters of a cluster: the records
 * stand for what a newly elected leader recovers (registered frameworks from
 * the registry, running tasks from re-registering agents). `leaderChanged()`
 * applies what a scheduler observes of a leader change.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Attribute, Call, Event, FrameworkInfo, MasterInfo, Operation, TaskInfo, TaskStatus } from '../mesos/types.js';
import { Agent, type AgentUplink } from './agent.js';
import { Allocator } from './allocator.js';
import type { TaskRunner } from './executors/types.js';
import { type AgentRecord, type ExecutorRecord, type FrameworkRecord, type OfferRecord, type TaskRecord, MAX_COMPLETED_TASKS_PER_FRAMEWORK, charge, taskKey } from './model.js';
import { acceptError, describeAgent, dropEvent, notContained, refuseOperation, reserveConversion, unreserveConversion, type Conversion } from './operations.js';
import { OperationFeedback, type AgentStanding } from './operation-feedback.js';
import { createConversion, destroyConversion, growConversion, shrinkConversion } from './volume-operations.js';
import { addBags, bagToResources, cloneBag, containsBag, emptyBag, formatBag, subtractBags, type ResourceBag } from './resources.js';
import type { SchedulerStream } from './scheduler-stream.js';
import type { UpdateDelivery } from './status-update-manager.js';
import { isTerminalState } from './task-states.js';
import { validateOffers, validateTask, validateTaskGroup } from './task-validation.js';
import { frameworkUpdateError, rolesOfInfo, suppressedRolesError, validateFrameworkInfo } from './framework-validation.js';
import { masterStatus, reconcileStatuses } from './reconciliation.js';
import { setLongTimeout } from './long-timeout.js';

export interface MasterCoreOptions {
  allocationIntervalMs: number;
  offerTimeoutMs: number | undefined;
  agentRetryMs: number;
  heartbeatIntervalSeconds: number;
  /** After a leader change, agents re-register after this long (0 = at once). */
  agentReregisterDelayMs?: number;
  runner: TaskRunner;
  logger: Logger;
  /** The current leader's MasterInfo, or undefined when there is none. */
  leader: () => MasterInfo | undefined;
  /** Told of every event written to a framework's stream (latency-recorder.ts). */
  onEventSent?: (event: Event) => void;
}

export interface CallResult { status: number; body?: string }

/** Tasks of a LAUNCH or LAUNCH_GROUP operation. */
function launchedTasks(op: Operation): TaskInfo[] {
  if (op.type === 'LAUNCH') return op.launch?.task_infos ?? [];
  if (op.type === 'LAUNCH_GROUP') return op.launch_group?.task_group?.tasks ?? [];
  return [];
}

export class MasterCore extends EventEmitter {
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly removedFrameworks = new Map<string, FrameworkRecord>();
  /** Ids refused with "Framework has been removed" (in memory only: forgotten on leader change). */
  private readonly completedFrameworkIds = new Set<string>();
  readonly agents = new Map<string, AgentRecord>();
  readonly offers = new Map<string, OfferRecord>();
  /** Every task ever launched, for Cluster.tasks(). */
  readonly allTasks = new Map<string, TaskRecord>();
  readonly allocator: Allocator;
  private nextFrameworkId = 0;
  private nextOfferId = 0;
  private nextAgentId = 0;
  allocationPaused = false;
  readonly operationFeedback: OperationFeedback;

  constructor(private readonly opts: MasterCoreOptions) {
    super();
    this.operationFeedback = new OperationFeedback({
      send: (frameworkId, event) => {
        const fw = this.frameworks.get(frameworkId);
        if (fw?.connected) this.send(fw, event);
      },
      agentReachesMaster: (agentId) => {
        const agent = this.agents.get(agentId);
        return this.opts.leader() !== undefined && agent !== undefined && agent.registered && !agent.recovering;
      },
    }, opts.agentRetryMs);
    this.allocator = new Allocator({
      frameworks: this.frameworks,
      agents: this.agents,
      offers: this.offers,
      newOfferId: () => `${this.masterId()}-O${this.nextOfferId++}`,
      send: (fw, event) => this.send(fw, event),
      offerTimeoutMs: opts.offerTimeoutMs,
      allocationPaused: () => this.allocationPaused || this.opts.leader() === undefined,
    }, opts.allocationIntervalMs);
    this.allocator.start();
  }

  private masterId(): string {
    return this.opts.leader()?.id ?? 'no-leader';
  }

  // ---------------------------------------------------------------------------
  // Agents

  addAgent(hostname: string, total: ResourceBag, attributes: Attribute[] = []): AgentRecord {
    const id = `${this.masterId()}-S${this.nextAgentId++}`;
    const uplink: AgentUplink = {
      statusUpdate: (agentId, d) => this.statusUpdate(agentId, d),
      sandbox: (frameworkId, taskId, dir) => {
        const t = this.allTasks.get(taskKey(frameworkId, taskId));
        if (t) t.sandbox = dir;
      },
    };
    const runtime = new Agent(id, hostname, this.opts.runner, uplink, this.opts.agentRetryMs);
    const record: AgentRecord = {
      id, hostname, attributes, total: cloneBag(total), free: cloneBag(total), offers: new Set(), executors: new Map(), tasks: new Set(),
      registered: true, recovering: false, unreachableTime: undefined, runtime,
    };
    this.agents.set(id, record);
    this.allocator.invalidateTotals();
    this.allocator.agentChanged(record);
    return record;
  }

  /**
   * The agent stops answering and is marked unreachable (master.cpp
   * __removeSlave): its tasks become TASK_UNREACHABLE (partition-aware) or
   * TASK_LOST, its offers are rescinded, and connected frameworks get FAILURE.
   */
  loseAgent(agentId: string): void {
    const agent = this.requireAgent(agentId);
    if (!agent.registered) return;
    agent.runtime.lose();
    agent.registered = false;
    if (agent.recovering) { agent.recovering = false; this.recoveringAgents--; }
    agent.unreachableTime = { nanoseconds: Date.now() * 1e6 };
    for (const key of [...agent.tasks]) {
      const task = this.allTasks.get(key);
      const fw = task ? this.frameworks.get(task.frameworkId) : undefined;
      if (!task || !fw) continue;
      const state = fw.partitionAware ? 'TASK_UNREACHABLE' : 'TASK_LOST';
      const status = masterStatus(task.taskId, state, 'health check timed out', 'REASON_AGENT_REMOVED', agentId, agent.unreachableTime);
      // A task that already ended there (its terminal update not yet acknowledged)
      // keeps its terminal state, as in Mesos; the framework is still told.
      if (!isTerminalState(task.state)) {
        task.state = state;
        task.latestStatus = status;
      }
      task.statusUpdateState = undefined;
      task.endedAt ??= Date.now();
      if (!task.resourcesRecovered) charge(fw, task.resources, -1, task.role);
      task.resourcesRecovered = true;
      if (fw.partitionAware) fw.unreachableTaskIds.add(task.taskId);
      this.removeTask(fw, task);
      if (fw.connected) this.send(fw, { type: 'UPDATE', update: { status } });
    }
    agent.tasks.clear();
    for (const executor of agent.executors.values()) {
      const fw = this.frameworks.get(executor.frameworkId);
      if (fw) charge(fw, executor.resources, -1, executor.role);
    }
    agent.executors.clear();
    for (const offerId of [...agent.offers]) this.allocator.rescind(offerId);
    agent.free = emptyBag();
    this.allocator.invalidateTotals();
    for (const fw of this.frameworks.values()) {
      if (fw.connected) this.send(fw, { type: 'FAILURE', failure: { agent_id: { value: agentId } } });
    }
    this.emit('agentLost', agentId);
  }

  /**
   * The agent process restarts and re-registers. Its offers are rescinded
   * (the agent disconnected); checkpointing frameworks keep their tasks; an
   * unreachable agent comes back empty.
   */
  restartAgent(agentId: string): void {
    const agent = this.requireAgent(agentId);
    for (const offerId of [...agent.offers]) this.allocator.rescind(offerId);
    if (!agent.registered) {
      agent.registered = true;
      agent.unreachableTime = undefined;
      agent.free = cloneBag(agent.total);
      this.allocator.invalidateTotals();
      this.allocator.agentChanged(agent);
      return;
    }
    agent.runtime.restart(
      (fwId) => this.frameworks.get(fwId)?.info.checkpoint === true,
      (fwId) => this.frameworks.get(fwId)?.partitionAware === true,
    );
  }

  private requireAgent(agentId: string): AgentRecord {
    const agent = this.agents.get(agentId);
    if (!agent) throw new Error(`unknown agent '${agentId}'; known agents: ${[...this.agents.keys()].join(', ')}`);
    return agent;
  }

  // ---------------------------------------------------------------------------
  // Subscription

  subscribe(stream: SchedulerStream, sub: NonNullable<Call['subscribe']>): void {
    const info = sub.framework_info;
    const suppressed = sub.suppressed_roles ?? [];
    const error = validateFrameworkInfo(info, suppressed, (id) => this.completedFrameworkIds.has(id));
    if (error) {
      this.opts.logger.info({ name: info.name, error }, 'refusing subscription');
      stream.error(error);
      return;
    }
    let fw: FrameworkRecord;
    if (!info.id || info.id.value === '') {
      const id = `${this.masterId()}-${String(this.nextFrameworkId++).padStart(4, '0')}`;
      fw = this.newFramework(id, { ...info, id: { value: id } });
      this.frameworks.set(id, fw);
    } else {
      const existing = this.frameworks.get(info.id.value);
      // An id this master does not know (and has not removed) is recovered, as after a master failover.
      fw = existing ?? this.newFramework(info.id.value, info);
      if (!existing) this.frameworks.set(fw.id, fw);
      if (fw.stream && !fw.stream.closed) {
        const old = fw.stream;
        fw.stream = undefined;
        old.error('Framework failed over');
      }
      // Immutable fields keep their old values (validation::framework::preserveImmutableFields).
      const prev = fw.info;
      fw.info = { ...info, user: prev.user, ...(prev.principal !== undefined ? { principal: prev.principal } : {}), ...(prev.checkpoint !== undefined ? { checkpoint: prev.checkpoint } : {}) };
      this.applyInfo(fw);
      for (const offerId of [...fw.offers]) this.allocator.discard(offerId);
    }
    this.connect(fw, stream, suppressed);
    this.emit('frameworkSubscribed', fw.id);
  }

  private newFramework(id: string, info: FrameworkInfo): FrameworkRecord {
    const fw: FrameworkRecord = {
      id, info, roles: [], multiRole: false, partitionAware: false, killingState: false,
      stream: undefined, connected: false, active: false, removed: false, suppressedRoles: new Set(),
      offers: new Set(), tasks: new Map(), completedTasks: [], unreachableTaskIds: new Set(), filters: new Map(), candidates: new Set(),
      failoverTimer: undefined, registeredAt: Date.now(), allocated: { cpus: 0, mem: 0 }, allocatedByRole: new Map(),
    };
    this.applyInfo(fw);
    return fw;
  }

  private applyInfo(fw: FrameworkRecord): void {
    const caps = new Set((fw.info.capabilities ?? []).map((c) => c.type));
    fw.multiRole = caps.has('MULTI_ROLE');
    fw.partitionAware = caps.has('PARTITION_AWARE');
    fw.killingState = caps.has('TASK_KILLING_STATE');
    fw.roles = fw.multiRole ? [...(fw.info.roles ?? [])] : [fw.info.role ?? '*'];
  }

  private connect(fw: FrameworkRecord, stream: SchedulerStream, suppressedRoles: readonly string[]): void {
    fw.failoverTimer?.cancel();
    fw.failoverTimer = undefined;
    fw.stream = stream;
    fw.connected = true;
    fw.active = true;
    fw.suppressedRoles = new Set(suppressedRoles);
    stream.onClose(() => this.streamClosed(fw, stream));
    this.opts.logger.info({ frameworkId: fw.id, name: fw.info.name, roles: fw.roles }, 'framework subscribed');
    const leader = this.opts.leader();
    stream.send({
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: { value: fw.id },
        heartbeat_interval_seconds: this.opts.heartbeatIntervalSeconds,
        ...(leader ? { master_info: leader } : {}),
      },
    });
    stream.startHeartbeats();
    this.allocator.considerAllAgents(fw);
    // Agents re-send unacknowledged updates when the framework comes back (Slave::updateFramework).
    for (const agent of this.agents.values()) if (agent.registered && !agent.recovering) agent.runtime.resumeUpdates(fw.id);
  }

  /** The subscription connection ended (scheduler gone, network cut, fault). */
  private streamClosed(fw: FrameworkRecord, stream: SchedulerStream): void {
    if (fw.stream !== stream || fw.removed) return;
    fw.stream = undefined;
    fw.connected = false;
    fw.active = false;
    for (const offerId of [...fw.offers]) this.allocator.discard(offerId);
    if (this.leaderChanging) return; // a new leader does not carry the failover timer over (MESOS-4659)
    const seconds = fw.info.failover_timeout ?? 0;
    this.opts.logger.info({ frameworkId: fw.id, failoverTimeoutSeconds: seconds }, 'framework disconnected');
    fw.failoverTimer = setLongTimeout(() => this.removeFramework(fw, 'failover timeout'), seconds * 1000);
    this.emit('frameworkDisconnected', fw.id);
  }

  private leaderChanging = false;

  /**
   * Leadership moved (or was lost). The old leader exits, so its streams are
   * cut (reset, no last chunk); frameworks
   * are known but disconnected until they subscribe again, without a failover
   * timer (Mesos does not carry it over); offers are gone; the in-memory list
   * of removed frameworks is forgotten.
   */
  leaderChanged(): void {
    this.leaderChanging = true;
    try {
      for (const fw of this.frameworks.values()) {
        fw.failoverTimer?.cancel();
        fw.failoverTimer = undefined;
        fw.stream?.destroy();
        fw.stream = undefined;
        fw.connected = false;
        fw.active = false;
        for (const offerId of [...fw.offers]) this.allocator.discard(offerId);
        this.allocator.clearFilters(fw); // a new leader starts with a fresh allocator
      }
    } finally {
      this.leaderChanging = false;
    }
    this.completedFrameworkIds.clear();
    this.markAgentsRecovering();
  }

  private recoveringAgents = 0;
  private reregisterTimers: NodeJS.Timeout[] = [];

  /**
   * With `agentReregisterDelayMs` > 0, agents are unknown to a new leader
   * until they re-register (each after the delay); without a leader they wait.
   */
  private markAgentsRecovering(): void {
    for (const t of this.reregisterTimers) clearTimeout(t);
    this.reregisterTimers = [];
    const delay = this.opts.agentReregisterDelayMs ?? 0;
    const hasLeader = this.opts.leader() !== undefined;
    for (const agent of this.agents.values()) {
      if (!agent.registered) continue;
      if (delay <= 0 && hasLeader) { this.reregister(agent); continue; }
      if (!agent.recovering) { agent.recovering = true; this.recoveringAgents++; }
      if (!hasLeader) continue;
      const t = setTimeout(() => this.reregister(agent), delay);
      t.unref();
      this.reregisterTimers.push(t);
    }
  }

  private reregister(agent: AgentRecord): void {
    if (agent.recovering) { agent.recovering = false; this.recoveringAgents--; }
    this.allocator.agentChanged(agent);
    agent.runtime.resumeUpdates();
  }

  /** TEARDOWN or failover timeout: kill the tasks, forget the framework (master.cpp removeFramework). */
  removeFramework(fw: FrameworkRecord, why: string): void {
    if (fw.removed) return;
    this.opts.logger.info({ frameworkId: fw.id, why }, 'removing framework');
    fw.removed = true;
    fw.failoverTimer?.cancel();
    fw.stream?.close();
    fw.stream = undefined;
    fw.connected = false;
    fw.active = false;
    for (const offerId of [...fw.offers]) this.allocator.discard(offerId);
    this.allocator.clearFilters(fw);
    for (const agent of this.agents.values()) agent.runtime.shutdownFramework(fw.id);
    this.operationFeedback.removeFramework(fw.id);
    for (const task of [...fw.tasks.values()]) {
      if (!isTerminalState(task.state)) {
        task.state = 'TASK_KILLED';
        task.endedAt ??= Date.now();
        task.latestStatus = masterStatus(task.taskId, 'TASK_KILLED', `Framework ${fw.id} removed`, 'REASON_FRAMEWORK_REMOVED', task.agentId);
      }
      this.recoverTaskResources(task);
      this.removeTask(fw, task);
    }
    this.frameworks.delete(fw.id);
    this.removedFrameworks.set(fw.id, fw);
    this.completedFrameworkIds.add(fw.id);
    this.emit('frameworkRemoved', fw.id);
  }

  // ---------------------------------------------------------------------------
  // Calls

  /** Handles an accepted, validated non-SUBSCRIBE call of a connected framework. */
  handleCall(fw: FrameworkRecord, call: Call): CallResult {
    switch (call.type) {
      case 'TEARDOWN': this.removeFramework(fw, 'TEARDOWN'); break;
      case 'ACCEPT': this.accept(fw, call.accept!); break;
      case 'DECLINE':
        for (const { value } of call.decline?.offer_ids ?? []) this.declineOffer(fw, value, call.decline?.filters?.refuse_seconds);
        break;
      case 'REVIVE': this.revive(fw, call.revive?.roles ?? []); break;
      case 'SUPPRESS': {
        const roles = call.suppress?.roles?.length ? call.suppress.roles : fw.roles;
        for (const r of roles) if (fw.roles.includes(r)) fw.suppressedRoles.add(r);
        break;
      }
      case 'KILL': this.kill(fw, call.kill!); break;
      case 'ACKNOWLEDGE': this.acknowledge(fw, call.acknowledge!); break;
      case 'RECONCILE': this.reconcile(fw, call.reconcile?.tasks ?? []); break;
      case 'ACKNOWLEDGE_OPERATION_STATUS': this.operationFeedback.acknowledge(fw.id, call.acknowledge_operation_status!); break;
      case 'RECONCILE_OPERATIONS': this.operationFeedback.reconcile(fw.id, call.reconcile_operations!, (id) => this.agentStanding(id)); break;
      case 'UPDATE_FRAMEWORK': return this.updateFramework(fw, call.update_framework!);
      case 'UNKNOWN': return { status: 501, body: 'Unknown call type' };
      // SHUTDOWN (no custom executors), MESSAGE (the command executor ignores framework messages),
      // REQUEST (ignored by the allocator), inverse offers: accepted, no effect.
      default: break;
    }
    return { status: 202 };
  }

  /**
   * Master::updateFramework (master.cpp) with the allocator's updateFramework
   * (hierarchical.cpp), all or nothing: the FrameworkInfo is checked on its
   * own, then against the old one, then the suppressed roles against the new
   * roles. Applied: offers to a role the framework left are rescinded and its
   * filters dropped; newly suppressed roles get no more offers; roles that
   * leave the suppressed set (and stay) have their filters cleared; a role
   * added and not suppressed is offered to at once. 200 with no body.
   */
  private updateFramework(fw: FrameworkRecord, update: NonNullable<Call['update_framework']>): CallResult {
    const info = update.framework_info;
    const suppressed = update.suppressed_roles ?? [];
    const invalid = validateFrameworkInfo(info, [], (id) => this.completedFrameworkIds.has(id));
    if (invalid) return { status: 400, body: `Supplied FrameworkInfo is not valid: ${invalid}` };
    const refused = frameworkUpdateError(fw.info, info);
    if (refused) return { status: 400, body: `FrameworkInfo update is not valid: ${refused}` };
    const roles = rolesOfInfo(info);
    const badSuppressed = suppressedRolesError(roles, suppressed);
    if (badSuppressed) return { status: 400, body: `'UpdateFramework' call is not valid: ${badSuppressed}` };
    const oldRoles = fw.roles;
    const oldSuppressed = fw.suppressedRoles;
    const left = oldRoles.filter((r) => !roles.includes(r));
    fw.info = info;
    this.applyInfo(fw);
    fw.suppressedRoles = new Set(suppressed);
    this.allocator.clearFilters(fw, [...left, ...[...oldSuppressed].filter((r) => !fw.suppressedRoles.has(r) && roles.includes(r))]);
    for (const offerId of [...fw.offers]) {
      const offer = this.offers.get(offerId);
      if (offer && !roles.includes(offer.role)) this.allocator.rescind(offerId);
    }
    this.allocator.considerAllAgents(fw);
    return { status: 200 };
  }

  /** What the master knows of an agent (Master::reconcileOperations' cases). */
  private agentStanding(agentId: string): AgentStanding {
    const agent = this.agents.get(agentId);
    if (!agent) return 'unknown';
    if (!agent.registered) return 'unreachable';
    return agent.recovering ? 'recovering' : 'registered';
  }

  private revive(fw: FrameworkRecord, roles: readonly string[]): void {
    const target = roles.length > 0 ? roles : fw.roles;
    for (const r of target) fw.suppressedRoles.delete(r);
    this.allocator.clearFilters(fw, roles.length > 0 ? roles : undefined);
    this.allocator.considerAllAgents(fw);
  }

  private declineOffer(fw: FrameworkRecord, offerId: string, refuseSeconds: number | undefined): void {
    const offer = this.offers.get(offerId);
    if (!offer || offer.frameworkId !== fw.id) return; // Mesos ignores unknown offers in DECLINE
    this.allocator.removeOffer(offerId);
    this.allocator.recover(offer.agentId, offer.resources, fw, refuseSeconds, offer.role);
  }

  /** Master::accept and _accept: each operation gets the answer the master gives it. */
  private accept(fw: FrameworkRecord, accept: NonNullable<Call['accept']>): void {
    const offerIds = accept.offer_ids ?? [];
    const operations = accept.operations ?? [];
    const refuse = accept.filters?.refuse_seconds;
    const error = validateOffers(offerIds, this.offers, fw);
    if (error) {
      // Every offer named that still exists goes back to the allocator (even another
      // framework's, silently, as master.cpp accept() does); every task to launch is lost,
      // every other operation dropped.
      for (const { value } of offerIds) if (this.offers.has(value)) this.allocator.discard(value);
      const state = fw.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
      for (const op of operations) {
        if (op.type !== 'LAUNCH' && op.type !== 'LAUNCH_GROUP') {
          this.dropOperation(fw, op, `Operation attempted with invalid offers: ${error}`);
          continue;
        }
        for (const t of launchedTasks(op)) {
          this.sendMasterUpdate(fw, masterStatus(t.task_id.value, state, `Task launched with invalid offers: ${error}`, 'REASON_INVALID_OFFERS', t.agent_id?.value));
        }
      }
      return;
    }
    const records = offerIds.map(({ value }) => this.allocator.removeOffer(value)!);
    const agentId = records[0]!.agentId;
    const agent = this.agents.get(agentId)!;
    const role = records[0]!.role;
    const offered = records.reduce((acc, o) => addBags(acc, o.resources), emptyBag());
    let available = offered;
    // GROW_VOLUME / SHRINK_VOLUME results: not usable by later operations of this ACCEPT.
    let resized = emptyBag();
    const launchedNow = new Set<string>();
    // accept(): launches may not ask for operation feedback.
    const accepted = operations.filter((op) => {
      if (!op.id || (op.type !== 'LAUNCH' && op.type !== 'LAUNCH_GROUP')) return true;
      const group = op.type === 'LAUNCH_GROUP';
      for (const t of launchedTasks(op)) {
        this.sendMasterUpdate(fw, masterStatus(t.task_id.value, 'TASK_ERROR', `The \`id\` field cannot be set on ${op.type} operations`,
          group ? 'REASON_TASK_GROUP_INVALID' : 'REASON_TASK_INVALID', t.agent_id?.value));
      }
      return false;
    }).filter((op) => {
      const error = acceptError(op);
      if (error) this.dropOperation(fw, op, error);
      return error === undefined;
    });
    const onAgent = describeAgent(agent.id, agent.hostname);
    for (const op of accepted) {
      switch (op.type) {
        case 'LAUNCH':
          for (const task of op.launch?.task_infos ?? []) {
            const result = validateTask(task, fw, agentId, available, launchedNow);
            if ('error' in result) {
              this.sendMasterUpdate(fw, masterStatus(task.task_id.value, 'TASK_ERROR', result.error, 'REASON_TASK_INVALID', task.agent_id?.value));
              continue;
            }
            available = subtractBags(available, result.ok);
            launchedNow.add(task.task_id.value);
            this.launch(fw, agent, task, result.ok, undefined, role);
          }
          break;
        case 'LAUNCH_GROUP':
          available = this.launchGroup(fw, agent, op, available, launchedNow, role);
          break;
        case 'RESERVE':
        case 'UNRESERVE':
        case 'CREATE':
        case 'DESTROY': {
          const conversion = this.speculativeConversion(fw, agent, op, role);
          if ('error' in conversion) { this.dropOperation(fw, op, conversion.error); break; }
          if (!containsBag(available, conversion.consumed)) { this.dropOperation(fw, op, notContained(available, conversion.consumed)); break; }
          if (op.type === 'DESTROY') this.rescindOffersHolding(agent, conversion.consumed);
          available = addBags(subtractBags(available, conversion.consumed), conversion.converted);
          this.applyOperation(fw, agent, op, conversion, role);
          break;
        }
        case 'GROW_VOLUME':
        case 'SHRINK_VOLUME': {
          const conversion = op.type === 'GROW_VOLUME' ? growConversion(op, onAgent) : shrinkConversion(op, onAgent);
          if ('error' in conversion) { this.dropOperation(fw, op, conversion.error); break; }
          if (!containsBag(available, conversion.consumed)) {
            this.dropOperation(fw, op, `Invalid ${op.type} operation: ${notContained(available, conversion.consumed)}`);
            break;
          }
          available = subtractBags(available, conversion.consumed);
          resized = addBags(resized, conversion.converted);
          this.applyOperation(fw, agent, op, conversion, role);
          break;
        }
        case 'UNKNOWN':
        case undefined:
          this.opts.logger.warn({ frameworkId: fw.id }, 'Ignoring unknown operation');
          break;
        default:
          this.dropOperation(fw, op, refuseOperation(op, onAgent));
      }
    }
    // What speculative operations converted comes back without a filter; whatever
    // else was not used counts as declined with the ACCEPT's filters (_accept).
    // Resized volumes come back whole (1.11's formula would keep the disk a
    // SHRINK_VOLUME freed allocated to the framework: see docs/emulator-status.md).
    const converted = subtractBags(available, offered);
    const declined = subtractBags(available, converted);
    this.allocator.recover(agentId, addBags(converted, resized));
    this.allocator.recover(agentId, declined, fw, refuse, role);
  }

  /** Validation and conversion of RESERVE, UNRESERVE, CREATE and DESTROY. */
  private speculativeConversion(fw: FrameworkRecord, agent: AgentRecord, op: Operation, role: string): Conversion | { error: string } {
    const onAgent = describeAgent(agent.id, agent.hostname);
    switch (op.type) {
      case 'RESERVE': return reserveConversion(op, fw.info, role, onAgent);
      case 'UNRESERVE': return unreserveConversion(op, onAgent);
      default: {
        const ctx = { info: fw.info, frameworkId: fw.id, onAgent, agentTotal: agent.total, used: this.usedOn(agent) };
        return op.type === 'CREATE' ? createConversion(op, ctx) : destroyConversion(op, ctx);
      }
    }
  }

  /** Resources held by the agent's live tasks and executors (slave->usedResources). */
  private usedOn(agent: AgentRecord): ResourceBag {
    let used = emptyBag();
    for (const key of agent.tasks) {
      const task = this.allTasks.get(key);
      if (task && !task.resourcesRecovered) used = addBags(used, task.resources);
    }
    for (const executor of agent.executors.values()) used = addBags(used, executor.resources);
    return used;
  }

  /** DESTROY: other offers of the agent that hold a destroyed volume are rescinded. */
  private rescindOffersHolding(agent: AgentRecord, volumes: ResourceBag): void {
    for (const offerId of [...agent.offers]) {
      const offer = this.offers.get(offerId);
      if (!offer) continue;
      if ([...(volumes.volumes?.keys() ?? [])].some((k) => offer.resources.volumes?.has(k))) this.allocator.rescind(offerId);
    }
  }

  /**
   * _apply: the agent's checkpointed resources change at once; the agent
   * removes a destroyed volume's data; with an `id` the agent reports
   * OPERATION_FINISHED (operation-feedback.ts).
   */
  private applyOperation(fw: FrameworkRecord, agent: AgentRecord, op: Operation, conversion: Conversion, role: string): void {
    agent.total = addBags(subtractBags(agent.total, conversion.consumed), conversion.converted);
    this.opts.logger.info({ frameworkId: fw.id, agentId: agent.id, resources: formatBag(conversion.converted) }, `Applying ${op.type} operation`);
    if (op.type === 'DESTROY') {
      for (const v of conversion.consumed.volumes?.values() ?? []) agent.runtime.destroyVolume(v);
    }
    if (!op.id) return;
    const preRefinement = !(fw.info.capabilities ?? []).some((c) => c.type === 'RESERVATION_REFINEMENT');
    this.operationFeedback.finished(fw.id, agent.id, op.id.value, bagToResources(conversion.converted, fw.multiRole ? role : undefined, preRefinement));
  }

  /** LAUNCH_GROUP: validated as one; all its tasks start on the default executor or all get TASK_ERROR. */
  private launchGroup(fw: FrameworkRecord, agent: AgentRecord, op: Operation, available: ResourceBag, launchedNow: Set<string>, role: string): ResourceBag {
    const lg = op.launch_group;
    if (!lg) return available;
    const executorKey = taskKey(fw.id, lg.executor.executor_id.value);
    const running = agent.executors.get(executorKey);
    // The master puts the group's ExecutorInfo into every task that has none.
    const tasks = (lg.task_group.tasks ?? []).map((t) => (t.executor ? t : { ...t, executor: lg.executor }));
    const result = validateTaskGroup({ tasks }, lg.executor, fw, agent.id, available, launchedNow, running?.info);
    if ('error' in result) {
      for (const t of tasks) this.sendMasterUpdate(fw, masterStatus(t.task_id.value, 'TASK_ERROR', result.error, 'REASON_TASK_GROUP_INVALID', t.agent_id?.value));
      return available;
    }
    let left = subtractBags(available, result.executor);
    const executor: ExecutorRecord = running ?? {
      frameworkId: fw.id, info: lg.executor, resources: result.executor, role, runId: randomUUID(), liveTasks: new Set(),
    };
    if (!running) {
      agent.executors.set(executorKey, executor);
      charge(fw, result.executor, 1, role);
    }
    tasks.forEach((task, i) => {
      left = subtractBags(left, result.tasks[i]!);
      launchedNow.add(task.task_id.value);
      executor.liveTasks.add(task.task_id.value);
      this.launch(fw, agent, task, result.tasks[i]!, lg.executor.executor_id.value, role);
    });
    agent.runtime.launchGroup(fw.id, fw.info, lg.executor, executor.runId, tasks, fw.killingState);
    return left;
  }

  /** Master::drop for an offer operation: OPERATION_ERROR when the operation has an id. */
  private dropOperation(fw: FrameworkRecord, op: Operation, message: string): void {
    this.opts.logger.warn({ frameworkId: fw.id, type: op.type, message }, 'dropping offer operation');
    const event = dropEvent(op, message);
    if (event && fw.connected) this.send(fw, event);
  }

  private sendMasterUpdate(fw: FrameworkRecord, status: TaskStatus): void {
    if (fw.connected) this.send(fw, { type: 'UPDATE', update: { status } });
  }

  private launch(fw: FrameworkRecord, agent: AgentRecord, info: TaskInfo, resources: ResourceBag, executorId: string | undefined, role: string): void {
    const task: TaskRecord = {
      taskId: info.task_id.value, frameworkId: fw.id, agentId: agent.id, info, resources,
      state: 'TASK_STAGING', statusUpdateState: undefined, latestStatus: undefined,
      launchedAt: Date.now(), endedAt: undefined, sandbox: undefined, resourcesRecovered: false, executorId, role,
    };
    fw.tasks.set(task.taskId, task);
    const key = taskKey(fw.id, task.taskId);
    this.allTasks.set(key, task);
    agent.tasks.add(key);
    charge(fw, resources, 1, role);
    this.emit('taskLaunched', task);
    if (executorId === undefined) agent.runtime.launch(fw.id, fw.info, info);
  }

  private kill(fw: FrameworkRecord, kill: NonNullable<Call['kill']>): void {
    const task = fw.tasks.get(kill.task_id.value);
    if (!task) {
      // Unknown task: the master answers with reconciliation (master.cpp kill()).
      this.reconcile(fw, [{ task_id: kill.task_id, ...(kill.agent_id ? { agent_id: kill.agent_id } : {}) }]);
      return;
    }
    if (kill.agent_id && kill.agent_id.value !== task.agentId) return;
    const agent = this.agents.get(task.agentId);
    if (!agent?.registered || agent.recovering) return; // retried by Mesos when the agent re-registers; ours never does
    const ns = kill.kill_policy?.grace_period?.nanoseconds;
    agent.runtime.kill(fw.id, task.taskId, ns === undefined ? undefined : Number(ns) / 1e6, fw.killingState);
  }

  private acknowledge(fw: FrameworkRecord, ack: NonNullable<Call['acknowledge']>): void {
    const agent = this.agents.get(ack.agent_id.value);
    if (!agent?.registered || agent.recovering) return;
    const status = agent.runtime.acknowledge(fw.id, ack.task_id.value, ack.uuid);
    if (!status) return;
    const task = fw.tasks.get(ack.task_id.value);
    if (!task) return;
    task.statusUpdateState = undefined;
    if (isTerminalState(status.state)) this.removeTask(fw, task);
  }

  /** RECONCILE: answers have no uuid and are not retried (reconciliation.ts). */
  reconcile(fw: FrameworkRecord, tasks: NonNullable<NonNullable<Call['reconcile']>['tasks']>): void {
    for (const status of reconcileStatuses(fw, tasks, this.agents, this.recoveringAgents > 0)) this.send(fw, { type: 'UPDATE', update: { status } });
  }

  // ---------------------------------------------------------------------------
  // Status updates

  /** An agent delivers a status update (with uuid) to the master. */
  private statusUpdate(agentId: string, d: UpdateDelivery): void {
    if (this.opts.leader() === undefined) return; // no master to receive it; the agent retries
    if (this.agents.get(agentId)?.recovering) return; // not re-registered yet; it re-sends when it is
    const fw = this.frameworks.get(d.frameworkId);
    if (!fw) return;
    const task = fw.tasks.get(d.status.task_id.value);
    if (task) {
      task.state = d.latestState;
      task.statusUpdateState = d.status.state;
      task.latestStatus = d.status;
      if (isTerminalState(d.latestState)) {
        task.endedAt ??= Date.now();
        this.recoverTaskResources(task);
      }
      this.emit('taskState', task);
    }
    if (fw.connected) this.send(fw, { type: 'UPDATE', update: { status: d.status } });
  }

  private recoverTaskResources(task: TaskRecord): void {
    if (task.resourcesRecovered) return;
    task.resourcesRecovered = true;
    const fw = this.frameworks.get(task.frameworkId) ?? this.removedFrameworks.get(task.frameworkId);
    if (fw) charge(fw, task.resources, -1, task.role);
    this.allocator.recover(task.agentId, task.resources);
    if (task.executorId !== undefined) this.taskLeftExecutor(task, task.executorId);
  }

  /** The default executor exits when its last task has ended; its resources go back. */
  private taskLeftExecutor(task: TaskRecord, executorId: string): void {
    const agent = this.agents.get(task.agentId);
    const key = taskKey(task.frameworkId, executorId);
    const executor = agent?.executors.get(key);
    if (!agent || !executor) return;
    executor.liveTasks.delete(task.taskId);
    if (executor.liveTasks.size > 0) return;
    agent.executors.delete(key);
    const fw = this.frameworks.get(task.frameworkId) ?? this.removedFrameworks.get(task.frameworkId);
    if (fw) charge(fw, executor.resources, -1, executor.role);
    this.allocator.recover(agent.id, executor.resources);
  }

  private removeTask(fw: FrameworkRecord, task: TaskRecord): void {
    if (!fw.tasks.delete(task.taskId)) return;
    this.agents.get(task.agentId)?.tasks.delete(taskKey(fw.id, task.taskId));
    fw.completedTasks.push(task);
    if (fw.completedTasks.length > MAX_COMPLETED_TASKS_PER_FRAMEWORK) fw.completedTasks.shift();
  }

  send(fw: FrameworkRecord, event: Event): void {
    if (!fw.stream || fw.stream.closed) return;
    fw.stream.send(event);
    this.opts.onEventSent?.(event);
  }

  /** Stops timers, agents and tasks. */
  async stop(): Promise<void> {
    this.allocator.stop();
    this.operationFeedback.stop();
    for (const t of this.reregisterTimers) clearTimeout(t);
    for (const fw of [...this.frameworks.values(), ...this.removedFrameworks.values()]) {
      fw.failoverTimer?.cancel();
      fw.stream?.close();
    }
    for (const agent of this.agents.values()) agent.runtime.stop();
    await this.opts.runner.stopAll();
  }
}
