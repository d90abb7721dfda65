/**
 * Turns the machines' Notifications into log lines and domain signals. The
 * lines a user reads first say what the original Go tool said, plus the
 * round: `subscribed with framework id X`, `round 1: launching 5 tasks`,
 * `task X in state TASK_RUNNING`, `finished task X`, and failures with their
 * state, reason, source and message.
 *
 * Per task, info has two lines (TASK_RUNNING and its end) so that a round of
 * 100,000 tasks is not half a million lines: its launch and its other
 * states on the way (staging, starting, killing, the TASK_FINISHED that
 * `finished task X` repeats) are debug (`--debug`); the round lines count
 * them. Trouble (a failure, an unreachable or unknown task) is always a warning
 * with its reason.
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
  /** `--jobs`: the job a task belongs to (its name starts the task id), so every log line names it. */
  jobOf?: (taskId: string) => string | undefined;
}

/** `job X: ` before a round line of a `--jobs` run. */
function jobPrefix(job: string | undefined): string {
  return job === undefined ? '' : `job ${job}: `;
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
  const { signals, status } = sinks;
  // --jobs: a task's lines carry its job's name.
  const job = sinks.jobOf !== undefined && 'taskId' in n ? sinks.jobOf(n.taskId) : undefined;
  const log = job === undefined ? sinks.log : sinks.log.child({ job });
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
      log.debug({ taskId: n.taskId, round: n.round, agentId: n.agentId }, `launching task ${n.taskId} on agent ${n.agentId}`);
      signals.emit('taskLaunched', { taskId: n.taskId, round: n.round, agentId: n.agentId });
      return;
    case 'taskState': {
      const fields = { taskId: n.taskId, round: n.round, state: n.state, reason: n.reason, source: n.source };
      if (isTrouble(n.state)) log.warn(fields, `task ${n.taskId} in state ${failureDetail(n)}`);
      else if (n.state === 'TASK_RUNNING') log.info(fields, `task ${n.taskId} in state ${n.state}`);
      else log.debug(fields, `task ${n.taskId} in state ${n.state}`);
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
    case 'taskRetry':
      log.warn({ taskId: n.taskId, round: n.round, state: n.state, reason: n.reason, retry: n.retry, max: n.max, delayMs: n.delayMs },
        `task ${n.taskId} failed: ${failureDetail(n)}; relaunching it under a new id in ${seconds(n.delayMs)} (retry ${n.retry} of ${n.max})`);
      signals.emit('taskRetry', { taskId: n.taskId, round: n.round, state: n.state });
      return;
    case 'acknowledged':
      log.debug({ taskId: n.taskId, state: n.state }, `acknowledged ${n.state} of task ${n.taskId}`);
      signals.emit('acknowledged', { taskId: n.taskId, state: n.state });
      return;
    case 'roundStarted':
      if (n.job === undefined) status.round = n.round;
      if (n.overlaps !== undefined) {
        const others = n.overlaps.length === 1 ? `round ${n.overlaps[0]}` : `rounds ${n.overlaps.join(', ')}`;
        log.info({ round: n.round, tasks: n.tasks, job: n.job, overlaps: n.overlaps },
          `${jobPrefix(n.job)}round ${n.round}: launching ${n.tasks} task${n.tasks === 1 ? '' : 's'} alongside ${others}, still running (concurrency allow)`);
      } else {
        log.info({ round: n.round, tasks: n.tasks, job: n.job }, `${jobPrefix(n.job)}round ${n.round}: launching ${n.tasks} task${n.tasks === 1 ? '' : 's'}`);
      }
      signals.emit('roundStarted', { round: n.round, tasks: n.tasks, ...(n.job !== undefined ? { job: n.job } : {}), ...(n.overlaps !== undefined ? { overlaps: n.overlaps } : {}) });
      return;
    case 'roundFinished':
      log.info({ round: n.round, finished: n.finished, failed: n.failed, job: n.job, ...(n.killed ? { killed: true } : {}) },
        `${jobPrefix(n.job)}round ${n.round} done: ${n.finished} finished, ${n.failed} failed${n.killed ? ' (killed: not a success)' : ''}`);
      signals.emit('roundFinished', {
        round: n.round, finished: n.finished, failed: n.failed, ...(n.job !== undefined ? { job: n.job } : {}), ...(n.killed ? { killed: true as const } : {}),
      });
      return;
    case 'cooldown':
      log.info({ round: n.round, seconds: n.seconds, job: n.job }, `${jobPrefix(n.job)}waiting ${n.seconds}s before round ${n.round + 1}, holding no resources`);
      signals.emit('cooldown', { round: n.round, until: sinks.now() + n.seconds * 1000, ...(n.job !== undefined ? { job: n.job } : {}) });
      return;
    case 'jobWaiting': {
      const why = n.parents !== undefined
        ? `for ${n.parents.length === 1 ? 'its parent' : 'its parents'} ${n.parents.join(', ')} to complete a successful round`
        : 'for its schedule';
      log.info({ job: n.job, round: n.round, parents: n.parents }, `${jobPrefix(n.job)}waiting ${why}, holding no resources`);
      return;
    }
    case 'jobsReloaded': {
      const lists: [string, string[]][] = [['added', n.added], ['changed (from their next round)', n.changed], ['removed (grace, then kill)', n.removed], ['unchanged', n.unchanged]];
      const parts = lists.filter(([, names]) => names.length > 0).map(([what, names]) => `${what}: ${names.join(', ')}`);
      log.info({ added: n.added, changed: n.changed, removed: n.removed, unchanged: n.unchanged }, `jobs file reloaded; ${parts.join('; ')}`);
      if (n.skipped.length > 0) log.warn({ skipped: n.skipped }, `not added again while their removal still drains: ${n.skipped.join(', ')} (reload once they are gone)`);
      return;
    }
    case 'jobRemoved':
      log.info({ job: n.job }, `${jobPrefix(n.job)}removed: its tasks have ended, the job is forgotten`);
      signals.emit('jobRemoved', { job: n.job });
      return;
    case 'startSkipped':
      if (n.reason === 'max-in-flight') {
        log.warn({ job: n.job, at: new Date(n.at).toISOString(), reason: n.reason, inFlight: n.inFlight },
          `${jobPrefix(n.job)}skipped the start due at ${new Date(n.at).toISOString()}: ${n.inFlight} rounds still run, its max-in-flight (concurrency allow)`);
      } else {
        log.warn({ job: n.job, at: new Date(n.at).toISOString(), reason: 'round-running' }, `${jobPrefix(n.job)}skipped the start due at ${new Date(n.at).toISOString()}: its last round still runs (concurrency forbid)`);
      }
      signals.emit('startSkipped', { job: n.job, reason: n.reason ?? 'round-running' });
      return;
    case 'rolesUpdated': {
      const change = [n.added.length > 0 ? `added ${n.added.join(', ')}` : '', n.removed.length > 0 ? `removed ${n.removed.join(', ')}` : ''].filter((x) => x !== '').join(', ');
      log.info({ roles: n.roles, added: n.added, removed: n.removed, sent: n.sent },
        `framework roles now ${n.roles.join(', ')} (${change}): ${n.sent ? 'UPDATE_FRAMEWORK sent' : 'the next SUBSCRIBE carries them'}`);
      return;
    }
    case 'suppressed':
      log.debug({ roles: n.roles }, n.roles ? `suppressed offers for ${n.roles.join(', ')}` : 'suppressed offers');
      signals.emit('suppressed');
      return;
    case 'revived':
      log.debug({ roles: n.roles }, n.roles ? `revived offers for ${n.roles.join(', ')}` : 'revived offers');
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
