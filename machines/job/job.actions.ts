/**
 * The job machine's named actions, built on its setup (job.setup.ts): offers,
 * updates and acknowledgements, task stepping and accounting, rounds, the
 * sweep and reconciliation. Calls, persisted states (with their deltas) and
 * notifications go out through the effect actions `sendCall`, `persist` and
 * `notify`, in the order they are enqueued.
 *
 * Tasks are data: each is its task machine snapshot in `context.active`,
 * stepped with the pure functions of machines/task/task.steps.ts; what a step
 * asks for (KILL, notifications, silence) is carried out here, and a task
 * that reaches an end state is counted and dropped in the same step.
 */
import { assign, enqueueActions } from 'xstate';
import type { Notification, PersistParams, SendCallParams, TaskInspection } from '../contract.js';
import type { JobEvent } from './job.context.js';
import type { TaskStatus } from '../../src/mesos/types.js';
import { acceptCall, acknowledgeCall, declineCall, killCall, launchOperation, reconcileCall, reviveCall, suppressCall } from '../policy/calls.js';
import { planOffers, plannedTaskCount } from '../policy/offer-plan.js';
import { buildTaskInfo } from '../policy/task-info.js';
import { decideTaskEnd } from '../policy/retry.js';
import { isTerminalState } from '../policy/task-status.js';
import { truncatedExponentialMs } from '../policy/backoff.js';
import type { TaskEvent } from '../task/task.machine.js';
import { INSPECTED_TASKS_PER_ROUND, isAwaitingFirstWord, startTask, stepTask, type TaskSnapshot, type TaskStep } from '../task/task.steps.js';
import { activeCount, noActiveTasks, persistParams, persistedTaskOf, type ActiveTasks, type EarlierRound, type JobContext, type RetryCarry } from './job.context.js';
import {
  allLaunched, asEarlier, currentAlive, currentOpen, currentWanted, earlierComplete, killRoundsInFlight, roundIsKilled, roundsInFlight, withEarlier, type EarlierFields,
} from './job.rounds.js';
import { jobSetup as base } from './job.setup.js';

/** What a step of the job hands to its effect actions, in order. */
type Effect =
  | { type: 'sendCall'; params: SendCallParams }
  | { type: 'notify'; params: Notification }
  | { type: 'persist'; params: PersistParams }
  | { type: 'inspectTask'; params: TaskInspection };

/** A task step for the inspector, for the first tasks of each round only. */
function inspection(snapshot: TaskSnapshot, event: TaskEvent | { type: 'xstate.init' }): Effect[] {
  const task = snapshot.context;
  if (task.index > INSPECTED_TASKS_PER_ROUND) return [];
  const seen: TaskInspection['snapshot'] = { value: snapshot.value, status: snapshot.status, context: task };
  if (snapshot.output !== undefined) seen.output = snapshot.output;
  return [{ type: 'inspectTask', params: { taskId: task.taskId, round: task.round, index: task.index, event, snapshot: seen } }];
}

/** The effects a task step asks for: its calls, notifications, and the inspector's view of it. */
function effectsOf(step: TaskStep, event: TaskEvent | { type: 'xstate.init' }): Effect[] {
  const effects: Effect[] = [];
  for (const params of step.calls) effects.push({ type: 'sendCall', params });
  for (const params of step.notes) effects.push({ type: 'notify', params });
  effects.push(...inspection(step.snapshot, event));
  return effects;
}

/** An earlier round that ended in a step (see job.rounds.ts). */
interface RoundDone {
  round: number;
  finished: number;
  failed: number;
  ok: boolean;
  killed: boolean;
}

/**
 * Tasks that reached their end in a step: counted in their round (finished
 * or failed; one that never reached the master counts neither way and is
 * taken back from its round's launches, so the planner launches another in
 * its place), dropped from the tasks in flight and from the reconciliation
 * in progress. An earlier round (`concurrency: allow`) whose last task ended
 * is finished here (`done`); the newest round is finished by the machine's
 * `roundComplete`. Returns the context changes and the notifications.
 */
