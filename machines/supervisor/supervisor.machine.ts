/**
 * The supervisor (`--jobs`): one framework, many jobs. Invoked by the
 * framework machine in place of the single job (same events in, same
 * `job.offersWanted` and output out), it runs one job actor per job of the
 * file (few and long-lived; each keeps its tasks) and one clock actor per
 * scheduled job.
 *
 * - Offers: one OFFERS event is planned across the jobs that are launching
 *   (policy/offer-share.ts: priority, round-robin among equals, role,
 *   constraints, disk); each job gets `job.launch` with its tasks' resources,
 *   writes them ahead and answers with its LAUNCH tasks; once every job has
 *   answered, each offer is ACCEPTed once with the tasks of every job on it.
 *   What no job uses is declined at once.
 * - REVIVE when a job wants offers, SUPPRESS a role when no job of it does
 *   (MULTI_ROLE: per role); the framework re-subscribes with those roles
 *   suppressed.
 * - Status updates go to the job whose name starts the task id; an update of
 *   no job's task is acknowledged, and the task killed while it runs.
 * - Starts: a job with a `schedule` starts when its clock says (concurrency
 *   `forbid` skips a start while its round runs, `allow` starts another round
 *   alongside the running ones, up to `max-in-flight`); a job with `after` starts when every parent has completed
 *   a successful round since its last one (Chronos's rule,
 *   policy/dependencies.ts); other jobs run rounds and cooldowns on their own.
 * - Stop, stop now and handover go to every job; the supervisor ends when
 *   every job has ended. Its output: completed when every job completed its
 *   rounds; every task finished only if every job's last round succeeded.
 */
import { enqueueActions, setup } from 'xstate';
import type { JobRun, Notification, SendCallParams } from '../contract.js';
import type { TaskInfo, TaskStatus } from '../../src/mesos/types.js';
import { acceptCall, acknowledgeCall, declineCall, killCall, launchOperation, reviveCall, suppressCall } from '../policy/calls.js';
import { consume, isReady } from '../policy/dependencies.js';
import { diffJobs, sameData } from '../policy/jobs-diff.js';
import { planSharedOffers } from '../policy/offer-share.js';
import { decideStart } from '../policy/schedule.js';
import { isTerminalState } from '../policy/task-status.js';
import type { JobContext, JobOutput } from '../job/job.context.js';
import { maxInFlight, mayOverlap, roundsInFlight } from '../job/job.rounds.js';
import { jobMachine } from '../job/job.machine.js';
import { clockMachine } from './clock.machine.js';
import {
  clockActorId, demandOf, jobActorId, jobOfTask, jobPhase, jobStateOf, rolesOfSlots, withAgentsOf,
  type JobRef, type JobSlot, type SupervisorContext, type SupervisorEvent, type SupervisorInput,
} from './supervisor.context.js';

/**
 * A job the restored state knows and the file does not (the file changed
 * while the scheduler was down, or a new leader runs another file): it is
 * run only to drain its tasks (the framework's grace, then kill).
 */
function unknownJob(input: SupervisorInput, name: string, graceSeconds: number | undefined): JobRun {
  return { ...input.config, name, labels: {}, constraints: [], after: [], priority: 0, graceSeconds: graceSeconds ?? input.config.graceSeconds };
}

function initialContext(input: SupervisorInput): SupervisorContext {
  const slots: Record<string, JobSlot> = {};
  const order: string[] = [];
  const known = new Set(input.jobs.map((j) => j.name));
  for (const own of input.restored?.jobs ?? []) {
    if (known.has(own.name)) continue;
    slots[own.name] = { def: unknownJob(input, own.name, own.graceSeconds), actorId: jobActorId(own.name), wanted: false, successes: 0, consumed: {}, removed: true, unlisted: true };
    order.push(own.name);
  }
  for (const def of input.jobs) {
    const own = input.restored?.jobs?.find((j) => j.name === def.name);
    const slot: JobSlot = { def, actorId: jobActorId(def.name), wanted: false, successes: own?.successfulRounds ?? 0, consumed: { ...(own?.consumed ?? {}) } };
    if (own?.lastRoundOk !== undefined) slot.lastRoundOk = own.lastRoundOk;
    slots[def.name] = slot;
  }
  const context: SupervisorContext = {
    timing: input.timing, slots, order: [...order, ...input.jobs.map((j) => j.name)], connected: false, suppressedRoles: [],
    agents: {}, rotation: 0, now: input.now ?? 0, stopping: false,
  };
  if (input.restored !== undefined) context.restored = input.restored;
  return context;
}

