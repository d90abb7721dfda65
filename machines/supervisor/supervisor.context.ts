/**
 * Context, input and events of the supervisor machine (`--jobs`), and the
 * pure helpers it uses: which job a task belongs to, each job's part of a
 * restored state, and what a job wants from an OFFERS event.
 */
import type { ActorRefFrom } from 'xstate';
import type { JobRun, PersistedState, Timing } from '../contract.js';
import type { Offer, TaskInfo } from '../../src/mesos/types.js';
import type { Placement } from '../policy/constraints.js';
import type { JobDemand } from '../policy/offer-share.js';
import { safeIdPart } from '../policy/task-info.js';
import type { JobContext, JobEvent, JobInput, JobOutput } from '../job/job.context.js';
import type { jobMachine } from '../job/job.machine.js';
import { wantedTasks } from '../job/job.rounds.js';
import type { ClockDue } from './clock.machine.js';

export type JobRef = ActorRefFrom<typeof jobMachine>;

export interface SupervisorInput extends JobInput {
  jobs: readonly JobRun[];
}

/** What the supervisor knows of one job (the job actor owns the rest). */
export interface JobSlot {
  def: JobRun;
  /** The job's actor id (`job:<name>`). */
  actorId: string;
  /** The job wants offers (its last REVIVE/SUPPRESS wish). */
  wanted: boolean;
  /** Its successful rounds so far (parents' counts for `after`). */
  successes: number;
  lastRoundOk?: boolean;
  /** `after`: the parents' counts it consumed when it last started. */
  consumed: Record<string, number>;
  /** A start that waits until the job can take it (not subscribed yet, or `concurrency: allow` while a round runs). */
  pendingStart?: { at?: number; consumed?: Record<string, number> };
  /** The job actor's output once it ended. */
  output?: JobOutput;
  /** Removed (by a reload, or unknown to the file): it drains and is then forgotten. */
  removed?: true;
  /** Unknown to the file (only the restored state knows it): its role is none the framework needs. */
  unlisted?: true;
}

export interface SupervisorContext {
  timing: Timing;
  /** Jobs in file order, by name. */
  slots: Record<string, JobSlot>;
  order: string[];
  connected: boolean;
  /** The framework id of the current subscription (a job added by a reload starts with it). */
  frameworkId?: string;
  /** Roles SUPPRESSed by us and not revived since. */
  suppressedRoles: string[];
  /** Where the agents of recent offers are (constraints need hostname and attributes). */
  agents: Record<string, Placement>;
  /** Turn order of equal-priority jobs (policy/priority.ts). */
  rotation: number;
  /** An OFFERS event being launched: the jobs that have yet to answer, and every job's LAUNCH tasks by offer. */
  accepting?: { waiting: string[]; offerIds: string[]; tasks: Record<string, TaskInfo[]>; refuseSeconds: number };
  restored?: PersistedState;
  now: number;
  /** Stopping (drain, abort, handover): no more starts. */
  stopping: boolean;
  result?: JobOutput;
}

/** Events the job actors send the supervisor. */
export type JobToSupervisorEvent =
  | { type: 'job.offersWanted'; job: string; wanted: boolean }
  | { type: 'job.launching'; job: string; launches: { offerId: string; agentId: string; tasks: TaskInfo[] }[] }
  | { type: 'job.roundFinished'; job: string; round: number; ok: boolean; successfulRounds: number }
  /** A `job.start` the job could not take (paused, or no round may start alongside, since the start was sent). */
  | { type: 'job.startRefused'; job: string; start: { at?: number; consumed?: Record<string, number> }; paused: boolean; inFlight: number }
  /** The job waits for a start (`idle`): after its first subscription and after every round. */
  | { type: 'job.idle'; job: string; round: number };

export type SupervisorEvent = JobEvent | JobToSupervisorEvent | ClockDue | { type: 'jobs.reload'; jobs: readonly JobRun[] } | { type: `xstate.done.actor.${string}`; output?: unknown };

export function jobActorId(name: string): string {
  return `job:${name}`;
}

export function clockActorId(name: string): string {
  return `clock:${name}`;
}

/**
 * The job a task id belongs to: ids read `<name>-r<round>-t<index>-<run id>`
 * (policy/task-info.ts), so the name is the prefix followed by `-r<digits>-t`.
 */
export function jobOfTask(taskId: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const name of names) {
    const prefix = `${safeIdPart(name)}-r`;
    if (!taskId.startsWith(prefix) || !/^\d+-t\d+-/.test(taskId.slice(prefix.length))) continue;
    if (best === undefined || name.length > best.length) best = name;
  }
  return best;
}

