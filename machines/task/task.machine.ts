/**
 * One task's life, driven by its TaskStatus updates. A task is data, not an
 * actor: the job keeps each task's snapshot of this machine and steps it with
 * xstate's pure `initialTransition()` / `transition()` (see
 * machines/job/task-steps.ts), then carries out the actions the step returns.
 * So this machine declares its effects as named actions with params and
 * never sends anything itself:
 *
 * - `sendCall` (KILL) and `notify` (taskState): passed on to the job's effects;
 * - `reportSilence`: no word from Mesos since the launch; the job reconciles.
 *
 * Duplicate updates (the same state again: agents re-send until ACKed,
 * reconciliation repeats) change nothing. The end states are final: the job
 * sees `status: 'done'` and the machine's output, counts the task and drops
 * its snapshot.
 *
 *   spawned ─┬─> alive.pending (written ahead, restored: maybe launched)
 *            ├─> alive.launched (ACCEPT made) ─> staging ─> starting ─> running
 *            └─> (restored in a later state)     any alive state ─ task.kill ─> killing
 *   alive ── TASK_FINISHED ──> finished      alive ── other terminal ──> failed
 *   alive.launched ── task.unsent (the ACCEPT never reached the master) ──> unlaunched
 *
 * The machine has no clock. The job's sweep sends `task.sweep` with its sweep
 * count to the tasks not heard of since their launch; a task launched at
 * least one whole sweep ago reports its silence.
 */
import { assign, setup } from 'xstate';
import type { Notification, SendCallParams } from '../contract.js';
import type { TaskState, TaskStatus } from '../../src/mesos/types.js';
import { isFailureState, isSuccessState, isTerminalState } from '../policy/task-status.js';
import { killCall } from '../policy/calls.js';

/** A task's state as the scheduler knows it: a Mesos state, or before any word from Mesos. */
export type TaskLifecycleState = TaskState | 'PENDING_LAUNCH' | 'LAUNCHED';

export interface TaskInput {
  taskId: string;
  round: number;
  index: number;
  agentId?: string;
  /** 'LAUNCHED' right after ACCEPT, 'PENDING_LAUNCH' or a Mesos state when restored. */
  state: TaskLifecycleState;
  /** The job's sweep count when the task was created. */
  sweep: number;
}

export interface TaskContext {
  taskId: string;
  round: number;
  index: number;
  agentId?: string;
  state: TaskLifecycleState;
  reason?: string;
  /** Who reported the last update (SOURCE_MASTER, SOURCE_AGENT, SOURCE_EXECUTOR). */
  source?: string;
  message?: string;
  /** The job's sweep count when the task was created (launched or restored). */
  sweep: number;
}

export type TaskEvent =
  | { type: 'task.status'; status: TaskStatus }
  /** Ask Mesos to kill the task; `graceSeconds`: with a kill policy of that grace. */
  | { type: 'task.kill'; graceSeconds?: number }
  /** The job's periodic sweep (its count): a task silent since an earlier sweep reports it. */
  | { type: 'task.sweep'; sweep: number }
  /** The ACCEPT that launched this task never reached the master (not sent, or refused). */
  | { type: 'task.unsent' };

/** The machine's output once it is done (a final state). */
export interface TaskOutcome {
  state: string;
  /** TASK_FINISHED. */
  ok: boolean;
  /** False when the task never reached the master: it ran nowhere and counts neither way. */
  reached: boolean;
  reason?: string;
  message?: string;
}

/** A new or restored task's context (the machine's `context`; task.steps.ts builds cached snapshots with it). */
export function initialTaskContext(input: TaskInput): TaskContext {
  const context: TaskContext = { taskId: input.taskId, round: input.round, index: input.index, state: input.state, sweep: input.sweep };
  if (input.agentId !== undefined) context.agentId = input.agentId;
  return context;
}

function statusOf(event: TaskEvent): TaskStatus | undefined {
  return event.type === 'task.status' ? event.status : undefined;
}

function hasState(state: TaskState) {
  return ({ event }: { event: TaskEvent }) => statusOf(event)?.state === state;
}

function stateNote(context: TaskContext): Notification {
  const note: Notification = { type: 'taskState', taskId: context.taskId, round: context.round, state: context.state };
  if (context.reason !== undefined) note.reason = context.reason;
  if (context.source !== undefined) note.source = context.source;
  if (context.message !== undefined) note.message = context.message;
  return note;
}

