/**
 * The job machine's named actions, built on its setup (job.setup.ts): offers,
 * updates and acknowledgements, task accounting, rounds and reconciliation.
 * Calls, persisted states and notifications go out through the effect actions
 * `sendCall`, `persist` and `notify`, in the order they are enqueued.
 */
import { assign, enqueueActions } from 'xstate';
import type { Notification } from '../contract.js';
import type { TaskStatus } from '../../src/mesos/types.js';
import type { TaskInput } from '../task/task.machine.js';
import { acceptCall, acknowledgeCall, declineCall, killCall, launchOperation, reconcileCall, reviveCall, suppressCall } from '../policy/calls.js';
import { planOffers, plannedTaskCount } from '../policy/offer-plan.js';
import { buildTaskInfo } from '../policy/task-info.js';
import { isSuccessState, isTerminalState } from '../policy/task-status.js';
import { truncatedExponentialMs } from '../policy/backoff.js';
import { activeCount, noActiveTasks, persistParams, taskActorId, type ActiveTask, type JobContext } from './job.context.js';
import { jobSetup as base } from './job.setup.js';

/**
 * One task actor per input (its id from taskActorId), all spawned by one assign:
 * xstate copies the machine's `children` once per spawning action, so
 * spawning a batch this way costs one copy where a `spawnChild` per task
 * would cost one per task (quadratic in the tasks tracked).
 */
function spawnTasks(inputs: TaskInput[]) {
  return ({ spawn }: { spawn: (src: 'task', options: { id: string; input: TaskInput }) => unknown }) => {
    for (const input of inputs) spawn('task', { id: taskActorId(input.index), input });
    return {};
  };
}

// ---------------------------------------------------------------------------
// Connection

const recordSubscription = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.subscribed') return;
  enqueue.assign({ connected: true, frameworkId: event.frameworkId });
  // Persist the framework id as soon as SUBSCRIBED arrives (HA guide).
  if (context.frameworkId !== event.frameworkId) {
    enqueue({ type: 'persist', params: persistParams({ ...context, frameworkId: event.frameworkId }) });
  }
}));

const recordDisconnection = base.createAction(assign({ connected: false }));

/** The master removed the framework: its id is gone, a new one comes with the next SUBSCRIBED. */
const forgetFramework = base.createAction(enqueueActions(({ context, enqueue }) => {
  const { frameworkId: _gone, ...rest } = context;
  enqueue.assign({ frameworkId: undefined, connected: false });
  enqueue({ type: 'persist', params: persistParams(rest) });
}));

/** Mesos killed every task of a removed framework: they end as TASK_LOST. */
const loseAllTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  for (const task of context.active.values()) {
    const status: TaskStatus = {
      task_id: { value: task.taskId }, state: 'TASK_LOST', source: 'SOURCE_MASTER', reason: 'REASON_FRAMEWORK_REMOVED',
      message: 'framework removed by the master; Mesos killed its tasks',
    };
    if (task.agentId !== undefined) status.agent_id = { value: task.agentId };
    enqueue.sendTo(taskActorId(task.index), { type: 'task.status', status });
  }
}));

// ---------------------------------------------------------------------------
// Offers

function roleList(context: JobContext): string[] {
  return [context.role];
}

/** Asks for offers (REVIVE also clears our decline filters), unless every task of the round is launched. */
const reviveOffers = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (context.launchedInRound >= context.config.maxTasks) return;
  enqueue.assign({ suppressed: false });
  enqueue.sendParent({ type: 'job.offersWanted', wanted: true });
  if (!context.connected) return;
  enqueue({ type: 'sendCall', params: { call: reviveCall(roleList(context)) } });
  enqueue({ type: 'notify', params: { type: 'revived' } });
}));

function suppress(force: boolean) {
  return base.createAction(enqueueActions(({ context, enqueue }) => {
    if (context.suppressed && !force) return;
    enqueue.assign({ suppressed: true });
    enqueue.sendParent({ type: 'job.offersWanted', wanted: false });
    if (!context.connected) return;
    enqueue({ type: 'sendCall', params: { call: suppressCall(roleList(context)) } });
    enqueue({ type: 'notify', params: { type: 'suppressed' } });
  }));
}

/** SUPPRESS unless already suppressed. */
const ensureSuppressed = suppress(false);