/**
 * One job's part of a `--jobs` state, as the job machine restores it (a
 * PersistedState of its own, with its entry in `jobs`). A job the state does
 * not know starts afresh with the framework id.
 */
export function jobStateOf(restored: PersistedState | undefined, name: string): PersistedState | undefined {
  if (restored === undefined) return undefined;
  const own = restored.jobs?.find((j) => j.name === name);
  const base: PersistedState = { version: 1, frameworkName: name, round: 0, completedRounds: 0, allFinished: true, tasks: [], phase: 'round' };
  if (restored.frameworkId !== undefined) base.frameworkId = restored.frameworkId;
  if (own === undefined) return restored.frameworkId === undefined ? undefined : base;
  const state: PersistedState = {
    ...base, round: own.round, completedRounds: own.completedRounds, allFinished: own.allFinished, phase: own.phase,
    tasks: restored.tasks.filter((t) => t.job === name).map(({ job: _job, ...t }) => t), jobs: [own],
  };
  if (own.launchedInRound !== undefined) state.launchedInRound = own.launchedInRound;
  if (own.finishedInRound !== undefined) state.finishedInRound = own.finishedInRound;
  if (own.failedInRound !== undefined) state.failedInRound = own.failedInRound;
  if (own.cooldownUntil !== undefined) state.cooldownUntil = own.cooldownUntil;
  return state;
}

type JobSnapshot = { status: string; context: JobContext; matches(value: unknown): boolean };

/** Where a job actor is in its rounds. */
export function jobPhase(ref: JobRef | undefined): 'gone' | 'waiting' | 'idle' | 'launching' | 'running' | 'cooldown' | 'draining' {
  if (ref === undefined) return 'gone';
  const snapshot = ref.getSnapshot() as unknown as JobSnapshot;
  if (snapshot.status !== 'active') return 'gone';
  if (snapshot.matches({ active: { phase: 'idle' } })) return 'idle';
  if (snapshot.matches({ active: { phase: { round: 'launching' } } })) return 'launching';
  if (snapshot.matches({ active: { phase: 'round' } })) return 'running';
  if (snapshot.matches({ active: { phase: 'cooldown' } })) return 'cooldown';
  if (snapshot.matches({ active: { phase: 'draining' } })) return 'draining';
  return 'waiting';
}

/** What a job wants from an OFFERS event (nothing unless it is launching a round). */
export function demandOf(slot: JobSlot, ref: JobRef | undefined, agents: Readonly<Record<string, Placement>>): JobDemand | undefined {
  if (jobPhase(ref) !== 'launching') return undefined;
  const { context } = ref!.getSnapshot() as unknown as JobSnapshot;
  const { def } = slot;
  // The round in progress runs on the job's own definition (a reload changes it from the next round).
  const { maxTasks, cpus, memMb, diskMb } = context.config;
  // Every round in flight (`concurrency: allow`: earlier ones too) may want tasks.
  const wanted = wantedTasks(context);
  if (wanted === 0) return undefined;
  const placed: Placement[] = [];
  for (const task of context.active.values()) {
    const { agentId } = task.context;
    const where = agentId === undefined ? undefined : agents[agentId];
    if (where !== undefined) placed.push(where);
  }
  return {
    job: def.name, priority: def.priority, wanted, role: def.role,
    needs: { cpus, memMb, ...(diskMb !== undefined ? { diskMb } : {}) },
    constraints: def.constraints, placed, roundSize: maxTasks,
  };
}

/** Agent places seen in these offers, added to what is known. */
export function withAgentsOf(agents: Readonly<Record<string, Placement>>, offers: readonly Offer[]): Record<string, Placement> {
  const next: Record<string, Placement> = { ...agents };
  for (const o of offers) next[o.agent_id.value] = { hostname: o.hostname, ...(o.attributes ? { attributes: o.attributes } : {}) };
  return next;
}

/** Every role of the jobs, once each, in file order. */
export function rolesOf(jobs: readonly { role: string }[]): string[] {
  return [...new Set(jobs.map((j) => j.role))];
}

/** The roles the framework needs: every job's, a removed one's until it is forgotten (a job only the restored state knows needs none). */
export function rolesOfSlots(context: Pick<SupervisorContext, 'slots' | 'order'>): string[] {
  return rolesOf(context.order.map((name) => context.slots[name]!).filter((slot) => slot.unlisted !== true).map((slot) => slot.def));
}
