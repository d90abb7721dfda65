/**
 * One task's life, driven by its TaskStatus updates (the job machine forwards
 * them). Duplicate updates (same state again: agents re-send until ACKed,
 * reconciliation repeats) change nothing; terminal states never change (they
 * have no transitions) and report `task.ended` to the parent (the job), which
 * stops the actor and keeps only counters. They are deliberately not
 * `type: 'final'`: see the comment at `finished` below.
 *
 *   spawned ─┬─> alive.pending (write-ahead, restored: maybe launched)
 *            ├─> alive.launched (ACCEPT sent) ─> staging ─> starting ─> running
 *            └─> (restored in a later state)      any alive state ─ task.kill ─> killing
 *   alive ── TASK_FINISHED ──> finished (terminal)    alive ── other terminal ──> failed (terminal)
 */
import { assign, enqueueActions, sendParent, setup } from 'xstate';
import type { SendCallParams, Notification } from '../contract.js';
import type { TaskState, TaskStatus } from '../../src/mesos/types.js';
import { isFailureState, isSuccessState, isTerminalState } from '../policy/task-status.js';
import { killCall } from '../policy/calls.js';

export type TaskLifecycleState = TaskState | 'PENDING_LAUNCH' | 'LAUNCHED';

export interface TaskInput {
  taskId: string;
  round: number;
  index: number;
  agentId?: string;
  /** 'LAUNCHED' right after ACCEPT, 'PENDING_LAUNCH' or a Mesos state when restored. */
  state: TaskLifecycleState;
  /** No update this long after the launch: tell the job (it reconciles). */
  launchTimeoutMs: number;
}

export interface TaskContext {
  taskId: string;
  round: number;
  index: number;
  agentId?: string;
  state: TaskLifecycleState;
  reason?: string;
  message?: string;
  killRequested: boolean;
  launchTimeoutMs: number;
}

export type TaskEvent =
  | { type: 'task.status'; status: TaskStatus }
  | { type: 'task.kill' };

/** No update since the launch: the job should ask the master about this task. */
export interface TaskSilent {
  type: 'task.silent';
  taskId: string;
}

/** What the task reports to the job when it ends. */
export interface TaskEnded {
  type: 'task.ended';
  taskId: string;
  round: number;
  state: string;
  ok: boolean;
  reason?: string;
  message?: string;
}

function statusOf(event: TaskEvent): TaskStatus | undefined {
  return event.type === 'task.status' ? event.status : undefined;
}

function hasState(state: TaskState) {
  return ({ event }: { event: TaskEvent }) => statusOf(event)?.state === state;
}

function endedReport(context: TaskContext): TaskEnded {
  const report: TaskEnded = { type: 'task.ended', taskId: context.taskId, round: context.round, state: context.state, ok: isSuccessState(context.state) };
  if (context.reason !== undefined) report.reason = context.reason;
  if (context.message !== undefined) report.message = context.message;
  return report;
}

const base = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskInput,
  },
  actions: {
    /** Effects, supplied by machines/index.ts. */
    sendCall: (_, _params: SendCallParams) => {},
    notify: (_, _params: Notification) => {},
  },
  delays: {
    launchTimeout: ({ context }) => context.launchTimeoutMs,
  },
});

const notifyTaskState = base.createAction(enqueueActions(({ context, enqueue }) => {
  const note: Notification = { type: 'taskState', taskId: context.taskId, round: context.round, state: context.state };
  if (context.reason !== undefined) note.reason = context.reason;
  if (context.message !== undefined) note.message = context.message;
  enqueue({ type: 'notify', params: note });
}));

const sendKill = base.createAction(enqueueActions(({ context, enqueue }) => {
  enqueue({ type: 'sendCall', params: { call: killCall(context.taskId, context.agentId) } });
}));