/** Offers while none are wanted: decline them all for long, and SUPPRESS again (it may have been lost). */
const declineOffers = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.offers' || event.offers.length === 0) return;
  enqueue({ type: 'sendCall', params: { call: declineCall(event.offers.map((o) => o.id.value), context.timing.declineIdleSeconds) } });
  enqueue.assign({ suppressed: true });
  enqueue.sendParent({ type: 'job.offersWanted', wanted: false });
  enqueue({ type: 'sendCall', params: { call: suppressCall(roleList(context)) } });
  enqueue({ type: 'notify', params: { type: 'suppressed' } });
}));

/**
 * Level-based launch: wanted = maxTasks − launched this round (and never more
 * than maxTasks alive). Every offer not used is declined, first; then
 * write-ahead: the new tasks are persisted as PENDING_LAUNCH before any
 * ACCEPT goes out.
 */
const launchOnOffers = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.offers') return;
  const { config, timing } = context;
  const alive = activeCount(context);
  const wanted = Math.max(0, Math.min(config.maxTasks - context.launchedInRound, config.maxTasks - alive));
  const plan = planOffers(event.offers, wanted, { cpus: config.cpus, memMb: config.memMb });
  const placed = plannedTaskCount(plan);
  const stillWanted = wanted - placed > 0;

  const launches: { offerId: string; agentId: string; tasks: ReturnType<typeof buildTaskInfo>[] }[] = [];
  const spawned: TaskInput[] = [];
  let index = context.launchedInRound;
  const active = placed === 0 ? context.active : context.active.withMutations((next) => {
    for (const use of plan.accept) {
      const agentId = use.offer.agent_id.value;
      const tasks: ReturnType<typeof buildTaskInfo>[] = [];
      for (const resources of use.tasks) {
        index += 1;
        const info = buildTaskInfo(config, context.round, index, agentId, resources);
        const taskId = info.task_id.value;
        next.set(taskId, { taskId, agentId, round: context.round, index, state: 'PENDING_LAUNCH' });
        spawned.push({ taskId, round: context.round, index, agentId, state: 'LAUNCHED', launchTimeoutMs: timing.launchTimeoutMs });
        tasks.push(info);
      }
      launches.push({ offerId: use.offer.id.value, agentId, tasks });
    }
  });

  const refuse = stillWanted ? timing.declineWantedSeconds : timing.declineIdleSeconds;
  // The offers not used are declined first: a DECLINE needs no write-ahead, so
  // it does not wait for the write below (nor for the ACCEPTs behind it).
  if (plan.decline.length > 0) {
    enqueue({ type: 'sendCall', params: { call: declineCall(plan.decline.map((o) => o.id.value), refuse) } });
  }
  if (placed > 0) {
    const next: JobContext = { ...context, active, launchedInRound: context.launchedInRound + placed };
    enqueue.assign({ active, launchedInRound: next.launchedInRound });
    enqueue({ type: 'persist', params: persistParams(next) });
  }
  for (const launch of launches) {
    enqueue({ type: 'sendCall', params: { call: acceptCall([launch.offerId], [launchOperation(launch.tasks)], refuse) } });
  }
  if (spawned.length > 0) enqueue.assign(spawnTasks(spawned));
  for (const launch of launches) {
    for (const info of launch.tasks) {
      enqueue({ type: 'notify', params: { type: 'taskLaunched', taskId: info.task_id.value, round: context.round, agentId: launch.agentId } });
    }
  }
}));

// ---------------------------------------------------------------------------
// Tasks

/** Restored tasks get their actors back (in the state last known). */
const spawnRestoredTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  const inputs: TaskInput[] = [];
  for (const task of context.active.values()) {
    const input: TaskInput = {
      taskId: task.taskId, round: task.round, index: task.index, state: task.state, launchTimeoutMs: context.timing.launchTimeoutMs,
    };
    if (task.agentId !== undefined) input.agentId = task.agentId;
    inputs.push(input);
  }
  if (inputs.length > 0) enqueue.assign(spawnTasks(inputs));
}));

/**
 * Records an update of a known task and forwards it to the task's actor. A
 * terminal update is persisted before it is acknowledged: once ACKed, Mesos
 * forgets it, and a restarted scheduler must still know how the task ended.
 * A non-terminal one is recorded in memory only (it goes out with the next
 * write): after a restart, reconciliation of the written-ahead task tells its
 * current state anyway. An update for a task we do not track is reported, and
 * if that task is alive it is killed: an orphan would break the maxTasks
 * promise.
 */