export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskInput,
    output: {} as TaskOutcome,
  },
  actions: {
    /** Carried out by the job (task-steps.ts) through its effects. */
    sendCall: (_, _params: SendCallParams) => {},
    notify: (_, _params: Notification) => {},
    reportSilence: (_, _params: { taskId: string }) => {},
    recordStatus: assign(({ context, event }) => {
      const status = statusOf(event);
      if (status === undefined) return {};
      const next: Partial<TaskContext> = { state: status.state };
      const agentId = status.agent_id?.value ?? context.agentId;
      if (agentId !== undefined) next.agentId = agentId;
      next.reason = status.reason;
      next.source = status.source;
      next.message = status.message;
      return next;
    }),
  },
  guards: {
    isDuplicateStatus: ({ context, event }) => statusOf(event)?.state === context.state,
    isFinishedStatus: ({ event }) => isSuccessState(statusOf(event)?.state ?? ''),
    isFailedStatus: ({ event }) => isFailureState(statusOf(event)?.state ?? ''),
    isStagingStatus: hasState('TASK_STAGING'),
    isStartingStatus: hasState('TASK_STARTING'),
    isRunningStatus: hasState('TASK_RUNNING'),
    isKillingStatus: hasState('TASK_KILLING'),
    /** Created at least one whole sweep before this one. */
    isSilentSinceASweep: ({ context, event }) => event.type === 'task.sweep' && event.sweep - context.sweep >= 2,
    wasLaunched: ({ context }) => context.state === 'LAUNCHED',
    wasStaging: ({ context }) => context.state === 'TASK_STAGING',
    wasStarting: ({ context }) => context.state === 'TASK_STARTING',
    wasRunning: ({ context }) => context.state === 'TASK_RUNNING' || context.state === 'TASK_UNREACHABLE',
    wasKilling: ({ context }) => context.state === 'TASK_KILLING',
    wasFinished: ({ context }) => isSuccessState(context.state),
    wasFailed: ({ context }) => isTerminalState(context.state) && !isSuccessState(context.state),
  },
}).createMachine({
  id: 'task',
  context: ({ input }) => initialTaskContext(input),
  initial: 'spawned',
  states: {
    /** Routes a new or restored task to the state it is known to be in. */
    spawned: {
      always: [
        { guard: 'wasLaunched', target: 'alive.launched' },
        { guard: 'wasStaging', target: 'alive.staging' },
        { guard: 'wasStarting', target: 'alive.starting' },
        { guard: 'wasRunning', target: 'alive.running' },
        { guard: 'wasKilling', target: 'alive.killing' },
        { guard: 'wasFinished', target: 'finished' },
        { guard: 'wasFailed', target: 'failed' },
        { target: 'alive.pending' },
      ],
    },
    alive: {
      initial: 'pending',
      on: {
        'task.status': [
          { guard: 'isDuplicateStatus' },
          { guard: 'isFinishedStatus', target: 'finished', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          { guard: 'isFailedStatus', target: 'failed', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          { guard: 'isStagingStatus', target: '.staging', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          { guard: 'isStartingStatus', target: '.starting', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          { guard: 'isRunningStatus', target: '.running', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          { guard: 'isKillingStatus', target: '.killing', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
          // TASK_UNREACHABLE, TASK_UNKNOWN: recorded, the task is still awaited where it is.
          { actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
        ],
        'task.kill': { target: '.killing', actions: { type: 'sendCall', params: ({ context, event }) => ({ call: killCall(context.taskId, context.agentId, event.graceSeconds) }) } },
      },
      states: {
        /** Written ahead before ACCEPT; only a restored task can still be here (maybe launched). */
        pending: {
          on: { 'task.sweep': { guard: 'isSilentSinceASweep', actions: { type: 'reportSilence', params: ({ context }) => ({ taskId: context.taskId }) } } },
        },
        /** ACCEPT made; no word from Mesos yet. Silent too long: the launch may be lost, ask for reconciliation. */
        launched: {
          on: {
            'task.sweep': { guard: 'isSilentSinceASweep', actions: { type: 'reportSilence', params: ({ context }) => ({ taskId: context.taskId }) } },
            'task.unsent': { target: '#task.unlaunched' },
          },
        },
        staging: {},
        starting: {},
        running: {},
        /** We asked Mesos to kill it (or Mesos reports it is being killed). */
        killing: {
          on: {
            'task.status': [
              { guard: 'isDuplicateStatus' },
              { guard: 'isFinishedStatus', target: '#task.finished', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
              { guard: 'isFailedStatus', target: '#task.failed', actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
              // Still alive while being killed: record, stay in killing.
              { actions: ['recordStatus', { type: 'notify', params: ({ context }) => stateNote(context) }] },
            ],
            // KILL is not reliable: asking again re-sends it.
            'task.kill': { actions: { type: 'sendCall', params: ({ context, event }) => ({ call: killCall(context.taskId, context.agentId, event.graceSeconds) }) } },
          },
        },
      },
    },
    finished: { type: 'final' },
    failed: { type: 'final' },
    /** Its ACCEPT never reached the master: it ran nowhere; the job launches another in its place. */
    unlaunched: { type: 'final' },
  },
  output: ({ context }) => {
    // Only `unlaunched` ends without a terminal Mesos state (the task stays LAUNCHED).
    const outcome: TaskOutcome = { state: context.state, ok: isSuccessState(context.state), reached: isTerminalState(context.state) };
    if (context.reason !== undefined) outcome.reason = context.reason;
    if (context.message !== undefined) outcome.message = context.message;
    return outcome;
  },
});
