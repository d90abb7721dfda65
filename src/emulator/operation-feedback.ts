/**
 * Operation feedback for operations with an `id` on the emulated agents'
 * default resources, as a 1.11 master and agent give it:
 *
 * - the agent (AGENT_OPERATION_FEEDBACK) reports OPERATION_FINISHED with a
 *   status uuid and re-sends it with exponential backoff (first retry after
 *   the agent's retry interval, doubling up to 10 minutes) until the
 *   framework's ACKNOWLEDGE_OPERATION_STATUS names that uuid; the master then
 *   forgets the operation (Master::acknowledgeOperationStatus removes it once
 *   its terminal status is acknowledged);
 * - RECONCILE_OPERATIONS (Master::reconcileOperations) answers each operation
 *   asked for, or every operation the master still knows for the framework
 *   when the list is empty, with UPDATE_OPERATION_STATUS events without uuid:
 *   the latest status of a known operation, else OPERATION_RECOVERING,
 *   OPERATION_UNKNOWN or OPERATION_UNREACHABLE by what the master knows of the
 *   agent.
 *
 * Dropped operations (OPERATION_ERROR, Master::drop) are never recorded: they
 * are sent once, without uuid.
 */
import type { Call, Event, OperationStatus, Resource } from '../mesos/types.js';
import { newStatusUuid } from './agent.js';
import { MAX_STATUS_UPDATE_RETRY_MS } from './status-update-manager.js';

/** What the master knows of an agent named in RECONCILE_OPERATIONS. */
export type AgentStanding = 'registered' | 'recovering' | 'unreachable' | 'unknown';

interface OperationRecord {
  frameworkId: string;
  operationId: string;
  agentId: string;
  /** The statuses forwarded to the framework, oldest first. */
  statuses: OperationStatus[];
  /** The status awaiting acknowledgement, re-sent until then. */
  unacknowledged: OperationStatus | undefined;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
}

export interface OperationFeedbackHost {
  /** Sends the event to the framework if it is connected. */
  send(frameworkId: string, event: Event): void;
  /** Whether the agent's updates reach a master now (a leader exists, the agent is registered and not recovering). */
  agentReachesMaster(agentId: string): boolean;
}

const TERMINAL = new Set(['OPERATION_FINISHED', 'OPERATION_FAILED', 'OPERATION_ERROR', 'OPERATION_DROPPED', 'OPERATION_GONE_BY_OPERATOR']);

function key(frameworkId: string, operationId: string): string {
  return `${frameworkId}\u0000${operationId}`;
}

function updateEvent(status: OperationStatus): Event {
  return { type: 'UPDATE_OPERATION_STATUS', update_operation_status: { status } };
}

export class OperationFeedback {
  private readonly operations = new Map<string, OperationRecord>();

  constructor(private readonly host: OperationFeedbackHost, private readonly firstRetryMs: number) {}

  /** The agent applied the operation: OPERATION_FINISHED with a uuid, re-sent until acknowledged. */
  finished(frameworkId: string, agentId: string, operationId: string, converted: Resource[]): void {
    const status: OperationStatus = {
      operation_id: { value: operationId }, state: 'OPERATION_FINISHED', uuid: { value: newStatusUuid() },
      agent_id: { value: agentId }, converted_resources: converted,
    };
    const record: OperationRecord = {
      frameworkId, operationId, agentId, statuses: [], unacknowledged: status, retryMs: this.firstRetryMs, timer: undefined,
    };
    this.forget(frameworkId, operationId);
    this.operations.set(key(frameworkId, operationId), record);
    this.deliver(record);
  }

  /**
   * ACKNOWLEDGE_OPERATION_STATUS: ignored (as the master ignores it) unless
   * the agent is reachable, the operation known and the uuid one of its
   * statuses; a terminal status acknowledged ends the operation.
   */
  acknowledge(frameworkId: string, ack: NonNullable<Call['acknowledge_operation_status']>): void {
    const record = this.operations.get(key(frameworkId, ack.operation_id.value));
    if (!record || record.agentId !== ack.agent_id?.value || !this.host.agentReachesMaster(record.agentId)) return;
    const status = record.statuses.find((s) => s.uuid?.value === ack.uuid);
    if (!status) return;
    if (record.unacknowledged?.uuid?.value === ack.uuid) {
      record.unacknowledged = undefined;
      if (record.timer) clearTimeout(record.timer);
      record.timer = undefined;
    }
    if (TERMINAL.has(status.state)) this.forget(frameworkId, record.operationId);
  }

