import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor, waitFor } from 'xstate';
import { startInspector } from '../../src/observability/inspector.js';
import { demoMachine, startInspectedFramework } from './fixtures.js';
import { definitionId, inspectorWithClient, listen, type Message } from './inspector-client.js';

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

test('the real framework machine shows its framework and job actors, and its tasks (data) as task actors under the job', async (t) => {
  const { inspector, client } = await inspectorWithClient(t);

  const actor = startInspectedFramework(inspector);
  t.after(() => actor.stop());

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
  const job = actors(client.messages).find((m) => definitionId(m) === 'job');
  const tasks = actors(client.messages).filter((m) => definitionId(m) === 'task');
  assert.deepEqual(tasks.map((m) => [m.sessionId, m.parentId, m.snapshot?.value]), [
    ['task:inspected-r1-t1-r1', job?.sessionId, { alive: 'launched' }],
    ['task:inspected-r1-t2-r1', job?.sessionId, { alive: 'launched' }],
  ]);
  const jobSnapshots = client.messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === job?.sessionId);
  assert.ok(jobSnapshots.length > 0);
  for (const m of jobSnapshots) {
    const context = (m.snapshot as { context?: Record<string, unknown> } | undefined)?.context;
    assert.equal(context?.['active'], undefined, 'the job\'s snapshots leave its tasks out');
    assert.equal(typeof context?.['tasksInFlight'], 'number');
  }
});