function endTasks(context: JobContext, active: ActiveTasks, ended: readonly TaskStep[], unsentReason = ''): { next: JobContext; notes: Notification[]; removed: string[]; done: RoundDone[] } {
  let { finishedInRound, failedInRound, launchedInRound, allFinished, reconcileRemaining, retryQueue, taskRetries, rng } = context;
  let rounds: EarlierFields = context;
  const notes: Notification[] = [];
  const removed: string[] = [];
  const done: RoundDone[] = [];
  for (const step of ended) {
    const outcome = step.outcome;
    if (outcome === undefined) continue;
    const task = step.snapshot.context;
    removed.push(task.taskId);
    // The task's round: the newest (the context's counters) or an earlier one still in flight.
    const before = task.round === context.round ? undefined : rounds.earlier[task.round];
    const of = before === undefined ? undefined : { ...before, alive: before.alive - 1 };
    if (reconcileRemaining[task.taskId] === true) {
      const { [task.taskId]: _heard, ...rest } = reconcileRemaining;
      reconcileRemaining = rest;
    }
    if (!outcome.reached) {
      if (of === undefined) launchedInRound -= 1;
      else rounds = withEarlier(rounds, { ...of, launched: of.launched - 1 });
      notes.push({ type: 'taskUnlaunched', taskId: task.taskId, round: task.round, reason: unsentReason });
      continue;
    }
    const spent = taskRetries[task.taskId];
    if (spent !== undefined) {
      const { [task.taskId]: _done, ...rest } = taskRetries;
      taskRetries = rest;
    }
    // `retries`: a failure is relaunched while its chain has retries left; our own kills never are.
    const killedByUs = active.get(task.taskId)?.matches({ alive: 'killing' }) === true || roundIsKilled(context, task.round);
    const decision = outcome.ok ? undefined : decideTaskEnd(
      { state: outcome.state, killedByUs, reachedMaster: true, retriesSpent: spent ?? 0 }, context.config.retries, rng,
    );
    if (decision?.outcome === 'relaunch') {
      rng = decision.rngState;
      retryQueue = [...retryQueue, { delayMs: decision.delayMs, spent: (spent ?? 0) + 1, round: task.round }];
      if (of !== undefined) rounds = withEarlier(rounds, { ...of, retrying: of.retrying + 1 });
      const retry: Notification = {
        type: 'taskRetry', taskId: task.taskId, round: task.round, state: outcome.state,
        retry: (spent ?? 0) + 1, max: context.config.retries?.max ?? 0, delayMs: decision.delayMs,
      };
      if (outcome.reason !== undefined) retry.reason = outcome.reason;
      if (outcome.message !== undefined) retry.message = outcome.message;
      notes.push(retry);
      continue;
    }
    if (!outcome.ok) allFinished = false;
    if (of === undefined) {
      if (outcome.ok) finishedInRound += 1;
      else failedInRound += 1;
    } else {
      const after = outcome.ok ? { ...of, finished: of.finished + 1 } : { ...of, failed: of.failed + 1 };
      const complete = earlierComplete(after);
      rounds = withEarlier(rounds, after, complete);
      if (complete) {
        const killed = after.killed === true;
        done.push({ round: after.round, finished: after.finished, failed: after.failed, ok: after.failed === 0 && !killed, killed });
      }
    }
    const note: Notification = { type: 'taskEnded', taskId: task.taskId, round: task.round, state: outcome.state, ok: outcome.ok };
    if (outcome.reason !== undefined) note.reason = outcome.reason;
    if (outcome.message !== undefined) note.message = outcome.message;
    notes.push(note);
  }
  let { completedRounds, successfulRounds, lastRoundOk } = context;
  for (const r of done) {
    completedRounds += 1;
    if (r.ok) successfulRounds += 1;
    lastRoundOk = r.ok;
    notes.push({ type: 'roundFinished', round: r.round, finished: r.finished, failed: r.failed, ...jobTag(context), ...(r.killed ? { killed: true as const } : {}) });
  }
  const next: JobContext = {
    ...context,
    active: removed.length === 0 ? active : active.deleteAll(removed),
    finishedInRound, failedInRound, launchedInRound, allFinished, reconcileRemaining, retryQueue, taskRetries, rng,
    earlier: rounds.earlier, earlierAlive: rounds.earlierAlive, earlierWanting: rounds.earlierWanting,
    completedRounds, successfulRounds,
  };
  if (lastRoundOk !== undefined) next.lastRoundOk = lastRoundOk;
  return { next, notes, removed, done };
}

/** The context fields that endTasks may change, for `enqueue.assign`. */
function endedFields(next: JobContext): Partial<JobContext> {
  const {
    active, finishedInRound, failedInRound, launchedInRound, allFinished, reconcileRemaining, retryQueue, taskRetries, rng,
    earlier, earlierAlive, earlierWanting, completedRounds, successfulRounds, lastRoundOk,
  } = next;
  return {
    active, finishedInRound, failedInRound, launchedInRound, allFinished, reconcileRemaining, retryQueue, taskRetries, rng,
    earlier, earlierAlive, earlierWanting, completedRounds, successfulRounds, lastRoundOk,
  };
}

