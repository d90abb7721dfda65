/**
 * The control API: POST /api/jobs/{name}/run, /pause, /resume, /kill. Each
 * looks at the job machine's state, sends it the event that does what was
 * asked (machines/contract.ts JobControlEvent) or refuses with a stable code,
 * and says what was done (the caller logs it):
 * - run: in the cooldown or paused, the next round starts at once; during a
 *   round 409 ROUND_IN_PROGRESS (one round at a time), unless the job's
 *   schedule has `concurrency: allow`: then the next round starts at once,
 *   alongside (409 ROUND_IN_PROGRESS when `max-in-flight` rounds run).
 * - pause: no new round starts; a round in progress finishes first.
 * - resume: a paused job carries on after a cooldown of --wait (a job with a
 *   schedule or parents: when they say; a start that came while it was
 *   paused runs at once).
 * - kill: the tasks of the rounds in flight are killed with a kill policy of
 *   --grace; no more of them are launched, the rounds end `killed` (not a
 *   success). 409 NOT_RUNNING between rounds.
 */
import type { AnyActorRef } from 'xstate';
import type { JobControlEvent } from '../../../machines/contract.js';
import type { JobContext } from '../../../machines/job/job.context.js';
import { mayOverlap, roundsInFlight } from '../../../machines/job/job.rounds.js';
import { jobActorId } from '../../../machines/supervisor/supervisor.context.js';
import { ApiError } from './api-error.js';

