import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { attachObservability, describeActors } from '../../src/observability/index.js';
import { Signals } from '../../src/runtime/signals.js';
import { demoMachine } from './fixtures.js';

test('attachObservability wires the status endpoint, the inspector and the progress line, and close() stops them', async () => {
  const signals = new Signals();
  const written: string[] = [];
  let actor: ReturnType<typeof createActor<typeof demoMachine>> | undefined;
  const observability = await attachObservability({
    signals,
    httpPort: 0,
    inspectPort: 0,
    progress: true,
    stream: { isTTY: true, write: (chunk: string) => written.push(chunk) },
    getMachineStates: () => describeActors({ framework: actor }),
  });
  assert.ok(observability.inspect, 'an inspect observer for createActor');
  assert.match(observability.statusUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(observability.inspectUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  actor = createActor(demoMachine, { inspect: observability.inspect }).start();

  signals.emit('subscribed', { frameworkId: 'fw', master: 'm:5050', resubscribe: false });
  signals.emit('roundStarted', { round: 1, tasks: 1 });
  assert.equal((await fetch(`${observability.statusUrl}/health`)).status, 200);
  const state = (await (await fetch(`${observability.statusUrl}/state`)).json()) as { machines: unknown; job: { round: number } };
  assert.deepEqual(state.machines, { framework: { value: 'idle', status: 'active' } });
  assert.equal(state.job.round, 1);
  assert.ok(written.join('').includes('round 1 · running 0 · finished 0 · failed 0'));
  assert.equal((await fetch(observability.inspectUrl ?? '')).status, 200);

  await observability.close();
  actor.stop();
  await assert.rejects(fetch(`${observability.statusUrl}/health`));
  await assert.rejects(fetch(observability.inspectUrl ?? ''));
  assert.equal(signals.listenerCount('roundStarted'), 0, 'no listeners left behind');
});

test('without flags it starts nothing', async () => {
  const signals = new Signals();
  const observability = await attachObservability({ signals, progress: true, stream: { isTTY: false, write: () => true } });
  assert.equal(observability.inspect, undefined);
  assert.equal(observability.statusUrl, undefined);
  assert.equal(observability.progress, undefined);
  assert.equal(signals.eventNames().length, 0);
  await observability.close();
});

test('a port in use is an error, and nothing is left running', async () => {
  const signals = new Signals();
  const first = await attachObservability({ signals, httpPort: 0, progress: false });
  const port = Number(new URL(first.statusUrl ?? '').port);
  await assert.rejects(attachObservability({ signals, httpPort: port, progress: false }), /EADDRINUSE/);
  await first.close();
  assert.equal(signals.eventNames().length, 0);
});