const recordUpdate = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.update') return;
  const status = event.status;
  const taskId = status.task_id.value;
  const known = context.active.get(taskId);
  if (known === undefined) {
    enqueue({ type: 'notify', params: { type: 'unknownTask', taskId, state: status.state } });
    if (!isTerminalState(status.state) && context.connected) {
      enqueue({ type: 'sendCall', params: { call: killCall(taskId, status.agent_id?.value) } });
    }
    return;
  }
  const agentId = status.agent_id?.value ?? known.agentId;
  const changed = known.state !== status.state || known.agentId !== agentId;
  if (context.reconcileRemaining[taskId] === true) {
    const { [taskId]: _heard, ...remaining } = context.reconcileRemaining;
    enqueue.assign({ reconcileRemaining: remaining });
  }
  if (changed) {
    const updated: ActiveTask = { ...known, state: status.state };
    if (agentId !== undefined) updated.agentId = agentId;
    const active = context.active.set(taskId, updated);
    enqueue.assign({ active });
    if (isTerminalState(status.state)) enqueue({ type: 'persist', params: persistParams({ ...context, active }) });
  }
  enqueue.sendTo(taskActorId(known.index), { type: 'task.status', status });
}));

/**
 * ACK every update that carries a uuid (agent id, task id, uuid echoed), never
 * one without. The ACK of a terminal update waits for the write recording it
 * (recordUpdate persists it first); any other depends on no write.
 */
const acknowledgeUpdate = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.update' || event.status.uuid === undefined) return;
  const status = event.status;
  const agentId = status.agent_id?.value ?? context.active.get(status.task_id.value)?.agentId;
  if (agentId === undefined) return;
  const call = acknowledgeCall(agentId, status.task_id.value, status.uuid as string);
  enqueue({ type: 'sendCall', params: isTerminalState(status.state) ? { call } : { call, independent: true } });
  enqueue({ type: 'notify', params: { type: 'acknowledged', taskId: status.task_id.value, state: status.state } });
}));

/** A task actor ended: count it, forget it, stop its actor. */
const countEndedTask = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'task.ended') return;
  const known = context.active.get(event.taskId);
  if (known === undefined) return;
  const active = context.active.delete(event.taskId);
  let reconcileRemaining = context.reconcileRemaining;
  if (reconcileRemaining[event.taskId] === true) {
    const { [event.taskId]: _heard, ...rest } = reconcileRemaining;
    reconcileRemaining = rest;
  }
  const ok = isSuccessState(event.state);
  const next: JobContext = {
    ...context, active, reconcileRemaining,
    finishedInRound: context.finishedInRound + (ok ? 1 : 0),
    failedInRound: context.failedInRound + (ok ? 0 : 1),
    allFinished: context.allFinished && ok,
  };
  enqueue.assign({ active, reconcileRemaining, finishedInRound: next.finishedInRound, failedInRound: next.failedInRound, allFinished: next.allFinished });
  const note: Notification = { type: 'taskEnded', taskId: event.taskId, round: known.round, state: event.state, ok };
  if (event.reason !== undefined) note.reason = event.reason;
  if (event.message !== undefined) note.message = event.message;
  enqueue({ type: 'notify', params: note });
  enqueue({ type: 'persist', params: persistParams(next) });
  enqueue.stopChild(taskActorId(known.index));
}));

/** Graceful stop: ask every task actor to KILL its task. */
const killAllTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  for (const task of context.active.values()) enqueue.sendTo(taskActorId(task.index), { type: 'task.kill' });
}));

/** Stop now: KILL every task right away (before the framework's TEARDOWN). */
const killAllNow = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (!context.connected) return;
  for (const task of context.active.values()) {
    enqueue({ type: 'sendCall', params: { call: killCall(task.taskId, task.agentId) } });
  }
}));

const persistState = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'persist', params: persistParams(context) });
}));

// ---------------------------------------------------------------------------
// Rounds

const startNextRound = base.createAction(enqueueActions(({ context, enqueue }) => {
  const round = context.round + 1;
  const next: JobContext = { ...context, round, phase: 'round', launchedInRound: 0, finishedInRound: 0, failedInRound: 0, active: noActiveTasks };
  enqueue.assign({ round, phase: 'round', launchedInRound: 0, finishedInRound: 0, failedInRound: 0 });
  enqueue({ type: 'notify', params: { type: 'roundStarted', round, tasks: context.config.maxTasks } });
  enqueue({ type: 'persist', params: persistParams(next) });
}));