const base = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
    output: {} as JobOutput,
  },
  actors: { job: jobMachine, clock: clockMachine },
  actions: {
    /** Effects, supplied by machines/index.ts. */
    sendCall: (_, _params: SendCallParams) => {},
    notify: (_, _params: Notification) => {},
  },
  guards: {
    allJobsEnded: ({ context }) => context.order.every((name) => context.slots[name]!.output !== undefined),
  },
});

function refOf(self: { getSnapshot(): { children: Record<string, unknown> } }, slot: JobSlot): JobRef | undefined {
  return self.getSnapshot().children[slot.actorId] as JobRef | undefined;
}

function updateSlot(context: SupervisorContext, name: string, change: Partial<JobSlot>): Record<string, JobSlot> {
  return { ...context.slots, [name]: { ...context.slots[name]!, ...change } };
}

// ---------------------------------------------------------------------------
// Jobs and clocks

/** A job actor's input (a restored state is added by the caller). */
function spawnInput(context: SupervisorContext, def: JobRun) {
  return { config: def, timing: context.timing, role: def.role, now: context.now, shared: true, triggered: def.schedule !== undefined || def.after.length > 0 };
}

const spawnJobs = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue.assign(({ spawn }) => {
    for (const name of context.order) {
      const { def, removed } = context.slots[name]!;
      const restored = jobStateOf(context.restored, name);
      const input = spawnInput(context, def);
      spawn('job', {
        id: jobActorId(name),
        input: { ...input, triggered: removed === true || input.triggered, ...(restored !== undefined ? { restored } : {}) },
      });
      if (def.schedule !== undefined && removed !== true) {
        const own = context.restored?.jobs?.find((j) => j.name === name);
        spawn('clock', {
          id: clockActorId(name),
          input: {
            job: name, schedule: def.schedule, now: context.now,
            ...(own?.anchorAt !== undefined ? { anchorAt: own.anchorAt } : {}),
            ...(own?.lastStartAt !== undefined ? { lastStartAt: own.lastStartAt } : {}),
          },
        });
      }
    }
    return {};
  });
}));

/** Jobs unknown to the file drain at once (their tasks get the grace, then are killed). */
const removeUnknownJobs = base.createAction(enqueueActions(({ context, enqueue }) => {
  for (const name of context.order) if (context.slots[name]!.removed === true) enqueue.sendTo(jobActorId(name), { type: 'job.remove' });
}));

/**
 * SIGHUP (`jobs.reload`): added jobs start (with the framework id, at once
 * when subscribed), changed ones take the change from their next round (a
 * changed schedule restarts the job's clock from its last start), removed
 * ones drain and are then forgotten. A job added back while its removal still
 * drains is skipped (reload again once it is gone).
 */