  /** RECONCILE_OPERATIONS: one unreliable UPDATE_OPERATION_STATUS per operation. */
  reconcile(frameworkId: string, asked: NonNullable<Call['reconcile_operations']>, standing: (agentId: string) => AgentStanding): void {
    const operations = asked.operations ?? [];
    // A new leader learns an agent's operations when the agent re-registers.
    const known = (record: OperationRecord | undefined): record is OperationRecord => record !== undefined && standing(record.agentId) !== 'recovering';
    if (operations.length === 0) {
      for (const record of this.operations.values()) {
        if (record.frameworkId === frameworkId && known(record)) this.host.send(frameworkId, updateEvent(withoutUuid(latest(record))));
      }
      return;
    }
    for (const op of operations) {
      const found = this.operations.get(key(frameworkId, op.operation_id.value));
      const record = known(found) ? found : undefined;
      let status: OperationStatus;
      if (record) {
        status = withoutUuid(latest(record));
      } else {
        const agentId = op.agent_id?.value;
        const where = agentId === undefined ? undefined : standing(agentId);
        const [state, message] = where === 'recovering' ? ['OPERATION_RECOVERING', 'Reconciliation: Agent is recovered but has not re-registered'] as const
          : where === 'registered' ? ['OPERATION_UNKNOWN', 'Reconciliation: Operation is unknown'] as const
            : where === 'unreachable' ? ['OPERATION_UNREACHABLE', 'Reconciliation: Agent is unreachable'] as const
              : where === 'unknown' ? ['OPERATION_UNKNOWN', 'Reconciliation: Both operation and agent are unknown'] as const
                : ['OPERATION_UNKNOWN', "Reconciliation: Operation is unknown and no 'agent_id' was provided"] as const;
        status = {
          operation_id: op.operation_id, state, message,
          ...(op.agent_id ? { agent_id: op.agent_id } : {}),
          ...(op.resource_provider_id ? { resource_provider_id: op.resource_provider_id } : {}),
        };
      }
      this.host.send(frameworkId, updateEvent(status));
    }
  }

  /** The framework was removed: its operations are forgotten (the master acknowledges them itself). */
  removeFramework(frameworkId: string): void {
    for (const record of [...this.operations.values()]) if (record.frameworkId === frameworkId) this.forget(frameworkId, record.operationId);
  }

  /** Operations still known, for tests and /master/state. */
  known(frameworkId: string): string[] {
    return [...this.operations.values()].filter((r) => r.frameworkId === frameworkId).map((r) => r.operationId);
  }

  stop(): void {
    for (const record of this.operations.values()) if (record.timer) clearTimeout(record.timer);
    this.operations.clear();
  }

  private forget(frameworkId: string, operationId: string): void {
    const record = this.operations.get(key(frameworkId, operationId));
    if (!record) return;
    if (record.timer) clearTimeout(record.timer);
    this.operations.delete(key(frameworkId, operationId));
  }

  /** The agent sends the unacknowledged status; the master forwards it when it gets it, and the agent retries. */
  private deliver(record: OperationRecord): void {
    const status = record.unacknowledged;
    if (!status) return;
    record.timer = setTimeout(() => {
      record.retryMs = Math.min(record.retryMs * 2, MAX_STATUS_UPDATE_RETRY_MS);
      this.deliver(record);
    }, record.retryMs);
    record.timer.unref();
    if (!this.host.agentReachesMaster(record.agentId)) return;
    if (!record.statuses.some((s) => s.uuid?.value === status.uuid?.value)) record.statuses.push(status);
    this.host.send(record.frameworkId, updateEvent(status));
  }
}

function latest(record: OperationRecord): OperationStatus {
  // Before the master got the agent's status, the operation is pending there.
  return record.statuses[record.statuses.length - 1] ?? { operation_id: { value: record.operationId }, state: 'OPERATION_PENDING', agent_id: { value: record.agentId } };
}

function withoutUuid(status: OperationStatus): OperationStatus {
  const { uuid: _uuid, ...rest } = status;
  return rest;
}
