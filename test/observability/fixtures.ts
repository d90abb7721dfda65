import { createActor, fromCallback, fromPromise, not, setup, type EventObject, type InspectionEvent, type Observer } from 'xstate';
import type { SubscriptionInput, TaskInspection } from '../../machines/contract.js';
import { buildFrameworkMachine } from '../../machines/index.js';

/** A small machine that uses every feature the chart generator draws. */
export const demoMachine = setup({
  types: { events: {} as { type: 'go' } | { type: 'stop' } | { type: 'ping' } | { type: 'retry' } },
  actors: {
    fetchOffers: fromPromise(async () => 1),
    stream: fromCallback(() => () => undefined),
  },
  guards: { hasCapacity: () => true, isLast: () => false },
  delays: { cooldown: 1000 },
}).createMachine({
  id: 'demo',
  initial: 'idle',
  on: { ping: {}, stop: '.done' },
  states: {
    idle: {
      on: { go: [{ target: 'working', guard: 'hasCapacity' }, { target: 'done', guard: not('hasCapacity') }] },
      after: { cooldown: 'working' },
    },
    working: {
      invoke: [
        { src: 'fetchOffers', onDone: 'both', onError: 'idle' },
        { src: 'stream', id: 'conn' },
      ],
      on: { stop: 'idle', retry: { target: 'working', reenter: true } },
    },
    both: {
      type: 'parallel',
      on: { go: { target: 'both', reenter: true } },
      states: {
        left: { initial: 'a', states: { a: { always: { target: 'b', guard: 'isLast' } }, b: {} } },
        right: {
          initial: 'c',
          states: {
            c: { on: { stop: '#demo.done', ping: 'd' } },
            d: { initial: 'e', states: { e: {} } },
          },
        },
      },
    },
    done: { type: 'final' },
  },
});

/**
 * The real framework machine, started with `inspect`, against a master that
 * subscribes it and offers room for two tasks: framework and job actors come
 * up, and the two tasks (data stepped by the job) are reported through
 * `inspectTask` (nothing answers the launches, so the tasks stay launched).
 */
export function startInspectedFramework(inspector: { inspect: Observer<InspectionEvent>; inspectTask?: (step: TaskInspection) => void }) {
  const { inspect } = inspector;
  const subscription = fromCallback<EventObject, SubscriptionInput>(({ sendBack, input }) => {
    const { generation } = input;
    sendBack({ type: 'conn.subscribed', generation, streamId: 's1', master: '127.0.0.1:5050', frameworkId: 'fw-1', heartbeatIntervalSeconds: 15 });
    const scalar = (name: string, value: number) => ({ name, type: 'SCALAR' as const, scalar: { value } });
    sendBack({
      type: 'mesos.offers',
      generation,
      receivedAt: 0,
      offers: [
        {
          id: { value: 'offer-1' },
          framework_id: { value: 'fw-1' },
          agent_id: { value: 'agent-1' },
          hostname: 'localhost',
          resources: [scalar('cpus', 4), scalar('mem', 4096)],
        },
      ],
    });
    return () => undefined;
  });
  const machine = buildFrameworkMachine({
    subscription, sendCall: () => undefined, persist: () => undefined, notify: () => undefined,
    ...(inspector.inspectTask !== undefined ? { inspectTask: inspector.inspectTask } : {}),
  });
  return createActor(machine, {
    inspect,
    input: {
      frameworkInfo: { user: 'nobody', name: 'inspected' },
      job: {
        name: 'inspected', cmd: 'true', cpus: 0.1, memMb: 32, maxTasks: 2, waitSeconds: 1, rounds: 1, role: '*',
        graceSeconds: 1, env: {}, uris: [], containerizer: 'mesos', user: 'nobody', runId: 'r1',
      },
      seed: 1,
    },
  }).start();
}