const reloadJobs = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  if (event.type !== 'jobs.reload' || context.stopping) return;
  const live = context.order.filter((n) => context.slots[n]!.removed !== true && context.slots[n]!.output === undefined);
  const diff = diffJobs(live.map((n) => context.slots[n]!.def), event.jobs);
  const slots = { ...context.slots };
  const order = [...context.order];
  const skipped: string[] = [];
  for (const def of diff.added) {
    if (slots[def.name] !== undefined && slots[def.name]!.output === undefined) {
      skipped.push(def.name);
      continue;
    }
    slots[def.name] = { def, actorId: jobActorId(def.name), wanted: false, successes: 0, consumed: {} };
    if (!order.includes(def.name)) order.push(def.name);
    enqueue.spawnChild('job', { id: jobActorId(def.name), input: spawnInput(context, def) });
    if (def.schedule !== undefined) enqueue.spawnChild('clock', { id: clockActorId(def.name), input: { job: def.name, schedule: def.schedule, now: context.now } });
    if (context.connected && context.frameworkId !== undefined) {
      enqueue.sendTo(jobActorId(def.name), { type: 'job.subscribed', frameworkId: context.frameworkId, resubscribe: false });
    }
  }
  for (const { before, after } of diff.changed) {
    slots[after.name] = { ...slots[after.name]!, def: after };
    const triggered = after.schedule !== undefined || after.after.length > 0;
    enqueue.sendTo(jobActorId(after.name), { type: 'job.update', config: after, triggered });
    if (!sameData(before.schedule, after.schedule)) {
      if (before.schedule !== undefined) enqueue.stopChild(clockActorId(after.name));
      if (after.schedule !== undefined) {
        const position = (refOf(self, slots[after.name]!)?.getSnapshot() as { context?: { position?: { lastStartAt?: number; anchorAt?: number } } } | undefined)?.context?.position;
        enqueue.spawnChild('clock', {
          id: clockActorId(after.name),
          input: {
            job: after.name, schedule: after.schedule, now: context.now,
            ...(position?.lastStartAt !== undefined ? { lastStartAt: position.lastStartAt, anchorAt: position.lastStartAt } : {}),
          },
        });
      }
    }
  }
  for (const def of diff.removed) {
    slots[def.name] = { ...slots[def.name]!, removed: true };
    if (def.schedule !== undefined) enqueue.stopChild(clockActorId(def.name));
    enqueue.sendTo(jobActorId(def.name), { type: 'job.remove' });
  }
  enqueue.assign({ slots, order });
  tellOffersWanted({ ...context, slots, order }, enqueue);
  enqueue({
    type: 'notify',
    params: {
      type: 'jobsReloaded', added: diff.added.map((j) => j.name).filter((n) => !skipped.includes(n)), changed: diff.changed.map((c) => c.after.name),
      removed: diff.removed.map((j) => j.name), unchanged: diff.unchanged.map((j) => j.name), skipped,
    },
  });
}));

const stopClocks = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue.assign({ stopping: true });
  for (const name of context.order) if (context.slots[name]!.def.schedule !== undefined) enqueue.stopChild(clockActorId(name));
}));

/** Connection and stop events go to every job that still runs. */
const forwardToJobs = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  for (const name of context.order) {
    const slot = context.slots[name]!;
    if (slot.output === undefined) enqueue.sendTo(slot.actorId, event as never);
  }
}));

/** The control API: the event goes to the job it names. */
const controlJob = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.runNow' && event.type !== 'job.pause' && event.type !== 'job.resume' && event.type !== 'job.kill') return;
  const slot = event.job === undefined ? undefined : context.slots[event.job];
  if (slot === undefined || slot.output !== undefined) return;
  enqueue.sendTo(slot.actorId, event);
}));

const recordConnection = base.createAction(enqueueActions(({ event, enqueue }) => {
  if (event.type === 'job.subscribed') enqueue.assign({ connected: true, frameworkId: event.frameworkId });
  else if (event.type === 'job.disconnected' || event.type === 'job.frameworkRemoved') enqueue.assign({ connected: false });
}));

const recordJobEnded = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  const prefix = 'xstate.done.actor.job:';
  if (!event.type.startsWith(prefix)) return;
  const name = event.type.slice(prefix.length);
  const slot = context.slots[name];
  if (slot === undefined) return;
  const output = (event as { output?: JobOutput }).output ?? { reason: 'stopped', allFinished: false, completedRounds: 0, unfinished: 0 };
  // A round cut short with failed (or killed) tasks is not a success.
  const last = (refOf(self, slot)?.getSnapshot() as { context?: Pick<JobContext, 'phase' | 'failedInRound' | 'earlier'> } | undefined)?.context;
  const cutShort = last !== undefined && ((last.phase === 'round' && last.failedInRound > 0) || Object.values(last.earlier).some((r) => r.failed > 0));
  if (slot.removed === true) {
    // A removed job is forgotten once it has drained.
    const { [name]: _gone, ...slots } = context.slots;
    const order = context.order.filter((n) => n !== name);
    // Its role may be one no job needs any more.
    const roles = rolesOfSlots({ slots, order });
    const suppressedRoles = context.suppressedRoles.filter((role) => roles.includes(role));
    enqueue.assign({ slots, order, suppressedRoles });
    enqueue({ type: 'notify', params: { type: 'jobRemoved', job: name } });
    tellOffersWanted({ ...context, slots, order, suppressedRoles }, enqueue);
    return;
  }
  enqueue.assign({ slots: updateSlot(context, name, { output, ...(cutShort ? { lastRoundOk: false } : {}) }) });
}));

