import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createActor } from 'xstate';
import { parseInspectorMessage, renderInspectorSession, type InspectorMessage, type InspectorRecording } from '../../scripts/lib/inspector-picture.js';
import { demoMachine, startInspectedFramework } from './fixtures.js';
import { definitionId, inspectorWithClient } from './inspector-client.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

/**
 * Well-formed XML, checked by hand (no parser among the dependencies): tags
 * nest and close, attributes are quoted, text has no bare `<` or `&`, and
 * comments hold no `--`.
 */
function assertWellFormed(svg: string): void {
  const body = svg.replace(/<!--([\s\S]*?)-->/g, (_, comment: string) => {
    assert.ok(!comment.includes('--'), `"--" inside a comment: ${comment}`);
    return '';
  });
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let match = tag.exec(body); match !== null; match = tag.exec(body)) {
    const between = body.slice(last, match.index);
    assert.ok(!/</.test(between), `a stray "<" before ${match[0]}: ${between.slice(0, 80)}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between), `a bare "&" in ${between.slice(0, 80)}`);
    last = match.index + match[0].length;
    const [, closing, name = '', , selfClosing] = match;
    if (closing === '/') {
      assert.equal(stack.pop(), name, `</${name}> closes what it did not open`);
    } else if (selfClosing !== '/') {
      if (stack.length === 0) roots += 1;
      stack.push(name);
    } else if (stack.length === 0) {
      roots += 1;
    }
  }
  assert.ok(!/</.test(body.slice(last)), 'a stray "<" at the end');
  assert.deepEqual(stack, [], 'every tag is closed');
  assert.equal(roots, 1, 'one root element');
  assert.match(body.trimStart(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
}

/** The text of the picture, as a reader sees it (entities decoded). */
function textOf(svg: string): string {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)]
    .map((m) => (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'))
    .join('\n');
}

test('draws the actors, their states and the events of a real inspected framework', async (t) => {
  const { inspector, client } = await inspectorWithClient(t);

  const actor = startInspectedFramework(inspector);
  const tasks = (all: InspectorMessage[]) => all.filter((m) => m.type === '@xstate.actor' && definitionId(m) === 'task');
  await client.until((all) => tasks(all).length === 2 && all.some((m) => m.type === '@xstate.snapshot' && m.event?.type === 'mesos.offers'));
  actor.stop();
  const framework = client.messages.find((m) => m.type === '@xstate.actor' && definitionId(m) === 'framework');
  assert.ok(framework);
  await client.until((all) => all.some((m) => m.type === '@xstate.snapshot' && m.sessionId === framework.sessionId && m.snapshot?.status === 'stopped'));

  const svg = renderInspectorSession({ command: 'test run', messages: client.messages });
  assertWellFormed(svg);
  const shown = textOf(svg);
  assert.match(shown, /not a screenshot of stately\.ai/);
  assert.match(shown, /Run: test run/);
  // The actor tree: each actor, its machine, its last state and status.
  for (const name of ['framework', 'job', 'subscription', ...tasks(client.messages).map((m) => m.name ?? '?')]) {
    assert.ok(shown.includes(name), `names the actor ${name}`);
  }
  for (const machine of ['framework', 'job', 'task', 'subscription (actor)']) assert.ok(shown.split('\n').includes(machine), `names the machine ${machine}`);
  assert.ok(shown.split('\n').includes('operating.{connection.session.subscribed, lifecycle.running}'), 'the framework\'s last state');
  assert.ok(shown.split('\n').includes('alive.launched'), 'a task\'s last state');
  assert.ok(shown.split('\n').includes('stopped'), 'the status of a stopped actor');
  // The sequence: lifelines, events between actors, and the states they led to.
  for (const event of ['xstate.init', 'conn.subscribed', 'job.subscribed', 'mesos.offers', 'job.offersWanted']) {
    assert.ok(shown.split('\n').includes(event), `draws the event ${event}`);
  }
  assert.ok(shown.includes('outside'), 'a lifeline for events sent by no actor');
  assert.ok(shown.includes('framework → operating.connection.session.subscribed'), 'the state conn.subscribed led to');
  assert.ok(shown.includes('job → active.phase.round.running'), 'the state the offers led to');
  // subscription feeds the framework: its lifeline stands left of it.
  const x = (label: string) => Number(new RegExp(`<text x="([\\d.]+)"[^>]*font-weight="bold" text-anchor="middle">${label}</text>`).exec(svg)?.[1]);
  assert.ok(x('subscription') < x('framework') && x('framework') < x('job'), 'lifelines: subscription, framework, job');
});

test('collapses repeated events and leaves out the middle of a long session', async (t) => {
  const { inspector, client } = await inspectorWithClient(t);
  const actor = createActor(demoMachine, { inspect: inspector.inspect }).start();
  t.after(() => actor.stop());
  for (let i = 0; i < 5; i += 1) actor.send({ type: 'ping' });
  for (let i = 0; i < 30; i += 1) actor.send({ type: i % 2 === 0 ? 'retry' : 'ping' });
  actor.send({ type: 'stop' });
  await client.until((all) => all.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.status === 'done'));

  const svg = renderInspectorSession({ command: 'demo', notes: ['a note & <more>'], messages: client.messages }, { maxArrows: 12 });
  assertWellFormed(svg);
  const shown = textOf(svg);
  assert.ok(shown.split('\n').includes('ping ×5'), 'five pings in a row are one arrow');
  const arrows = (svg.match(/marker-end=/g) ?? []).length;
  assert.equal(arrows, 12, 'at most maxArrows arrows');
  assert.match(shown, /… \d+ more events \(\d+ arrows\) left out here/);
  assert.ok(shown.split('\n').includes('stop'), 'the last events are drawn');
  assert.ok(shown.includes('demo → done (done)'), 'the end state');
  assert.ok(shown.includes('a note & <more>'), 'the recording\'s notes, escaped');
});

test('parseInspectorMessage takes relay messages only', () => {
  assert.equal(parseInspectorMessage('not json'), undefined);
  assert.equal(parseInspectorMessage('{"type":"@xstate.event"}'), undefined);
  assert.equal(parseInspectorMessage('{"type":"other","sessionId":"x:0"}'), undefined);
  assert.deepEqual(parseInspectorMessage('{"type":"@xstate.event","sessionId":"x:0","event":{"type":"go"}}'), {
    type: '@xstate.event', sessionId: 'x:0', event: { type: 'go' },
  });
});

test('the committed picture is drawn from the committed recording (run `npm run picture:inspector` if this fails)', (t) => {
  const svgFile = join(root, 'visualizations/inspector-session.svg');
  const jsonFile = join(root, 'visualizations/inspector-session.json');
  assert.ok(existsSync(svgFile), 'visualizations/inspector-session.svg exists');
  const svg = readFileSync(svgFile, 'utf8');
  assertWellFormed(svg);
  assert.match(textOf(svg), /Rendered from a recorded --inspect session of a real run .*not a screenshot of stately\.ai/);
  if (!existsSync(jsonFile)) return t.skip('no recording committed (it was over 200 KB)');
  const recording = JSON.parse(readFileSync(jsonFile, 'utf8')) as InspectorRecording;
  assert.equal(renderInspectorSession(recording), svg, 'run `npx tsx scripts/inspector-picture.ts --from visualizations/inspector-session.json` after changing the renderer');
});