/** `--jobs`: the supervisor hears of each earlier round that ended (after its persist, like finishRound). */
function reportRoundsDone(next: JobContext, done: readonly RoundDone[], enqueue: { sendParent: (event: never) => void }): void {
  if (!next.shared) return;
  let successfulRounds = next.successfulRounds - done.filter((r) => r.ok).length;
  for (const r of done) {
    if (r.ok) successfulRounds += 1;
    enqueue.sendParent({ type: 'job.roundFinished', job: next.config.name, round: r.round, ok: r.ok, successfulRounds } as never);
  }
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
  const effects: Effect[] = [];
  const ended: TaskStep[] = [];
  for (const snapshot of context.active.values()) {
    const { taskId, agentId } = snapshot.context;
    const status: TaskStatus = {
      task_id: { value: taskId }, state: 'TASK_LOST', source: 'SOURCE_MASTER', reason: 'REASON_FRAMEWORK_REMOVED',
      message: 'framework removed by the master; Mesos killed its tasks',
    };
    if (agentId !== undefined) status.agent_id = { value: agentId };
    const event: TaskEvent = { type: 'task.status', status };
    const step = stepTask(snapshot, event);
    effects.push(...effectsOf(step, event));
    ended.push(step);
  }
  if (ended.length === 0) return;
  const { next, notes, removed, done } = endTasks(context, context.active, ended);
  enqueue.assign(endedFields(next));
  for (const effect of effects) enqueue(effect);
  for (const params of notes) enqueue({ type: 'notify', params });
  const { frameworkId: _gone, ...rest } = next;
  enqueue({ type: 'persist', params: persistParams(rest, { remove: removed }) });
  reportRoundsDone(next, done, enqueue);
}));

// ---------------------------------------------------------------------------
// Offers

function roleList(context: JobContext): string[] {
  return [context.role];
}

/** Asks for offers (REVIVE also clears our decline filters), unless every task of the round is launched. */
const reviveOffers = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (allLaunched(context)) return;
  enqueue.assign({ suppressed: false });
  enqueue.sendParent({ type: 'job.offersWanted', wanted: true, job: context.config.name });
  // --jobs: the supervisor REVIVEs the job's role (and repeats it as the job asks).
  if (!context.connected || context.shared) return;
  enqueue({ type: 'sendCall', params: { call: reviveCall(roleList(context)) } });
  enqueue({ type: 'notify', params: { type: 'revived' } });
}));

function suppress(force: boolean) {
  return base.createAction(enqueueActions(({ context, enqueue }) => {
    if (context.suppressed && !force) return;
    enqueue.assign({ suppressed: true });
    enqueue.sendParent({ type: 'job.offersWanted', wanted: false, job: context.config.name });
    // --jobs: the supervisor SUPPRESSes a role once no job of it wants offers.
    if (!context.connected || context.shared) return;
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
  enqueue.sendParent({ type: 'job.offersWanted', wanted: false, job: context.config.name });
  enqueue({ type: 'sendCall', params: { call: suppressCall(roleList(context)) } });
  enqueue({ type: 'notify', params: { type: 'suppressed' } });
}));

/**
 * Level-based launch: wanted = maxTasks − launched this round (and never more
 * than maxTasks alive). Every offer not used is declined, first; then
 * write-ahead: the new tasks are persisted as PENDING_LAUNCH (the delta's
 * upserts) before any ACCEPT goes out. Each new task takes the next index of
 * the round, so a task id is never used twice.
 */
const launchOnOffers = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.offers') return;
  const { config, timing } = context;
  const wanted = currentWanted(context);
  const plan = planOffers(event.offers, wanted, { cpus: config.cpus, memMb: config.memMb });
  const placed = plannedTaskCount(plan);
  const stillWanted = wanted - placed > 0;

  const launches: { offerId: string; agentId: string; tasks: ReturnType<typeof buildTaskInfo>[] }[] = [];
  const started: TaskSnapshot[] = [];
  let index = context.lastIndex;
  const active = placed === 0 ? context.active : context.active.withMutations((next) => {
    for (const use of plan.accept) {
      const agentId = use.offer.agent_id.value;
      const tasks: ReturnType<typeof buildTaskInfo>[] = [];
      for (const resources of use.tasks) {
        index += 1;
        const info = buildTaskInfo(config, context.round, index, agentId, resources);
        const taskId = info.task_id.value;
        const { snapshot } = startTask({ taskId, round: context.round, index, agentId, state: 'LAUNCHED', sweep: context.sweeps });
        next.set(taskId, snapshot);
        started.push(snapshot);
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
    const next: JobContext = { ...context, active, launchedInRound: context.launchedInRound + placed, lastIndex: index };
    enqueue.assign({ active, launchedInRound: next.launchedInRound, lastIndex: index });
    enqueue({ type: 'persist', params: persistParams(next, { upsert: started.map(persistedTaskOf) }) });
  }
  for (const launch of launches) {
    enqueue({ type: 'sendCall', params: { call: acceptCall([launch.offerId], [launchOperation(launch.tasks)], refuse) } });
  }
  for (const launch of launches) {
    for (const info of launch.tasks) {
      enqueue({ type: 'notify', params: { type: 'taskLaunched', taskId: info.task_id.value, round: context.round, agentId: launch.agentId } });
    }
  }
  for (const snapshot of started) for (const effect of inspection(snapshot, { type: 'xstate.init' })) enqueue(effect);
}));

/**
 * An ACCEPT never reached the master (RuntimeEvent `call.unsent`): its tasks
 * that were not heard of since (all of them, as the master never saw the
 * call) end as `unlaunched`. They leave the tasks in flight and the round's
 * launches without counting as failed, the delta records their removal, and
 * the round goes back to launching (the planner launches as many again, under
 * new task ids). A task the master did see is not touched here.
 */
const forgetUnsentLaunch = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'call.unsent' || event.call.type !== 'ACCEPT') return;
  const effects: Effect[] = [];
  const ended: TaskStep[] = [];
  for (const operation of event.call.accept?.operations ?? []) {
    for (const info of operation.launch?.task_infos ?? []) {
      const snapshot = context.active.get(info.task_id.value);
      if (snapshot === undefined) continue;
      const unsent: TaskEvent = { type: 'task.unsent' };
      const step = stepTask(snapshot, unsent);
      if (step.outcome === undefined) continue;
      effects.push(...effectsOf(step, unsent));
      ended.push(step);
    }
  }
  if (ended.length === 0) return;
  const { next, notes, removed } = endTasks(context, context.active, ended, event.reason);
  enqueue.assign(endedFields(next));
  for (const effect of effects) enqueue(effect);
  for (const params of notes) enqueue({ type: 'notify', params });
  enqueue({ type: 'persist', params: persistParams(next, { remove: removed }) });
}));