const setResult = base.createAction(enqueueActions(({ context, enqueue }) => {
  const slots = context.order.map((name) => context.slots[name]!);
  const reasons = slots.map((s) => s.output?.reason ?? 'stopped');
  const reason: JobOutput['reason'] = reasons.every((r) => r === 'completed') ? 'completed'
    : reasons.includes('handover') ? 'handover' : reasons.includes('aborted') ? 'aborted' : 'stopped';
  enqueue.assign({
    result: {
      reason,
      allFinished: slots.every((s) => s.lastRoundOk !== false),
      completedRounds: slots.reduce((n, s) => n + (s.output?.completedRounds ?? 0), 0),
      unfinished: slots.reduce((n, s) => n + (s.output?.unfinished ?? 0), 0),
    },
  });
}));

// ---------------------------------------------------------------------------
// Offers

function anyWants(slots: Record<string, JobSlot>, role: string): boolean {
  return Object.values(slots).some((s) => s.output === undefined && s.wanted && s.def.role === role);
}

/** Tells the framework whether any job wants offers, the roles suppressed, and the roles the jobs need. */
function tellOffersWanted(
  context: Pick<SupervisorContext, 'slots' | 'order' | 'suppressedRoles'>,
  enqueue: { sendParent: (event: { type: 'job.offersWanted'; wanted: boolean; suppressedRoles: string[]; roles: string[] }) => void },
): void {
  const wanted = context.order.some((name) => context.slots[name]!.output === undefined && context.slots[name]!.wanted);
  enqueue.sendParent({ type: 'job.offersWanted', wanted, suppressedRoles: context.suppressedRoles, roles: rolesOfSlots(context) });
}

const recordOffersWanted = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.offersWanted' || !('job' in event)) return;
  const slot = context.slots[event.job];
  if (slot === undefined) return;
  const slots = updateSlot(context, event.job, { wanted: event.wanted });
  const role = slot.def.role;
  let suppressedRoles = context.suppressedRoles;
  if (event.wanted) {
    suppressedRoles = suppressedRoles.filter((r) => r !== role);
    if (context.connected) {
      enqueue({ type: 'sendCall', params: { call: reviveCall([role]) } });
      enqueue({ type: 'notify', params: { type: 'revived', roles: [role] } });
    }
  } else if (!anyWants(slots, role) && !suppressedRoles.includes(role)) {
    suppressedRoles = [...suppressedRoles, role];
    if (context.connected) {
      enqueue({ type: 'sendCall', params: { call: suppressCall([role]) } });
      enqueue({ type: 'notify', params: { type: 'suppressed', roles: [role] } });
    }
  }
  enqueue.assign({ slots, suppressedRoles });
  tellOffersWanted({ ...context, slots, suppressedRoles }, enqueue);
}));

/**
 * One OFFERS event for every job: plan, decline what no job uses, hand each
 * job its tasks (it writes them ahead and answers `job.launching`).
 */
const planOffers = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  if (event.type !== 'mesos.offers' || event.offers.length === 0) return;
  const agents = withAgentsOf(context.agents, event.offers);
  const demands = context.stopping ? [] : context.order
    .map((name) => demandOf(context.slots[name]!, refOf(self, context.slots[name]!), agents))
    .filter((d) => d !== undefined);
  const plan = planSharedOffers(event.offers, demands, context.rotation);
  const placed: Record<string, number> = {};
  for (const use of plan.accept) for (const t of use.tasks) placed[t.job] = (placed[t.job] ?? 0) + 1;
  const stillWanted = demands.some((d) => (placed[d.job] ?? 0) < d.wanted);
  const refuseSeconds = stillWanted ? context.timing.declineWantedSeconds : context.timing.declineIdleSeconds;
  enqueue.assign({ agents, rotation: plan.rotation });
  if (plan.decline.length > 0) {
    enqueue({ type: 'sendCall', params: { call: declineCall(plan.decline.map((o) => o.id.value), refuseSeconds) } });
  }
  if (demands.length === 0) {
    // Offers while no job wants any: SUPPRESS again (it may have been lost).
    const roles = [...new Set(event.offers.map((o) => o.allocation_info?.role).filter((r): r is string => r !== undefined))];
    const idle = (roles.length > 0 ? roles : [...new Set(context.order.map((n) => context.slots[n]!.def.role))])
      .filter((r) => !anyWants(context.slots, r));
    if (idle.length > 0) {
      enqueue.assign({ suppressedRoles: [...new Set([...context.suppressedRoles, ...idle])] });
      enqueue({ type: 'sendCall', params: { call: suppressCall(idle) } });
      enqueue({ type: 'notify', params: { type: 'suppressed', roles: idle } });
    }
  }
  if (plan.accept.length === 0) return;
  const uses: Record<string, { offer: (typeof plan.accept)[number]['offer']; tasks: (typeof plan.accept)[number]['tasks'][number]['resources'][] }[]> = {};
  for (const use of plan.accept) {
    const byJob: Record<string, (typeof use.tasks)[number]['resources'][]> = {};
    for (const t of use.tasks) (byJob[t.job] ??= []).push(t.resources);
    for (const [job, tasks] of Object.entries(byJob)) (uses[job] ??= []).push({ offer: use.offer, tasks });
  }
  const waiting = Object.keys(uses);
  enqueue.assign({ accepting: { waiting, offerIds: plan.accept.map((u) => u.offer.id.value), tasks: {}, refuseSeconds } });
  for (const job of waiting) enqueue.sendTo(context.slots[job]!.actorId, { type: 'job.launch', uses: uses[job]! });
}));

