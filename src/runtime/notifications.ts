/**
 * Turns the machines' Notifications into log lines and domain signals. The
 * lines a user reads first say what the original Go tool said, plus the
 * round: `subscribed with framework id X`, `round 1: launching 5 tasks`,
 * `task X in state TASK_RUNNING`, `finished task X`, and failures with their
 * state, reason, source and message.
 */
import type { Logger } from 'pino';
import type { Notification } from '../../machines/contract.js';
import { isFailureState } from '../../machines/policy/task-status.js';
import type { Signals } from './signals.js';
import type { SchedulerStatus } from './status.js';

export interface NotificationSinks {
  log: Logger;
  signals: Signals;
  status: SchedulerStatus;
  now: () => number;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${Math.round(ms)}ms`;
}

function failureDetail(n: { state: string; reason?: string; source?: string; message?: string }): string {
  const parts = [n.state];
  if (n.reason) parts.push(`reason ${n.reason}`);
  if (n.source) parts.push(`source ${n.source}`);
  let text = parts.join(', ');
  if (n.message) text += `: ${n.message}`;
  return text;
}

/** Worth a warning: a failure, or a task the master cannot vouch for (unreachable, unknown). */
function isTrouble(state: string): boolean {
  return isFailureState(state) || state === 'TASK_UNREACHABLE' || state === 'TASK_UNKNOWN';
}

export function handleNotification(n: Notification, sinks: NotificationSinks): void {
  const { log, signals, status } = sinks;
  switch (n.type) {
    case 'subscribed':
      status.subscribed = true;
      status.master = n.master;
      status.frameworkId = n.frameworkId;
      log.info({ frameworkId: n.frameworkId, master: n.master, resubscribe: n.resubscribe },
        n.resubscribe ? `re-subscribed with framework id ${n.frameworkId} at ${n.master}` : `subscribed with framework id ${n.frameworkId}`);
      signals.emit('subscribed', { frameworkId: n.frameworkId, master: n.master, resubscribe: n.resubscribe });
      return;
    case 'disconnected': {
      status.subscribed = false;
      const retry = n.retryInMs === undefined ? '' : `; retrying in ${seconds(n.retryInMs)}`;
      log.warn({ reason: n.reason, retryInMs: n.retryInMs }, `no subscription: ${n.message} (${n.reason})${retry}`);
      signals.emit('disconnected', { reason: n.reason, message: n.message, ...(n.retryInMs !== undefined ? { retryInMs: n.retryInMs } : {}) });
      return;
    }
    case 'leaderChanged':
      status.master = n.master;
      log.debug({ master: n.master }, `leading master is ${n.master}`);
      signals.emit('leaderChanged', { master: n.master });
      return;
    case 'frameworkRemoved':
      log.error({ frameworkId: n.frameworkId }, `framework ${n.frameworkId} was removed by the master: ${n.message}`);
      signals.emit('frameworkRemoved', { frameworkId: n.frameworkId, message: n.message });
      return;
    case 'fatal':
      log.error(n.message);
      signals.emit('fatal', { message: n.message });
      return;
    case 'offersReceived':
      log.debug({ count: n.count }, `received ${n.count} offer${n.count === 1 ? '' : 's'}`);
      signals.emit('offersReceived', { count: n.count });
      return;
    case 'taskLaunched':
      log.info({ taskId: n.taskId, round: n.round, agentId: n.agentId }, `launching task ${n.taskId} on agent ${n.agentId}`);
      signals.emit('taskLaunched', { taskId: n.taskId, round: n.round, agentId: n.agentId });
      return;
    case 'taskState': {
      const fields = { taskId: n.taskId, round: n.round, state: n.state, reason: n.reason, source: n.source };
      if (isTrouble(n.state)) log.warn(fields, `task ${n.taskId} in state ${failureDetail(n)}`);
      else log.info(fields, `task ${n.taskId} in state ${n.state}`);
      signals.emit('taskState', {
        taskId: n.taskId, round: n.round, state: n.state,
        ...(n.reason !== undefined ? { reason: n.reason } : {}),
        ...(n.source !== undefined ? { source: n.source } : {}),
        ...(n.message !== undefined ? { message: n.message } : {}),
      });
      return;
    }
    case 'taskEnded':
      if (n.ok) log.info({ taskId: n.taskId, round: n.round }, `finished task ${n.taskId}`);
      else log.warn({ taskId: n.taskId, round: n.round, state: n.state, reason: n.reason }, `task ${n.taskId} failed: ${failureDetail(n)}`);
      signals.emit('taskEnded', {
        taskId: n.taskId, round: n.round, state: n.state, ok: n.ok,
        ...(n.reason !== undefined ? { reason: n.reason } : {}),
        ...(n.message !== undefined ? { message: n.message } : {}),
      });
      return;
    case 'taskUnlaunched':
      log.warn({ taskId: n.taskId, round: n.round, reason: n.reason },
        `task ${n.taskId} never reached the master (${n.reason}); launching another in its place`);
      signals.emit('taskUnlaunched', { taskId: n.taskId, round: n.round, reason: n.reason });
      return;
    case 'acknowledged':
      log.debug({ taskId: n.taskId, state: n.state }, `acknowledged ${n.state} of task ${n.taskId}`);
      signals.emit('acknowledged', { taskId: n.taskId, state: n.state });
      return;
    case 'roundStarted':
      status.round = n.round;
      log.info({ round: n.round, tasks: n.tasks }, `round ${n.round}: launching ${n.tasks} task${n.tasks === 1 ? '' : 's'}`);
      signals.emit('roundStarted', { round: n.round, tasks: n.tasks });
      return;
    case 'roundFinished':
      log.info({ round: n.round, finished: n.finished, failed: n.failed }, `round ${n.round} done: ${n.finished} finished, ${n.failed} failed`);
      signals.emit('roundFinished', { round: n.round, finished: n.finished, failed: n.failed });
      return;
    case 'cooldown':
      log.info({ round: n.round, seconds: n.seconds }, `waiting ${n.seconds}s before round ${n.round + 1}, holding no resources`);
      signals.emit('cooldown', { round: n.round, until: sinks.now() + n.seconds * 1000 });
      return;
    case 'suppressed':
      log.debug('suppressed offers');
      signals.emit('suppressed');
      return;
    case 'revived':
      log.debug('revived offers');
      signals.emit('revived');
      return;
    case 'reconcile':
      log.info({ tasks: n.tasks, attempt: n.attempt, implicit: n.implicit },
        n.implicit ? 'reconciling all tasks with the master' : `reconciling ${n.tasks} task${n.tasks === 1 ? '' : 's'} (attempt ${n.attempt})`);
      signals.emit('reconcile', { tasks: n.tasks, attempt: n.attempt, implicit: n.implicit });
      return;
    case 'unknownTask':
      log.warn({ taskId: n.taskId, state: n.state }, `update for unknown task ${n.taskId} in state ${n.state}`);
      signals.emit('unknownTask', { taskId: n.taskId, state: n.state });
      return;
    default: {
      const unknown: never = n;
      log.debug({ notification: unknown }, 'notification');
    }
  }
}
