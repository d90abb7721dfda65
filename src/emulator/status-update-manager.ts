/**
 * The agent's task status update manager (src/slave/task_status_update_manager):
 * updates of one task are delivered to the master in order, one at a time; the
 * head is re-sent with exponential backoff (first retry after `firstRetryMs`,
 * doubling up to 10 minutes) until the scheduler ACKNOWLEDGEs its uuid, and
 * only then is the next update of that task sent.
 */
import type { TaskState, TaskStatus } from '../mesos/types.js';

export const MAX_STATUS_UPDATE_RETRY_MS = 10 * 60 * 1000;

export interface UpdateDelivery {
  frameworkId: string;
  status: TaskStatus;
  /** The newest state the agent knows for the task (may be ahead of `status`). */
  latestState: TaskState;
}

interface TaskStream {
  frameworkId: string;
  queue: TaskStatus[];
  latestState: TaskState;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, TaskStream>();

  constructor(
    private readonly deliver: (update: UpdateDelivery) => void,
    private readonly firstRetryMs: number,
  ) {}

  private static key(frameworkId: string, taskId: string): string {
    return `${frameworkId}\u0000${taskId}`;
  }

  /** Queues an update (it must carry a uuid); sends it now if nothing is ahead of it. */
  add(frameworkId: string, status: TaskStatus): void {
    const key = StatusUpdateManager.key(frameworkId, status.task_id.value);
    let stream = this.streams.get(key);
    if (!stream) {
      stream = { frameworkId, queue: [], latestState: status.state, retryMs: this.firstRetryMs, timer: undefined };
      this.streams.set(key, stream);
    }
    stream.queue.push(status);
    stream.latestState = status.state;
    if (stream.queue.length === 1) this.sendHead(stream);
  }

  /**
   * Handles an acknowledgement. Returns the acknowledged status, or undefined
   * when the uuid is not the one awaited (a duplicate or stale ACK, ignored as
   * the agent ignores it).
   */
  acknowledge(frameworkId: string, taskId: string, uuid: string): TaskStatus | undefined {
    const key = StatusUpdateManager.key(frameworkId, taskId);
    const stream = this.streams.get(key);
    const head = stream?.queue[0];
    if (!stream || !head || head.uuid !== uuid) return undefined;
    stream.queue.shift();
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = undefined;
    stream.retryMs = this.firstRetryMs;
    if (stream.queue.length > 0) this.sendHead(stream);
    else this.streams.delete(key);
    return head;
  }

  /** Re-sends every unacknowledged head now (agent re-registration, framework failover). */
  resume(frameworkId?: string): void {
    for (const stream of this.streams.values()) {
      if (frameworkId !== undefined && stream.frameworkId !== frameworkId) continue;
      stream.retryMs = this.firstRetryMs;
      this.sendHead(stream);
    }
  }

  /** Pending (unacknowledged) updates, oldest first per task. */
  pending(): Array<{ frameworkId: string; status: TaskStatus }> {
    const out: Array<{ frameworkId: string; status: TaskStatus }> = [];
    for (const s of this.streams.values()) for (const status of s.queue) out.push({ frameworkId: s.frameworkId, status });
    return out;
  }

  /** Drops a framework's streams (the framework was removed). */
  removeFramework(frameworkId: string): void {
    for (const [key, stream] of this.streams) {
      if (stream.frameworkId !== frameworkId) continue;
      if (stream.timer) clearTimeout(stream.timer);
      this.streams.delete(key);
    }
  }

  stop(): void {
    for (const stream of this.streams.values()) if (stream.timer) clearTimeout(stream.timer);
    this.streams.clear();
  }

  private sendHead(stream: TaskStream): void {
    const head = stream.queue[0];
    if (!head) return;
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = setTimeout(() => {
      stream.retryMs = Math.min(stream.retryMs * 2, MAX_STATUS_UPDATE_RETRY_MS);
      this.sendHead(stream);
    }, stream.retryMs);
    stream.timer.unref();
    this.deliver({ frameworkId: stream.frameworkId, status: head, latestState: stream.latestState });
  }
}
