/** A small machine that uses every feature the chart generator draws. */
import { fromCallback, fromPromise, not, setup } from 'xstate';

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