export const CONTROL_ACTIONS = ['run', 'pause', 'resume', 'kill'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** `idle`: `--jobs`, a job with a schedule or parents between rounds, waiting for them. */
export type JobPhase = 'waiting' | 'idle' | 'round' | 'cooldown' | 'paused' | 'draining' | 'done';

export interface JobMachineState {
  phase: JobPhase;
  /** A pause was asked for (it takes effect at the end of a round in progress). */
  paused: boolean;
  /** `--jobs`: its rounds start by its schedule or its parents (a resume goes back to waiting for them). */
  triggered?: boolean;
  round: number;
  /** Tasks of the rounds in flight. */
  active: number;
  /** The rounds in flight, oldest first (several with `concurrency: allow`). */
  rounds: number[];
  /** `concurrency: allow`: a run now would start another round alongside; false when `max-in-flight` rounds run. */
  overlap?: boolean;
}

export interface ControlResult {
  job: string;
  action: ControlAction;
  /** False when the job already was as asked. */
  changed: boolean;
  message: string;
  state: JobMachineState;
}

type Snapshot = {
  value?: unknown; status?: string; children?: Record<string, AnyActorRef | undefined>;
  context?: { paused?: boolean; triggered?: boolean; round?: number; active?: { size?: number }; slots?: Record<string, { output?: unknown } | undefined> };
};

/**
 * The job machine's phase, from the framework actor (undefined before it
 * runs). With `--jobs` the framework's `job` is the supervisor; `jobName` picks
 * its job (machines/supervisor: actor `job:<name>`), done once it has ended.
 */
export function jobMachineState(framework: AnyActorRef | undefined, jobName?: string): JobMachineState | undefined {
  let job = (framework?.getSnapshot() as Snapshot | undefined)?.children?.['job'];
  if (!job) return undefined;
  const top = job.getSnapshot() as Snapshot;
  if (top.context?.slots !== undefined) {
    const slot = jobName === undefined ? undefined : top.context.slots[jobName];
    job = slot === undefined || slot.output !== undefined ? undefined : top.children?.[jobActorId(jobName!)];
    if (!job) return slot === undefined ? undefined : { phase: 'done', paused: false, round: 0, active: 0, rounds: [] };
  }
  const snapshot = job.getSnapshot() as Snapshot;
  const context = snapshot.context ?? {};
  const base: Omit<JobMachineState, 'phase'> = { paused: context.paused === true, round: context.round ?? 0, active: context.active?.size ?? 0, rounds: [] };
  if (context.triggered === true) base.triggered = true;
  if (snapshot.status !== 'active') return { ...base, phase: 'done' };
  const job_ = context as unknown as JobContext;
  if (job_.earlier !== undefined) {
    base.rounds = roundsInFlight(job_).sort((a, b) => a - b);
    if ((job_.config as { schedule?: { concurrency?: string } }).schedule?.concurrency === 'allow') base.overlap = mayOverlap(job_);
  }
  const value = snapshot.value as { active?: { phase?: unknown } } | string | undefined;
  const phase = typeof value === 'object' ? value?.active?.phase : undefined;
  const name = typeof phase === 'string' ? phase : typeof phase === 'object' && phase !== null ? Object.keys(phase)[0] : undefined;
  switch (name) {
    case 'round': case 'idle': case 'cooldown': case 'paused': case 'draining': case 'waiting':
      return { ...base, phase: name };
    default:
      return { ...base, phase: 'done' };
  }
}

export interface JobControlTarget {
  name: string;
  graceSeconds: number;
  framework: () => AnyActorRef | undefined;
}

/** Acts on the job or throws ApiError; see the file comment. */
export function controlJob(target: JobControlTarget, action: ControlAction): ControlResult {
  const framework = target.framework();
  const state = jobMachineState(framework, target.name);
  if (!framework || !state) throw new ApiError('NOT_RUNNING', `job '${target.name}' is not running yet`);
  if (state.phase === 'done' || state.phase === 'draining') throw new ApiError('JOB_DONE', `job '${target.name}' has ended or is stopping`);
  // The supervisor of a `--jobs` run routes the event by its `job`; one job ignores it.
  const send = (event: JobControlEvent, message: string): ControlResult => {
    framework.send({ ...event, job: target.name });
    return { job: target.name, action, changed: true, message, state: jobMachineState(framework, target.name) ?? state };
  };
  const same = (message: string): ControlResult => ({ job: target.name, action, changed: false, message, state });
  switch (action) {
    case 'run':
      if (state.phase === 'round' && state.overlap === true) {
        return send({ type: 'job.runNow' }, `started round ${state.round + 1} now, alongside round${state.rounds.length === 1 ? '' : 's'} ${state.rounds.join(', ')} (concurrency allow)`);
      }
      if (state.phase === 'round' && state.overlap === false) {
        throw new ApiError('ROUND_IN_PROGRESS', `job '${target.name}' already runs ${state.rounds.length} rounds (${state.rounds.join(', ')}), its max-in-flight`);
      }
      if (state.phase === 'round') throw new ApiError('ROUND_IN_PROGRESS', `round ${state.round} of job '${target.name}' is still running; one round runs at a time`);
      if (state.phase === 'waiting') throw new ApiError('NOT_RUNNING', `job '${target.name}' is not subscribed to a master yet`);
      return send({ type: 'job.runNow' }, `started round ${state.round + 1} now${state.phase === 'paused' ? ' (the job stays paused after it)' : ''}`);
    case 'pause':
      if (state.paused) return same('already paused');
      return send({ type: 'job.pause' }, state.phase === 'round' ? `paused: round ${state.round} finishes, then no new round starts until resumed` : 'paused: no new round starts until resumed');
    case 'resume':
      if (!state.paused) return same('not paused');
      if (state.phase !== 'paused') return send({ type: 'job.resume' }, 'resumed: the job goes on after this round');
      return send({ type: 'job.resume' }, state.triggered === true
        ? 'resumed: the next round starts when its schedule or its parents say (at once for a start that came while paused)'
        : 'resumed: the next round starts after the cooldown');
    case 'kill':
      if (state.phase !== 'round') throw new ApiError('NOT_RUNNING', `job '${target.name}' has no round running to kill`);
      return send({ type: 'job.kill' }, `killing the ${state.active} running task${state.active === 1 ? '' : 's'} of round${state.rounds.length > 1 ? `s ${state.rounds.join(', ')}` : ` ${state.round}`} (grace ${target.graceSeconds}s); no more of its tasks are launched`);
  }
}