export const taskMachine = base.extend({
  actions: {
    recordStatus: assign(({ context, event }) => {
      const status = statusOf(event);
      if (status === undefined) return {};
      const next: Partial<TaskContext> = { state: status.state };
      const agentId = status.agent_id?.value ?? context.agentId;
      if (agentId !== undefined) next.agentId = agentId;
      next.reason = status.reason;
      next.message = status.message;
      return next;
    }),
    notifyTaskState,
    markKillRequested: assign({ killRequested: true }),
    sendKill,
    reportEnded: sendParent(({ context }) => endedReport(context)),
    reportSilence: sendParent(({ context }): TaskSilent => ({ type: 'task.silent', taskId: context.taskId })),
  },
  guards: {
    isDuplicateStatus: ({ context, event }) => statusOf(event)?.state === context.state,
    isFinishedStatus: ({ event }) => isSuccessState(statusOf(event)?.state ?? ''),
    isFailedStatus: ({ event }) => isFailureState(statusOf(event)?.state ?? ''),
    isStagingStatus: hasState('TASK_STAGING'),
    isStartingStatus: hasState('TASK_STARTING'),
    isRunningStatus: hasState('TASK_RUNNING'),
    isKillingStatus: hasState('TASK_KILLING'),
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
  context: ({ input }) => {
    const context: TaskContext = {
      taskId: input.taskId, round: input.round, index: input.index, state: input.state, killRequested: false, launchTimeoutMs: input.launchTimeoutMs,
    };
    if (input.agentId !== undefined) context.agentId = input.agentId;
    return context;
  },
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
          { guard: 'isFinishedStatus', target: 'finished', actions: ['recordStatus', 'notifyTaskState'] },
          { guard: 'isFailedStatus', target: 'failed', actions: ['recordStatus', 'notifyTaskState'] },
          { guard: 'isStagingStatus', target: '.staging', actions: ['recordStatus', 'notifyTaskState'] },
          { guard: 'isStartingStatus', target: '.starting', actions: ['recordStatus', 'notifyTaskState'] },
          { guard: 'isRunningStatus', target: '.running', actions: ['recordStatus', 'notifyTaskState'] },
          { guard: 'isKillingStatus', target: '.killing', actions: ['recordStatus', 'notifyTaskState'] },
          // e.g. TASK_UNREACHABLE: recorded, the task is still awaited where it is.
          { actions: ['recordStatus', 'notifyTaskState'] },
        ],
        'task.kill': { target: '.killing', actions: ['markKillRequested', 'sendKill'] },
      },
      states: {
        /** Written ahead before ACCEPT; only a restored task can still be here (maybe launched). */
        pending: {
          after: { launchTimeout: { target: 'pending', reenter: true, actions: 'reportSilence' } },
        },
        /** ACCEPT sent; no update yet. Silence for too long: the launch may be lost, ask for reconciliation. */
        launched: {
          after: { launchTimeout: { target: 'launched', reenter: true, actions: 'reportSilence' } },
        },
        staging: {},
        starting: {},
        running: {},
        /** We asked Mesos to kill it (or Mesos reports it is being killed). */
        killing: {
          on: {
            'task.status': [
              { guard: 'isDuplicateStatus' },
              { guard: 'isFinishedStatus', target: '#task.finished', actions: ['recordStatus', 'notifyTaskState'] },
              { guard: 'isFailedStatus', target: '#task.failed', actions: ['recordStatus', 'notifyTaskState'] },
              // Still alive while being killed: record, stay in killing.
              { actions: ['recordStatus', 'notifyTaskState'] },
            ],
            // KILL is not reliable: asking again re-sends it.
            'task.kill': { actions: ['markKillRequested', 'sendKill'] },
          },
        },
      },
    },
    // Terminal, but NOT `type: 'final'`. A final child makes xstate send its
    // parent `xstate.done.actor.<taskId>`, an event type unique per task, and
    // xstate memoises transition candidates per event type on every state node
    // of the job and never evicts them: the heap would grow with every task
    // lifecycle. Nothing needs that event: `task.ended` (sent on entry) is what
    // the job counts, and the job stops this actor on it. With no transitions
    // out of these states (the `alive` handlers do not apply here) a terminal
    // task never changes again and ignores later updates and kills.
    finished: { entry: 'reportEnded' },
    failed: { entry: 'reportEnded' },
  },
});