/**
 * `--jobs`: tasks the supervisor planned for this job (policy/offer-share.ts),
 * at most as many as its rounds in flight still want: the earlier rounds'
 * first, oldest first (`concurrency: allow`), then the newest's. Written
 * ahead as PENDING_LAUNCH like launchOnOffers; the LAUNCH operations go back
 * to the supervisor, which ACCEPTs each offer once with the operations of
 * every job placed on it. Always answers, with no launches when the job
 * takes none.
 */
const launchPlanned = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.launch') return;
  const { config } = context;
  // What each round wants, in launch order (the newest last, under its own counters).
  const wants: { round: number; count: number; earlier?: EarlierRound }[] = [];
  if (context.earlierWanting > 0) {
    for (const r of Object.values(context.earlier).sort((a, b) => a.round - b.round)) {
      const count = Math.max(0, r.maxTasks - r.launched);
      if (count > 0) wants.push({ round: r.round, count, earlier: r });
    }
  }
  const current = currentWanted(context);
  if (current > 0) wants.push({ round: context.round, count: current });
  const launches: { offerId: string; agentId: string; tasks: ReturnType<typeof buildTaskInfo>[] }[] = [];
  const started: TaskSnapshot[] = [];
  let index = context.lastIndex;
  let launchedInRound = context.launchedInRound;
  let rounds: EarlierFields = context;
  let retryCarry: RetryCarry[] = context.retryCarry;
  const taskRetries = { ...context.taskRetries };
  let want = 0;
  const nextIndex: Record<number, number> = {};
  const active = wants.length === 0 ? context.active : context.active.withMutations((next) => {
    for (const use of event.uses) {
      const agentId = use.offer.agent_id.value;
      const tasks: ReturnType<typeof buildTaskInfo>[] = [];
      for (const resources of use.tasks) {
        while (want < wants.length && wants[want]!.count === 0) want++;
        const of = wants[want];
        if (of === undefined) break;
        of.count -= 1;
        const round = of.round;
        let taskIndex: number;
        if (of.earlier === undefined) taskIndex = ++index;
        else taskIndex = nextIndex[round] = (nextIndex[round] ?? of.earlier.lastIndex) + 1;
        const info = buildTaskInfo(config, round, taskIndex, agentId, resources);
        // Each job of the file runs its tasks as its own `user` (CommandInfo.user overrides FrameworkInfo.user).
        if (info.command !== undefined) info.command.user = config.user;
        const taskId = info.task_id.value;
        const { snapshot } = startTask({ taskId, round, index: taskIndex, agentId, state: 'LAUNCHED', sweep: context.sweeps });
        next.set(taskId, snapshot);
        started.push(snapshot);
        tasks.push(info);
        // A relaunch: the new task carries its chain's retries.
        const carried = retryCarry.length === 0 ? -1 : retryCarry.findIndex((c) => c.round === round);
        if (carried >= 0) {
          taskRetries[taskId] = retryCarry[carried]!.spent;
          retryCarry = [...retryCarry.slice(0, carried), ...retryCarry.slice(carried + 1)];
        }
        if (of.earlier === undefined) launchedInRound += 1;
        else {
          const r = rounds.earlier[round]!;
          rounds = withEarlier(rounds, { ...r, launched: r.launched + 1, alive: r.alive + 1, lastIndex: taskIndex, retrying: r.retrying - (carried >= 0 ? 1 : 0) });
        }
      }
      if (tasks.length > 0) launches.push({ offerId: use.offer.id.value, agentId, tasks });
    }
  });
  const placed = started.length;
  if (placed > 0) {
    const changes = { active, launchedInRound, lastIndex: index, retryCarry, taskRetries, earlier: rounds.earlier, earlierAlive: rounds.earlierAlive, earlierWanting: rounds.earlierWanting };
    enqueue.assign(changes);
    enqueue({ type: 'persist', params: persistParams({ ...context, ...changes }, { upsert: started.map(persistedTaskOf) }) });
  }
  enqueue.sendParent({ type: 'job.launching', job: config.name, launches });
  for (const snapshot of started) {
    const { taskId, round, agentId } = snapshot.context;
    enqueue({ type: 'notify', params: { type: 'taskLaunched', taskId, round, agentId: agentId! } });
  }
  for (const snapshot of started) for (const effect of inspection(snapshot, { type: 'xstate.init' })) enqueue(effect);
}));

