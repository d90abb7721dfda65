import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { createActor, fromCallback, waitFor, type EventObject } from 'xstate';
import type { SubscriptionInput } from '../../machines/contract.js';
import { buildFrameworkMachine } from '../../machines/index.js';
import { startInspector } from '../../src/observability/inspector.js';
import { demoMachine } from './fixtures.js';

interface Message {
  type: string;
  sessionId: string;
  name?: string;
  parentId?: string;
  definition?: string;
  event?: { type: string };
  snapshot?: { value?: unknown; status?: string };
}

/** A plain WebSocket client of the relay, as the browser page is. */
async function listen(url: string, origin?: string) {
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  const socket = new WebSocket(url, origin === undefined ? {} : { origin });
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as Message);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    messages,
    /** Resolves once `predicate` holds for the messages received so far (fails after 10 s of waiting instead of hanging). */
    until: (predicate: (all: Message[]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => {
          const seen = messages.map((m) => `${m.type} ${m.name ?? m.event?.type ?? ''}`).join(', ');
          reject(new Error(`the expected inspector messages never came; got: ${seen}`));
        }, 10_000);
        const check = () => {
          if (!predicate(messages)) return void waiters.push(check);
          clearTimeout(guard);
          resolve();
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

test('a WebSocket client receives the actors, their events and snapshots', async (t) => {
  const inspector = await startInspector({ port: 0 });
  t.after(() => inspector.stop());
  assert.match(inspector.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const actor = createActor(demoMachine, { inspect: inspector.inspect }).start();
  t.after(() => actor.stop());
  // Joins after the actor started: the relay replays what it missed.
  const client = await listen(inspector.url.replace('http:', 'ws:'));
  t.after(() => client.close());

  actor.send({ type: 'go' });
  await waitFor(actor, (s) => s.matches('both'));
  await client.until((all) => all.some((m) => m.type === '@xstate.snapshot' && typeof m.snapshot?.value === 'object'));

  const root = client.messages.find((m) => m.type === '@xstate.actor' && m.name === 'demo');
  assert.ok(root, 'the root actor is announced');
  assert.equal(JSON.parse(root.definition ?? '{}').id, 'demo');
  const children = client.messages.filter((m) => m.type === '@xstate.actor' && m.parentId === root.sessionId);
  assert.ok(children.length >= 1, 'invoked actors are announced with their parent');
  assert.ok(
    client.messages.some((m) => m.type === '@xstate.event' && m.sessionId === root.sessionId && m.event?.type === 'go'),
    'the event sent to the actor',
  );
  const values = client.messages
    .filter((m) => m.type === '@xstate.snapshot' && m.sessionId === root.sessionId)
    .map((m) => m.snapshot?.value);
  assert.ok(values.includes('working'), 'snapshot after go');
  assert.deepEqual(values.at(-1), { both: { left: 'a', right: 'c' } });
});

test('serves the page to open, and refuses WebSocket clients from pages of other sites', async (t) => {
  const inspector = await startInspector({ port: 0 });
  t.after(() => inspector.stop());
  const page = await fetch(inspector.url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<iframe id="inspector" src="https:\/\/stately\.ai\/inspect">/);
  assert.match(html, /new WebSocket\('ws:\/\/' \+ location\.host\)/);

  const wsUrl = inspector.url.replace('http:', 'ws:');
  await assert.rejects(listen(wsUrl, 'http://evil.example'), /Unexpected server response: 401/);
  await assert.rejects(listen(wsUrl, 'http://127.0.0.1.evil.example'), /Unexpected server response: 401/);
  const fromPage = await listen(wsUrl, inspector.url);
  await fromPage.close();
  const throughTunnel = await listen(wsUrl, 'http://localhost:19420');
  await throughTunnel.close();
});

test('stop closes the port', async () => {
  const inspector = await startInspector({ port: 0 });
  const actor = createActor(demoMachine, { inspect: inspector.inspect }).start();
  actor.send({ type: 'go' });
  await inspector.stop();
  actor.stop();
  await assert.rejects(fetch(inspector.url));
});

test('the real framework machine shows its framework, job and task actors', async (t) => {
  const inspector = await startInspector({ port: 0 });
  t.after(() => inspector.stop());
  const client = await listen(inspector.url.replace('http:', 'ws:'));
  t.after(() => client.close());

  // A master that subscribes the framework and offers room for two tasks.
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
  const machine = buildFrameworkMachine({ subscription, sendCall: () => undefined, persist: () => undefined, notify: () => undefined });
  const actor = createActor(machine, {
    inspect: inspector.inspect,
    input: {
      frameworkInfo: { user: 'nobody', name: 'inspected' },
      job: {
        name: 'inspected', cmd: 'true', cpus: 0.1, memMb: 32, maxTasks: 2, waitSeconds: 1, rounds: 1, role: '*',
        graceSeconds: 1, env: {}, uris: [], containerizer: 'mesos', user: 'nobody', runId: 'r1',
      },
      seed: 1,
    },
  });
  actor.start();
  t.after(() => actor.stop());

  const definitionId = (m: Message) => (m.definition === undefined ? undefined : (JSON.parse(m.definition) as { id?: string }).id);
  const actors = (all: Message[]) => all.filter((m) => m.type === '@xstate.actor');
  await client.until((all) => {
    const list = actors(all);
    const framework = list.find((m) => definitionId(m) === 'framework');
    const job = list.find((m) => definitionId(m) === 'job' && m.parentId === framework?.sessionId);
    return list.filter((m) => definitionId(m) === 'task' && m.parentId === job?.sessionId).length === 2;
  });
  const framework = actors(client.messages).find((m) => definitionId(m) === 'framework');
  assert.ok(framework);
  assert.ok(
    client.messages.some((m) => m.type === '@xstate.event' && m.sessionId === framework.sessionId && m.event?.type === 'mesos.offers'),
    'the offers event reached the framework actor',
  );
  assert.ok(
    client.messages.some((m) => m.type === '@xstate.snapshot' && m.sessionId === framework.sessionId),
    'framework snapshots',
  );
});
