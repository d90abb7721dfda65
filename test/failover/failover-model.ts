/**
 * The test model of the failover tests: the scheduler's externally visible
 * situations as states and the faults the emulator can inject as events. It
 * is an abstract model (not the framework machine): paths through it are
 * generated with xstate/graph and each path is replayed against the real CLI
 * and a 3-master emulator (test/failover/model-paths.test.ts).
 *
 * States (the job runs 2 rounds of maxtasks tasks):
 *   subscribing  no SUBSCRIBED yet
 *   launching    the round's ACCEPT just reached the master (tasks staging)
 *   running      every task of the round is past staging
 *   cooldown     the round is done, the scheduler waits (holding nothing)
 *   done         both rounds done, the CLI exits after TEARDOWN
 *
 * Progress events (the test waits for the scheduler to get there):
 *   SUBSCRIBED, TASKS_RUNNING, ROUND_DONE, NEXT_ROUND
 * Fault events (the test injects them, then waits for the recovery):
 *   NO_LEADER          503 "no leader" from every master until one is elected (subscribing)
 *   UNAVAILABLE_503    every master answers 503 for a while, connections dropped
 *   LEADER_CHANGE      another master is elected; the old leader's streams end
 *   DROP_CONNECTIONS   every subscription connection is cut (no FIN)
 *   HEARTBEAT_LOSS     heartbeats stop on an idle stream until the scheduler gives up on it
 *   AGENT_LOST         the agent running the round's tasks is lost (its tasks fail), then comes back
 *   RESTART_SCHEDULER  SIGKILL and restart with the same state file
 *   FAILOVER_TIMEOUT   SIGKILL, stay away past --failover-timeout, restart: a new framework
 *
 * Faults are modelled in the first round (and before it) only, which keeps the
 * graph small; a fault in `launching` leaves the model in `running` (the
 * launch window has passed once the scheduler has recovered).
 */
import { assign, setup } from 'xstate';

export const FAULTS = ['NO_LEADER', 'UNAVAILABLE_503', 'LEADER_CHANGE', 'DROP_CONNECTIONS', 'HEARTBEAT_LOSS', 'AGENT_LOST', 'RESTART_SCHEDULER', 'FAILOVER_TIMEOUT'] as const;
export type Fault = (typeof FAULTS)[number];
export const PROGRESS = ['SUBSCRIBED', 'TASKS_RUNNING', 'ROUND_DONE', 'NEXT_ROUND'] as const;
export type Progress = (typeof PROGRESS)[number];
export type ModelEvent = { type: Fault | Progress };

export const ROUNDS = 2;

export interface ModelContext {
  round: number;
  /** The fault just injected and the state it hit, e.g. 'running:LEADER_CHANGE' (cleared by progress); tells paths apart in the graph. */
  lastFault: string | null;
  /** Faults injected so far in this path, in order. */
  faults: Fault[];
}

type FaultParams = { where: string; fault: Fault };
const fault = (where: string, f: Fault, guard: 'firstRound' | 'noFaultYet' = 'firstRound') =>
  ({ guard, actions: { type: 'fault' as const, params: { where, fault: f } } });
const progress = { type: 'progress' as const };

export const failoverModel = setup({
  types: { context: {} as ModelContext, events: {} as ModelEvent },
  guards: {
    firstRound: ({ context }) => context.round === 1,
    noFaultYet: ({ context }) => context.faults.length === 0,
    lastRound: ({ context }) => context.round >= ROUNDS,
  },
  actions: {
    fault: assign(({ context }, params: FaultParams) => ({ lastFault: `${params.where}:${params.fault}`, faults: [...context.faults, params.fault] })),
    progress: assign({ lastFault: null }),
    nextRound: assign({ round: ({ context }) => context.round + 1 }),
  },
}).createMachine({
  id: 'failover',
  context: { round: 1, lastFault: null, faults: [] },
  initial: 'subscribing',
  states: {
    subscribing: {
      on: {
        SUBSCRIBED: { target: 'launching', actions: progress },
        // Faults before the first SUBSCRIBED: the scheduler starts into them and must get through.
        NO_LEADER: { target: 'subscribing', ...fault('subscribing', 'NO_LEADER', 'noFaultYet') },
        UNAVAILABLE_503: { target: 'subscribing', ...fault('subscribing', 'UNAVAILABLE_503', 'noFaultYet') },
        LEADER_CHANGE: { target: 'subscribing', ...fault('subscribing', 'LEADER_CHANGE', 'noFaultYet') },
      },
    },
    launching: {
      on: {
        TASKS_RUNNING: { target: 'running', actions: progress },
        LEADER_CHANGE: { target: 'running', ...fault('launching', 'LEADER_CHANGE') },
        DROP_CONNECTIONS: { target: 'running', ...fault('launching', 'DROP_CONNECTIONS') },
        RESTART_SCHEDULER: { target: 'running', ...fault('launching', 'RESTART_SCHEDULER') },
      },
    },
    running: {
      on: {
        ROUND_DONE: [
          { guard: 'lastRound', target: 'done', actions: progress },
          { target: 'cooldown', actions: progress },
        ],
        LEADER_CHANGE: { target: 'running', ...fault('running', 'LEADER_CHANGE') },
        DROP_CONNECTIONS: { target: 'running', ...fault('running', 'DROP_CONNECTIONS') },
        UNAVAILABLE_503: { target: 'running', ...fault('running', 'UNAVAILABLE_503') },
        AGENT_LOST: { target: 'running', ...fault('running', 'AGENT_LOST') },
        RESTART_SCHEDULER: { target: 'running', ...fault('running', 'RESTART_SCHEDULER') },
        FAILOVER_TIMEOUT: { target: 'running', ...fault('running', 'FAILOVER_TIMEOUT') },
      },
    },
    cooldown: {
      on: {
        NEXT_ROUND: { target: 'launching', actions: [progress, { type: 'nextRound' }] },
        LEADER_CHANGE: { target: 'cooldown', ...fault('cooldown', 'LEADER_CHANGE') },
        HEARTBEAT_LOSS: { target: 'cooldown', ...fault('cooldown', 'HEARTBEAT_LOSS') },
        RESTART_SCHEDULER: { target: 'cooldown', ...fault('cooldown', 'RESTART_SCHEDULER') },
      },
    },
    done: { type: 'final' },
  },
});

export const MODEL_EVENTS: ModelEvent[] = [...PROGRESS, ...FAULTS].map((type) => ({ type }));

/** Graph vertices: state, round and the fault just injected (so each fault in each state gets its own path). */
export function serializeModelState(snap: { value: unknown; context: ModelContext }): string {
  return JSON.stringify({ v: snap.value, r: snap.context.round, f: snap.context.lastFault });
}