/** `--jobs`: a plan that came while the job launches nothing: it takes none (the supervisor declines the offers). */
const declinePlanned = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.launch') return;
  enqueue.sendParent({ type: 'job.launching', job: context.config.name, launches: [] });
}));

// ---------------------------------------------------------------------------
// Tasks

/** Restored tasks are data already (initialJobContext); the inspector learns of them here. */
const inspectRestoredTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  for (const snapshot of context.active.values()) for (const effect of inspection(snapshot, { type: 'xstate.init' })) enqueue(effect);
}));

/**
 * An update: steps the task it is about, ACKs it when it carries a uuid
 * (agent id, task id, uuid echoed; never one without). A terminal update is
 * persisted before it is acknowledged: once ACKed, Mesos forgets it, and a
 * restarted scheduler must still know how the task ended (the delta removes
 * the task and carries the round's counters). A non-terminal one is kept in
 * memory only and its ACK depends on no write: after a restart, reconciliation
 * of the written-ahead task tells its current state anyway. An update for a
 * task we do not track is reported, and if that task is alive it is killed:
 * an orphan would break the maxTasks promise.
 *
 * `mesos.updates` (the UPDATEs of one stream chunk) are stepped one after the
 * other in one action, each exactly as a `mesos.update` of its own would be
 * (the same effects in the same order); the context is assigned once.
 */
const recordUpdate = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.update' && event.type !== 'mesos.updates') return;
  /** One update on top of `ctx`: enqueues its effects, returns the context after it. */
  const apply = (ctx: JobContext, status: TaskStatus): JobContext => {
    const taskId = status.task_id.value;
    const known = ctx.active.get(taskId);
    let next = ctx;
    if (known === undefined) {
      enqueue({ type: 'notify', params: { type: 'unknownTask', taskId, state: status.state } });
      if (!isTerminalState(status.state) && ctx.connected) {
        enqueue({ type: 'sendCall', params: { call: killCall(taskId, status.agent_id?.value) } });
      }
    } else {
      let reconcileRemaining = ctx.reconcileRemaining;
      if (reconcileRemaining[taskId] === true) {
        const { [taskId]: _heard, ...rest } = reconcileRemaining;
        reconcileRemaining = rest;
      }
      const taskEvent: TaskEvent = { type: 'task.status', status };
      const step = stepTask(known, taskEvent);
      for (const effect of effectsOf(step, taskEvent)) enqueue(effect);
      if (step.outcome === undefined) {
        next = { ...ctx, active: ctx.active.set(taskId, step.snapshot), reconcileRemaining };
      } else {
        const ended = endTasks({ ...ctx, reconcileRemaining }, ctx.active, [step]);
        next = { ...ctx, ...endedFields(ended.next) };
        for (const params of ended.notes) enqueue({ type: 'notify', params });
        enqueue({ type: 'persist', params: persistParams(ended.next, { remove: ended.removed }) });
        reportRoundsDone(ended.next, ended.done, enqueue);
      }
    }
    if (status.uuid === undefined) return next;
    const agentId = status.agent_id?.value ?? known?.context.agentId;
    if (agentId === undefined) return next;
    const call = acknowledgeCall(agentId, taskId, status.uuid);
    enqueue({ type: 'sendCall', params: isTerminalState(status.state) ? { call } : { call, independent: true } });
    enqueue({ type: 'notify', params: { type: 'acknowledged', taskId, state: status.state } });
    return next;
  };
  let next = context;
  if (event.type === 'mesos.update') next = apply(next, event.status);
  else for (const status of event.statuses) next = apply(next, status);
  // The effects carry their own parameters, so one assign at the end is the same as one per update.
  if (next !== context) enqueue.assign(endedFields(next));
}));

