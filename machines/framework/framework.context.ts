/**
 * Context, events and helpers of the framework (root) machine.
 */
import type { ErrorRecord, FrameworkInput, FrameworkOutput, JobConfig, JobRun, PersistedState, RuntimeEvent, SubscriptionEvent, SubscriptionInput, Timing } from '../contract.js';
import type { FrameworkInfo } from '../../src/mesos/types.js';
import type { JobInput, JobOutput } from '../job/job.context.js';
import { seedState } from '../policy/prng.js';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, resolveTiming } from '../policy/timing.js';

export interface FrameworkContext {
  frameworkInfo: FrameworkInfo;
  job: JobConfig;
  /** `--jobs`: the jobs the supervisor runs (invoked in place of the job). */
  jobs?: readonly JobRun[];
  role: string;
  timing: Timing;
  restored?: PersistedState;
  now?: number;
  /** Known once SUBSCRIBED (or restored): every re-subscription uses the same id. */
  frameworkId?: string;
  streamId?: string;
  master?: string;
  heartbeatIntervalSeconds: number;
  /** Subscription attempt counter: results of older attempts are ignored. */
  generation: number;
  /** Failed attempts since the last SUBSCRIBED (drives the backoff). */
  attempt: number;
  /** PRNG state for the backoff jitter. */
  rng: number;
  /** Delay of the current failover wait. */
  retryInMs: number;
  lastError?: ErrorRecord;
  /** A subscription is up right now. */
  subscribed: boolean;
  /** The job wants offers (else re-subscribe with the role suppressed). */
  offersWanted: boolean;
  /** `--jobs` (MULTI_ROLE): the roles no job wants offers for, suppressed when re-subscribing. */
  suppressedRoles?: string[];
  /**
   * `--jobs` (MULTI_ROLE): the roles the master was last told (by the current
   * session's SUBSCRIBE, or UPDATE_FRAMEWORK since); `frameworkInfo.roles`
   * are those the jobs need now.
   */
  announcedRoles?: string[];
  jobResult?: JobOutput;
  outcome?: FrameworkOutput;
}

export type JobToFrameworkEvent =
  /** `--jobs`: `roles`, the roles the jobs need (every job's, until a removed one is forgotten). */
  | { type: 'job.offersWanted'; wanted: boolean; suppressedRoles?: string[]; roles?: string[] }
  | { type: 'xstate.done.actor.job'; output: JobOutput }
  | { type: 'xstate.error.actor.job'; error: unknown }
  | { type: 'xstate.error.actor.subscription'; error: unknown };

export type FrameworkEvent = SubscriptionEvent | RuntimeEvent | JobToFrameworkEvent;

export function roleOf(frameworkInfo: FrameworkInfo, job: JobConfig): string {
  return frameworkInfo.role ?? (job.role !== '' ? job.role : '*');
}

export function initialFrameworkContext(input: FrameworkInput): FrameworkContext {
  const { id: _noId, ...frameworkInfo } = input.frameworkInfo;
  const context: FrameworkContext = {
    frameworkInfo,
    job: input.job,
    role: roleOf(input.frameworkInfo, input.job),
    timing: resolveTiming(input.timing),
    heartbeatIntervalSeconds: DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
    generation: 0,
    attempt: 0,
    rng: seedState(input.seed),
    retryInMs: 0,
    subscribed: false,
    offersWanted: input.restored?.phase !== 'cooldown',
  };
  if (input.restored !== undefined) context.restored = input.restored;
  if (input.jobs !== undefined) context.jobs = input.jobs;
  if (input.now !== undefined) context.now = input.now;
  const knownId = input.restored?.frameworkId ?? input.frameworkInfo.id?.value;
  if (knownId !== undefined) context.frameworkId = knownId;
  return context;
}

/** The suppressed roles the master may be told: only roles of the framework (else it refuses the call). */
export function suppressedRolesOf(context: FrameworkContext): string[] {
  const suppressed = context.suppressedRoles ?? (context.offersWanted ? [] : [context.role]);
  const roles = context.frameworkInfo.roles;
  return roles === undefined ? suppressed : suppressed.filter((role) => roles.includes(role));
}

/** Same roles, in any order. */
export function sameRoles(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((role) => b.includes(role));
}

export function subscriptionInputOf(context: FrameworkContext): SubscriptionInput {
  const input: SubscriptionInput = {
    frameworkInfo: context.frameworkInfo,
    suppressedRoles: suppressedRolesOf(context),
    generation: context.generation,
  };
  if (context.frameworkId !== undefined) input.frameworkId = context.frameworkId;
  return input;
}

export function jobInputOf(context: FrameworkContext): JobInput {
  const input: JobInput = { config: context.job, timing: context.timing, role: context.role };
  if (context.restored !== undefined) input.restored = context.restored;
  if (context.now !== undefined) input.now = context.now;
  if (context.jobs !== undefined) input.jobs = context.jobs;
  return input;
}

export function heartbeatTimeoutMs(context: FrameworkContext): number {
  return Math.max(1, context.timing.missedHeartbeats) * Math.max(1, context.heartbeatIntervalSeconds) * 1000;
}