/** A job's answer to `job.launch`; when every job has answered, ACCEPT each offer once. */
const collectLaunches = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.launching' || context.accepting === undefined) return;
  const { accepting } = context;
  const tasks: Record<string, TaskInfo[]> = { ...accepting.tasks };
  for (const launch of event.launches) tasks[launch.offerId] = [...(tasks[launch.offerId] ?? []), ...launch.tasks];
  const waiting = accepting.waiting.filter((j) => j !== event.job);
  if (waiting.length > 0) {
    enqueue.assign({ accepting: { ...accepting, waiting, tasks } });
    return;
  }
  enqueue.assign({ accepting: undefined });
  const unused = accepting.offerIds.filter((id) => (tasks[id] ?? []).length === 0);
  if (unused.length > 0) enqueue({ type: 'sendCall', params: { call: declineCall(unused, accepting.refuseSeconds) } });
  for (const id of accepting.offerIds) {
    const infos = tasks[id] ?? [];
    if (infos.length > 0) enqueue({ type: 'sendCall', params: { call: acceptCall([id], [launchOperation(infos)], accepting.refuseSeconds) } });
  }
}));

// ---------------------------------------------------------------------------
// Updates

/**
 * Updates go to the job that runs their task: `mesos.updates` (the UPDATEs of
 * one stream chunk) once per job, with that job's updates in stream order.
 * An update of no job of ours is answered here, where it stands in the list.
 */
const routeUpdate = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'mesos.update' && event.type !== 'mesos.updates') return;
  const statuses = event.type === 'mesos.update' ? [event.status] : event.statuses;
  const byJob = new Map<string, TaskStatus[]>();
  for (const status of statuses) {
    const taskId = status.task_id.value;
    const name = jobOfTask(taskId, context.order);
    const slot = name === undefined ? undefined : context.slots[name];
    if (slot !== undefined && slot.output === undefined) {
      const of = byJob.get(slot.actorId);
      if (of === undefined) byJob.set(slot.actorId, [status]);
      else of.push(status);
      continue;
    }
    // No job of ours runs this task: say so, acknowledge it, and kill it while it runs.
    enqueue({ type: 'notify', params: { type: 'unknownTask', taskId, state: status.state } });
    const agentId = status.agent_id?.value;
    if (status.uuid !== undefined && agentId !== undefined) {
      enqueue({ type: 'sendCall', params: { call: acknowledgeCall(agentId, taskId, status.uuid), independent: true } });
    }
    if (!isTerminalState(status.state) && context.connected) {
      enqueue({ type: 'sendCall', params: { call: killCall(taskId, agentId) } });
    }
  }
  for (const [actorId, of] of byJob) {
    if (event.type === 'mesos.update' || of.length === statuses.length) enqueue.sendTo(actorId, event);
    else if (of.length === 1) enqueue.sendTo(actorId, { type: 'mesos.update', generation: event.generation, status: of[0]! });
    else enqueue.sendTo(actorId, { type: 'mesos.updates', generation: event.generation, statuses: of });
  }
}));