/** Steps every task in flight with `kill`: the new map and the effects the steps return. */
function killEveryTask(context: JobContext, kill: TaskEvent): { active: ActiveTasks; effects: Effect[] } {
  const effects: Effect[] = [];
  const active = context.active.withMutations((next) => {
    for (const [taskId, snapshot] of context.active) {
      const step = stepTask(snapshot, kill);
      next.set(taskId, step.snapshot);
      effects.push(...effectsOf(step, kill));
    }
  });
  return { active, effects };
}

/** Graceful stop: every task is asked to end (its step sends KILL). */
const killAllTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  const { active, effects } = killEveryTask(context, { type: 'task.kill' });
  enqueue.assign({ active });
  for (const effect of effects) enqueue(effect);
}));

/**
 * Control API: kill the rounds in flight (the newest and, with `concurrency:
 * allow`, the earlier ones). No more of their tasks are launched or relaunched
 * (each counts as fully launched); every task is asked to end, with a kill
 * policy of the job's grace; each round is marked killed (written at once, so
 * a restart mid-kill keeps it) and ends `killed`: not a success, so no `after:`
 * child runs on it, and the exit status says some task did not finish.
 */
const killRound = base.createAction(enqueueActions(({ context, enqueue }) => {
  const { active, effects } = killEveryTask(context, { type: 'task.kill', graceSeconds: context.config.graceSeconds });
  const changes: Partial<JobContext> = { ...killRoundsInFlight(context, true), active };
  enqueue.assign(changes);
  enqueue({ type: 'persist', params: persistParams({ ...context, ...changes }) });
  for (const effect of effects) enqueue(effect);
}));

/**
 * A stop's or a removal's grace is over: the rounds in flight are ended by us
 * (marked killed and written, as job.kill does, but the exit status still
 * follows the tasks: a clean stop keeps its documented status), then every
 * task is asked to end.
 */
const killForStop = base.createAction(enqueueActions(({ context, enqueue }) => {
  const { active, effects } = killEveryTask(context, { type: 'task.kill' });
  const changes: Partial<JobContext> = { ...killRoundsInFlight(context, false), active };
  enqueue.assign(changes);
  enqueue({ type: 'persist', params: persistParams({ ...context, ...changes }) });
  for (const effect of effects) enqueue(effect);
}));

/**
 * Restored while a round was being killed (job.kill or a stop's kill, then a
 * restart): its tasks are asked to end again (the KILL may never have gone
 * out), so none of them is retried and the round still ends killed.
 */
const killRestoredRounds = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (!context.roundKilled && !Object.values(context.earlier).some((r) => r.killed === true)) return;
  const kill: TaskEvent = { type: 'task.kill', graceSeconds: context.config.graceSeconds };
  const effects: Effect[] = [];
  const active = context.active.withMutations((next) => {
    for (const [taskId, snapshot] of context.active) {
      if (!roundIsKilled(context, snapshot.context.round)) continue;
      const step = stepTask(snapshot, kill);
      next.set(taskId, step.snapshot);
      effects.push(...effectsOf(step, kill));
    }
  });
  enqueue.assign({ active });
  for (const effect of effects) enqueue(effect);
}));

/**
 * The job stops (drained after a stop or a removal, or stopped now): every
 * round still in flight is over. Each is said to have ended (the run history
 * closes it): `killed` when we cut it short (not every task launched, tasks
 * still alive, or killed after the grace), else with what its tasks did (a
 * round whose tasks all ended within the grace). Notifications only: the
 * job's counters and the exit status stay as the tasks left them.
 */
const endRoundsInFlight = base.createAction(enqueueActions(({ context, enqueue }) => {
  const tag = jobTag(context);
  for (const r of Object.values(context.earlier).sort((a, b) => a.round - b.round)) {
    enqueue({ type: 'notify', params: { type: 'roundFinished', round: r.round, finished: r.finished, failed: r.failed, ...tag, killed: true } });
  }
  if (!currentOpen(context)) return;
  const complete = context.launchedInRound >= context.config.maxTasks && currentAlive(context) === 0
    && !context.retryQueue.some((r) => r.round === context.round) && !context.retryCarry.some((r) => r.round === context.round);
  const killed = context.roundKilled || !complete;
  enqueue({
    type: 'notify',
    params: { type: 'roundFinished', round: context.round, finished: context.finishedInRound, failed: context.failedInRound, ...tag, ...(killed ? { killed: true as const } : {}) },
  });
}));

/** Control API: pause or resume, written at once so that a restart or a standby keeps it. */
const pause = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (context.paused) return;
  enqueue.assign({ paused: true });
  enqueue({ type: 'persist', params: persistParams({ ...context, paused: true }) });
}));
const resume = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (!context.paused) return;
  enqueue.assign({ paused: false });
  enqueue({ type: 'persist', params: persistParams({ ...context, paused: false }) });
}));