const resumeRestored = base.createAction(assign({ resume: undefined }));

const finishRound = base.createAction(enqueueActions(({ context, enqueue }) => {
  const completedRounds = context.completedRounds + 1;
  const cooldownMs = Math.max(0, context.config.waitSeconds * 1000);
  enqueue.assign({ completedRounds, phase: 'cooldown', cooldownMs });
  enqueue({ type: 'notify', params: { type: 'roundFinished', round: context.round, finished: context.finishedInRound, failed: context.failedInRound } });
  enqueue({ type: 'persist', params: persistParams({ ...context, completedRounds, phase: 'cooldown' }) });
}));

const announceCooldown = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'notify', params: { type: 'cooldown', round: context.round, seconds: context.cooldownMs / 1000 } });
}));

// ---------------------------------------------------------------------------
// Reconciliation (docs/reconciliation.md)

function reconcileTargets(context: JobContext, ids: Iterable<string>): { taskId: string; agentId?: string }[] {
  const out: { taskId: string; agentId?: string }[] = [];
  for (const id of ids) {
    const task = context.active.get(id);
    if (task === undefined) continue;
    out.push(task.agentId === undefined ? { taskId: id } : { taskId: id, agentId: task.agentId });
  }
  return out;
}

const beginReconciliation = base.createAction(enqueueActions(({ context, enqueue }) => {
  const remaining: Record<string, true> = {};
  for (const id of context.active.keys()) remaining[id] = true;
  enqueue.assign({ reconcileRemaining: remaining, reconcileAttempt: 0, reconcileDelayMs: context.timing.reconcileInitialMs });
  const tasks = reconcileTargets(context, Object.keys(remaining));
  if (tasks.length === 0 || !context.connected) return;
  enqueue({ type: 'sendCall', params: { call: reconcileCall(tasks) } });
  enqueue({ type: 'notify', params: { type: 'reconcile', tasks: tasks.length, attempt: 0, implicit: false } });
}));

const retryReconciliation = base.createAction(enqueueActions(({ context, enqueue }) => {
  const attempt = context.reconcileAttempt + 1;
  enqueue.assign({
    reconcileAttempt: attempt,
    reconcileDelayMs: truncatedExponentialMs(attempt, context.timing.reconcileInitialMs, context.timing.reconcileMaxMs),
  });
  const tasks = reconcileTargets(context, Object.keys(context.reconcileRemaining));
  if (tasks.length === 0 || !context.connected) return;
  enqueue({ type: 'sendCall', params: { call: reconcileCall(tasks) } });
  enqueue({ type: 'notify', params: { type: 'reconcile', tasks: tasks.length, attempt, implicit: false } });
}));

/** A silent task joins the reconciliation in progress. */
const reconcileSilentTask = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'task.silent' || !context.active.has(event.taskId)) return;
  enqueue.assign({ reconcileRemaining: { ...context.reconcileRemaining, [event.taskId]: true } });
}));

/** An agent was removed: ask the master about our tasks there now rather than wait for their updates. */
const reconcileAgentTasks = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.failure' || event.agentId === undefined || event.executorId !== undefined || !context.connected) return;
  const tasks: { taskId: string; agentId: string }[] = [];
  for (const t of context.active.values()) if (t.agentId === event.agentId) tasks.push({ taskId: t.taskId, agentId: event.agentId });
  if (tasks.length === 0) return;
  enqueue({ type: 'sendCall', params: { call: reconcileCall(tasks) } });
  enqueue({ type: 'notify', params: { type: 'reconcile', tasks: tasks.length, attempt: 0, implicit: false } });
}));

const reconcileImplicitly = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (!context.connected) return;
  enqueue({ type: 'sendCall', params: { call: reconcileCall([]) } });
  enqueue({ type: 'notify', params: { type: 'reconcile', tasks: 0, attempt: 0, implicit: true } });
}));


export const jobActions = {
  recordSubscription, recordDisconnection, forgetFramework, loseAllTasks,
  reviveOffers, ensureSuppressed, declineOffers, launchOnOffers,
  spawnRestoredTasks, recordUpdate, acknowledgeUpdate, countEndedTask, killAllTasks, killAllNow, persistState,
  startNextRound, resumeRestored, finishRound, announceCooldown,
  beginReconciliation, retryReconciliation, reconcileImplicitly, reconcileSilentTask, reconcileAgentTasks,
};