// ---------------------------------------------------------------------------
// Starts: schedules and dependencies

/** Starts the job now if it waits for a start; else keeps the start for when it does (or skips it). */
function startJob(
  context: SupervisorContext, slots: Record<string, JobSlot>, name: string, ref: JobRef | undefined,
  start: { at?: number; consumed?: Record<string, number> }, enqueue: { sendTo: (id: string, e: never) => void },
): Record<string, JobSlot> {
  const slot = slots[name]!;
  const phase = jobPhase(ref);
  if (phase === 'idle') {
    enqueue.sendTo(slot.actorId, { type: 'job.start', ...start } as never);
    const { pendingStart: _used, ...rest } = slot;
    return { ...slots, [name]: { ...rest, ...(start.consumed ? { consumed: start.consumed } : {}) } };
  }
  return { ...slots, [name]: { ...slot, pendingStart: start, ...(start.consumed ? { consumed: start.consumed } : {}) } };
}

const startOnSchedule = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  if (event.type !== 'clock.due' || context.stopping) return;
  const slot = context.slots[event.job];
  if (slot === undefined || slot.output !== undefined || slot.def.schedule === undefined) return;
  const ref = refOf(self, slot);
  const phase = jobPhase(ref);
  if (phase === 'launching' || phase === 'running') {
    const job = (ref!.getSnapshot() as unknown as { context: JobContext }).context;
    const inFlight = roundsInFlight(job).length;
    const decision = decideStart(slot.def.schedule.concurrency, inFlight, maxInFlight(job));
    if (!decision.start) {
      const why = decision.reason === 'max-in-flight' ? { reason: decision.reason, inFlight } : {};
      enqueue({ type: 'notify', params: { type: 'startSkipped', job: event.job, at: event.at, ...why } });
      return;
    }
    // `allow`: a new round starts alongside the running ones (the job says so when it starts it).
    if (mayOverlap(job)) {
      enqueue.sendTo(slot.actorId, { type: 'job.start', at: event.at });
      return;
    }
  }
  // Not started yet, between rounds, or paused: the start waits until the job is idle.
  enqueue.assign({ slots: startJob(context, context.slots, event.job, ref, { at: event.at }, enqueue) });
}));

/**
 * A start the job could not take: it was paused between our decision and the
 * start (or no round could start alongside by then). As with a start that
 * comes while the job is paused or between rounds, it is kept until the job
 * is idle again (one kept start at most; a start by its parents always is);
 * one that `concurrency` refuses while rounds run is skipped and said.
 */
const keepRefusedStart = base.createAction(enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'job.startRefused' || context.stopping) return;
  const slot = context.slots[event.job];
  if (slot === undefined || slot.output !== undefined || slot.removed === true) return;
  const { start } = event;
  if (start.consumed === undefined && !event.paused && slot.def.schedule !== undefined) {
    const decision = decideStart(slot.def.schedule.concurrency, event.inFlight, slot.def.schedule.maxInFlight);
    if (!decision.start) {
      const why = decision.reason === 'max-in-flight' ? { reason: decision.reason, inFlight: event.inFlight } : {};
      enqueue({ type: 'notify', params: { type: 'startSkipped', job: event.job, at: start.at ?? context.now, ...why } });
      return;
    }
  }
  enqueue.assign({ slots: updateSlot(context, event.job, { pendingStart: start, ...(start.consumed ? { consumed: start.consumed } : {}) }) });
}));

/** A job is idle: give it a start that waited, or one its parents allow. */
const startWhenIdle = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  if (event.type !== 'job.idle' || context.stopping) return;
  const slot = context.slots[event.job];
  if (slot === undefined) return;
  let slots = context.slots;
  if (slot.pendingStart !== undefined) {
    slots = startJob(context, slots, event.job, refOf(self, slot), slot.pendingStart, enqueue);
  } else if (slot.def.after.length > 0) {
    const successes = Object.fromEntries(context.order.map((n) => [n, slots[n]!.successes]));
    if (isReady(slot.def.after, successes, slot.consumed)) {
      slots = startJob(context, slots, event.job, refOf(self, slot), { consumed: consume(slot.def.after, successes) }, enqueue);
    } else {
      enqueue({ type: 'notify', params: { type: 'jobWaiting', job: event.job, round: event.round, parents: slot.def.after.filter((p) => (successes[p] ?? 0) <= (slot.consumed[p] ?? 0)) } });
    }
  } else if (slot.def.schedule !== undefined) {
    enqueue({ type: 'notify', params: { type: 'jobWaiting', job: event.job, round: event.round } });
  }
  enqueue.assign({ slots });
}));