/** Stop now: KILL every task right away (before the framework's TEARDOWN). */
const killAllNow = base.createAction(enqueueActions(({ context, enqueue }) => {
  if (!context.connected) return;
  for (const snapshot of context.active.values()) {
    const { taskId, agentId } = snapshot.context;
    enqueue({ type: 'sendCall', params: { call: killCall(taskId, agentId) } });
  }
}));

const persistState = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'persist', params: persistParams(context) });
}));

/**
 * The sweep (level-based, once per `sweepPeriod`): counts one more sweep and
 * asks each task not heard of since its launch whether it has been silent
 * for a whole sweep; those that have are raised as `job.silent` for the
 * reconciliation region. The sweep is the job's only clock for tasks: no task
 * has a timer of its own.
 */
const sweepTasks = base.createAction(enqueueActions(({ context, enqueue }) => {
  const sweeps = context.sweeps + 1;
  enqueue.assign({ sweeps });
  const sweep: TaskEvent = { type: 'task.sweep', sweep: sweeps };
  const silent: string[] = [];
  for (const snapshot of context.active.values()) {
    if (!isAwaitingFirstWord(snapshot)) continue;
    // The step changes nothing in the task (it only reports), so the snapshot stays.
    if (stepTask(snapshot, sweep).silent) silent.push(snapshot.context.taskId);
  }
  if (silent.length > 0) enqueue.raise({ type: 'job.silent', taskIds: silent });
}));

// ---------------------------------------------------------------------------
// Rounds

/** Starts the round after `context.round`; `overlaps`: the rounds still in flight it runs alongside. */
function beginRound(context: JobContext, event: JobEvent, overlaps: number[] = []): { changes: Partial<JobContext>; effects: Effect[] } {
  const round = context.round + 1;
  let position = context.position;
  if (event.type === 'job.start') {
    position = { ...position };
    if (event.at !== undefined) {
      position.lastStartAt = event.at;
      position.anchorAt ??= event.at;
    }
    if (event.consumed !== undefined) position.consumed = { ...event.consumed };
  }
  // A reload's new definition takes effect with this round.
  const config = context.nextConfig ?? context.config;
  const changes: Partial<JobContext> = {
    config, nextConfig: undefined, round, phase: 'round', roundKilled: false, launchedInRound: 0, finishedInRound: 0, failedInRound: 0, lastIndex: 0, position,
    earlier: context.earlier, earlierAlive: context.earlierAlive, earlierWanting: context.earlierWanting,
  };
  const { nextConfig: _taken, ...rest } = context;
  const next: JobContext = { ...rest, ...changes } as JobContext;
  return {
    changes,
    effects: [
      { type: 'notify', params: { type: 'roundStarted', round, tasks: config.maxTasks, ...jobTag(context), ...(overlaps.length > 0 ? { overlaps } : {}) } },
      { type: 'persist', params: persistParams(next) },
    ],
  };
}

const startNextRound = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  const { changes, effects } = beginRound(context, event);
  enqueue.assign(changes);
  for (const effect of effects) enqueue(effect);
}));

/**
 * `concurrency: allow`: a start (or run now) while rounds are in flight: the
 * newest round, when it still runs, becomes an earlier one with its own
 * counters (job.rounds.ts), and the next round starts at once; its tasks are
 * launched alongside theirs, and each round ends on its own.
 */
const startOverlappingRound = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  const overlaps = roundsInFlight(context).sort((a, b) => a - b);
  const rounds: EarlierFields = currentOpen(context) ? withEarlier(context, asEarlier(context)) : context;
  const { changes, effects } = beginRound({ ...context, earlier: rounds.earlier, earlierAlive: rounds.earlierAlive, earlierWanting: rounds.earlierWanting }, event, overlaps);
  enqueue.assign(changes);
  for (const effect of effects) enqueue(effect);
}));

/** `--jobs`: the job's name on its round notifications (the log says which job a line is about). */
function jobTag(context: JobContext): { job?: string } {
  return context.shared ? { job: context.config.name } : {};
}

const resumeRestored = base.createAction(assign({ resume: undefined }));

/** The newest round has ended: a success when every task finished and we did not kill it. */
const finishRound = base.createAction(enqueueActions(({ context, enqueue }) => {
  const completedRounds = context.completedRounds + 1;
  const cooldownMs = Math.max(0, context.config.waitSeconds * 1000);
  const killed = context.roundKilled;
  const ok = context.failedInRound === 0 && !killed;
  const successfulRounds = context.successfulRounds + (ok ? 1 : 0);
  enqueue.assign({ completedRounds, phase: 'cooldown', cooldownMs, successfulRounds, lastRoundOk: ok, roundKilled: false });
  enqueue({
    type: 'notify',
    params: { type: 'roundFinished', round: context.round, finished: context.finishedInRound, failed: context.failedInRound, ...jobTag(context), ...(killed ? { killed: true as const } : {}) },
  });
  enqueue({ type: 'persist', params: persistParams({ ...context, completedRounds, phase: 'cooldown', successfulRounds, lastRoundOk: ok, roundKilled: false }) });
  if (context.shared) enqueue.sendParent({ type: 'job.roundFinished', job: context.config.name, round: context.round, ok, successfulRounds });
}));

/**
 * `retries`: the first relaunch in the queue has waited its backoff: the round
 * wants one more task (launching takes it back up), which carries the
 * retries of its chain.
 */
const releaseRetry = base.createAction(enqueueActions(({ context, enqueue }) => {
  const [first, ...rest] = context.retryQueue;
  if (first === undefined) return;
  const retryCarry = [...context.retryCarry, { spent: first.spent, round: first.round }];
  // The relaunch belongs to its task's round: the newest's or an earlier one still in flight.
  const earlier = first.round === context.round ? undefined : context.earlier[first.round];
  const changes: Partial<JobContext> = earlier === undefined
    ? { retryQueue: rest, retryCarry, launchedInRound: context.launchedInRound - 1 }
    : { retryQueue: rest, retryCarry, ...withEarlier(context, { ...earlier, launched: earlier.launched - 1 }) };
  enqueue.assign(changes);
  enqueue({ type: 'persist', params: persistParams({ ...context, ...changes }) });
}));

/** `--jobs` reload: keep the new definition for the next round; a change of trigger applies at once. */
const updateDefinition = base.createAction(enqueueActions(({ event, enqueue }) => {
  if (event.type !== 'job.update') return;
  enqueue.assign({ nextConfig: event.config, triggered: event.triggered });
}));

/**
 * `--jobs`: a `job.start` the job cannot take (it was paused, or another round
 * may not start alongside, after the supervisor decided to start it): it goes
 * back to the supervisor, which keeps it for when the job is idle again, or
 * skips it and says so, instead of it being lost.
 */
const refuseStart = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.start' || !context.shared) return;
  const start: { at?: number; consumed?: Record<string, number> } = {};
  if (event.at !== undefined) start.at = event.at;
  if (event.consumed !== undefined) start.consumed = event.consumed;
  enqueue.sendParent({ type: 'job.startRefused', job: context.config.name, start, paused: context.paused, inFlight: roundsInFlight(context).length } as never);
}));

/** `--jobs`: the job waits for a start; the supervisor gives it one that waited, or one its parents allow. */
const reportIdle = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue.sendParent({ type: 'job.idle', job: context.config.name, round: context.round });
}));

const announceCooldown = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'notify', params: { type: 'cooldown', round: context.round, seconds: context.cooldownMs / 1000, ...jobTag(context) } });
}));

// ---------------------------------------------------------------------------
// Reconciliation (docs/reconciliation.md)

function reconcileTargets(context: JobContext, ids: Iterable<string>): { taskId: string; agentId?: string }[] {
  const out: { taskId: string; agentId?: string }[] = [];
  for (const id of ids) {
    const task = context.active.get(id)?.context;
    if (task === undefined) continue;
    const agentId = task.agentId;
    out.push(agentId === undefined ? { taskId: id } : { taskId: id, agentId });
  }
  return out;
}

/** Every task in flight after a (re)subscription; only the silent ones when the sweep found some. */
const beginReconciliation = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  const remaining: Record<string, true> = {};
  const ids = event.type === 'job.silent' ? event.taskIds : context.active.keys();
  for (const id of ids) remaining[id] = true;
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

/** Silent tasks join the reconciliation in progress. */
const reconcileSilentTasks = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.silent') return;
  const remaining = { ...context.reconcileRemaining };
  for (const id of event.taskIds) if (context.active.has(id)) remaining[id] = true;
  enqueue.assign({ reconcileRemaining: remaining });
}));

/** An agent was removed: ask the master about our tasks there now rather than wait for their updates. */
const reconcileAgentTasks = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.failure' || event.agentId === undefined || event.executorId !== undefined || !context.connected) return;
  const tasks: { taskId: string; agentId: string }[] = [];
  for (const t of context.active.values()) if (t.context.agentId === event.agentId) tasks.push({ taskId: t.context.taskId, agentId: event.agentId });
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
  reviveOffers, ensureSuppressed, declineOffers, launchOnOffers, forgetUnsentLaunch, launchPlanned, declinePlanned,
  inspectRestoredTasks, recordUpdate, killAllTasks, killAllNow, killRound, killForStop, killRestoredRounds, endRoundsInFlight, pause, resume, persistState, sweepTasks,
  startNextRound, startOverlappingRound, resumeRestored, finishRound, announceCooldown, reportIdle, refuseStart, releaseRetry, updateDefinition,
  beginReconciliation, retryReconciliation, reconcileImplicitly, reconcileSilentTasks, reconcileAgentTasks,
};