/** A round ended: count a success for the children, and start the children it makes ready. */
const recordRoundFinished = base.createAction(enqueueActions(({ context, event, self, enqueue }) => {
  if (event.type !== 'job.roundFinished') return;
  const slot = context.slots[event.job];
  if (slot === undefined) return;
  let slots = updateSlot(context, event.job, { successes: event.successfulRounds, lastRoundOk: event.ok });
  if (!event.ok || context.stopping) {
    enqueue.assign({ slots });
    return;
  }
  const successes = Object.fromEntries(context.order.map((n) => [n, slots[n]!.successes]));
  for (const name of context.order) {
    const child = slots[name]!;
    if (!child.def.after.includes(event.job) || child.output !== undefined) continue;
    if (!isReady(child.def.after, successes, child.consumed)) continue;
    const ref = refOf(self, child);
    const phase = jobPhase(ref);
    // A child still running its round checks again when it is idle.
    if (phase !== 'idle' && phase !== 'waiting') continue;
    slots = startJob(context, slots, name, ref, { consumed: consume(child.def.after, successes) }, enqueue);
  }
  enqueue.assign({ slots });
}));

export const supervisorMachine = base.extend({
  actions: {
    spawnJobs, removeUnknownJobs, reloadJobs, stopClocks, forwardToJobs, controlJob, recordConnection, recordJobEnded, setResult,
    recordOffersWanted, planOffers, collectLaunches, routeUpdate, startOnSchedule, startWhenIdle, keepRefusedStart, recordRoundFinished,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => initialContext(input),
  entry: ['spawnJobs', 'removeUnknownJobs'],
  on: {
    'job.subscribed': { actions: ['recordConnection', 'forwardToJobs'] },
    'job.disconnected': { actions: ['recordConnection', 'forwardToJobs'] },
    'job.frameworkRemoved': { actions: ['recordConnection', 'forwardToJobs'] },
    'mesos.failure': { actions: 'forwardToJobs' },
    // An ACCEPT that never reached the master: each job takes back its own tasks of it.
    'call.unsent': { actions: 'forwardToJobs' },
    'mesos.update': { actions: 'routeUpdate' },
    'mesos.updates': { actions: 'routeUpdate' },
    'mesos.offers': { actions: 'planOffers' },
    'job.offersWanted': { actions: 'recordOffersWanted' },
    'job.launching': { actions: 'collectLaunches' },
    'job.roundFinished': { actions: 'recordRoundFinished' },
    'job.idle': { actions: 'startWhenIdle' },
    'job.startRefused': { actions: 'keepRefusedStart' },
    'clock.due': { actions: 'startOnSchedule' },
    'job.runNow': { actions: 'controlJob' },
    'job.pause': { actions: 'controlJob' },
    'job.resume': { actions: 'controlJob' },
    'job.kill': { actions: 'controlJob' },
    'jobs.reload': { actions: 'reloadJobs' },
    'xstate.done.actor.*': { actions: 'recordJobEnded' },
  },
  initial: 'running',
  states: {
    running: {
      always: { guard: 'allJobsEnded', target: 'ended' },
      on: {
        'job.drain': { target: 'stopping', actions: 'forwardToJobs' },
        'job.abort': { target: 'stopping', actions: 'forwardToJobs' },
        'job.handover': { target: 'stopping', actions: 'forwardToJobs' },
      },
    },
    /** Draining, stopping now or handing over: no more starts; ends when every job has. */
    stopping: {
      entry: 'stopClocks',
      always: { guard: 'allJobsEnded', target: 'ended' },
      on: {
        'job.drain': { actions: 'forwardToJobs' },
        'job.abort': { actions: 'forwardToJobs' },
        'job.handover': { actions: 'forwardToJobs' },
      },
    },
    ended: { type: 'final', entry: 'setResult' },
  },
  output: ({ context }) => context.result ?? { reason: 'stopped', allFinished: false, completedRounds: 0, unfinished: 0 },
});
