/**
 * Agent attributes (the agent's --attributes syntax) and hostnames on offers
 * and in /master/state; offers to each of a MULTI_ROLE framework's roles as
 * the hierarchical allocator makes them, with per-role SUPPRESS, REVIVE,
 * suppressed_roles and refusal filters per (role, agent); task labels and
 * disk in /master/state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AttributeError, parseAttributes } from '../../src/emulator/attributes.js';
import type { Event, Offer } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

test('attributes are read as the Mesos agent reads --attributes', () => {
  assert.deepEqual(parseAttributes('rack:r1;zone:eu-1'), [
    { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
    { name: 'zone', type: 'TEXT', text: { value: 'eu-1' } },
  ]);
  assert.deepEqual(parseAttributes('weight: 2.5\ngen:3'), [
    { name: 'weight', type: 'SCALAR', scalar: { value: 2.5 } },
    { name: 'gen', type: 'SCALAR', scalar: { value: 3 } },
  ]);
  assert.deepEqual(parseAttributes('slots:[5-9, 1-4, 20-30]'), [{ name: 'slots', type: 'RANGES', ranges: { range: [{ begin: 1, end: 9 }, { begin: 20, end: 30 }] } }]);
  assert.deepEqual(parseAttributes('os:debian 12'), [{ name: 'os', type: 'TEXT', text: { value: 'debian12' } }], 'spaces are removed');
  for (const [bad, message] of [
    ['tags:{a,b}', /set value/], ['rack', /Invalid attribute key:value pair 'rack'/], ['rack:', /Invalid attribute key:value pair/],
    [':r1', /Invalid attribute key:value pair/], ['slots:[1-', /Mismatched brackets/], ['slots:[a-b]', /non-negative integers/], ['x:a[1]', /Unexpected '\['/],
  ] as const) {
    assert.throws(() => parseAttributes(bad), (err: Error) => err instanceof AttributeError && message.test(err.message), bad);
  }
});

test('offers carry each agent\'s attributes and hostname; /master/state shows them', async (t) => {
  const c = await withCluster(t, { agents: 3, mode: 'simulated', agentAttributes: ['rack:r1;zone:eu-1', 'rack:r2;zone:eu-2;slots:[1-4]'], agentHostnames: ['node-a', 'node-b'] });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('attrs'));
  t.after(() => sub.close());
  const offers = (await sub.next('OFFERS')).offers!.offers!;
  assert.equal(offers.length, 3);
  const byAgent = new Map(c.agents().map((a, i) => [a.id, i]));
  for (const o of offers) {
    const i = byAgent.get(o.agent_id.value)!;
    assert.equal(o.hostname, ['node-a', 'node-b', 'node-a'][i]);
    assert.equal(o.url?.address.hostname, o.hostname);
    assert.deepEqual(o.attributes, parseAttributes(i === 1 ? 'rack:r2;zone:eu-2;slots:[1-4]' : 'rack:r1;zone:eu-1'));
  }
  const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { slaves: Array<{ id: string; hostname: string; attributes: Record<string, unknown> }> };
  const second = state.slaves.find((s) => byAgent.get(s.id) === 1)!;
  assert.equal(second.hostname, 'node-b');
  assert.deepEqual(second.attributes, { rack: 'r2', zone: 'eu-2', slots: '[1-4]' });
});

test('a bad attribute or hostname refuses to start the cluster', async () => {
  const { startCluster } = await import('../../src/emulator/index.js');
  await assert.rejects(startCluster({ agents: 1, agentAttributes: ['tags:{a,b}'] }), AttributeError);
  await assert.rejects(startCluster({ agents: 1, agentHostnames: ['bad host'] }), /invalid agent hostname 'bad host'/);
});

function offersFrom(sub: Subscription, from: number): Offer[] {
  return sub.events.slice(from).filter((e: Event) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers ?? []);
}

async function multiRole(t: { after: (fn: () => void) => void }, url: string, extra: Record<string, unknown> = {}): Promise<Subscription> {
  const sub = await Subscription.open(url, {
    type: 'SUBSCRIBE',
    subscribe: { framework_info: { user: 'nobody', name: 'multi', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }], failover_timeout: 60 }, ...extra },
  });
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  return sub;
}

test('a MULTI_ROLE framework is offered resources for each of its roles, with allocation_info.role', async (t) => {
  const c = await withCluster(t, { agents: 2, mode: 'simulated' });
  const sub = await multiRole(t, c.leaderUrl()!);
  const offers = await eventually(() => { const o = offersFrom(sub, 0); return o.length >= 2 ? o : undefined; });
  assert.deepEqual(offers.map((o) => o.allocation_info?.role).sort(), ['a', 'b'], 'one agent to each role (the other role has the smaller share)');
  for (const o of offers) for (const r of o.resources!) assert.deepEqual(r.allocation_info, o.allocation_info);
});

test('SUPPRESS and REVIVE with roles act per role; SUBSCRIBE with suppressed_roles starts with those suppressed', async (t) => {
  const c = await withCluster(t, { agents: 2, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await multiRole(t, url, { suppressed_roles: ['b'] });
  const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId });
  const first = await eventually(() => { const o = offersFrom(sub, 0); return o.length >= 2 ? o : undefined; });
  assert.deepEqual(first.map((o) => o.allocation_info?.role), ['a', 'a'], 'b was suppressed at SUBSCRIBE');

  // Suppress a, revive b: what comes back goes to b only.
  assert.equal((await call({ type: 'SUPPRESS', suppress: { roles: ['a'] } })).status, 202);
  assert.equal((await call({ type: 'REVIVE', revive: { roles: ['b'] } })).status, 202);
  const mark = sub.events.length;
  await call({ type: 'DECLINE', decline: { offer_ids: first.map((o) => o.id), filters: { refuse_seconds: 0 } } });
  const second = await eventually(() => { const o = offersFrom(sub, mark); return o.length >= 2 ? o : undefined; });
  assert.deepEqual(second.map((o) => o.allocation_info?.role), ['b', 'b']);
  assert.equal(c.frameworks()[0]!.suppressed, false);
  await call({ type: 'SUPPRESS', suppress: { roles: ['b'] } });
  await eventually(() => (c.frameworks()[0]!.suppressed ? true : undefined));
});

test('refusal filters are per (role, agent): an agent declined for one role is offered to the framework\'s other role', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await multiRole(t, url);
  const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId });
  const [offer] = offersFrom(sub, 0).length ? offersFrom(sub, 0) : (await sub.next('OFFERS')).offers!.offers!;
  const declinedRole = offer!.allocation_info!.role!;
  const mark = sub.events.length;
  await call({ type: 'DECLINE', decline: { offer_ids: [offer!.id], filters: { refuse_seconds: 3600 } } });
  const next = (await sub.next('OFFERS', { from: mark })).offers!.offers![0]!;
  assert.notEqual(next.allocation_info!.role, declinedRole);
  // Declined for both roles now: no more offers until REVIVE of one of them.
  const mark2 = sub.events.length;
  await call({ type: 'DECLINE', decline: { offer_ids: [next.id], filters: { refuse_seconds: 3600 } } });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(offersFrom(sub, mark2).length, 0);
  await call({ type: 'REVIVE', revive: { roles: [declinedRole] } });
  assert.equal((await sub.next('OFFERS', { from: mark2 })).offers!.offers![0]!.allocation_info!.role, declinedRole);
});

test('tasks with labels and disk are accepted and shown in /master/state like Mesos does', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('labels', { failover_timeout: 60 }));
  t.after(() => sub.close());
  autoAcknowledge(url, sub);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  const task = commandTask('labelled', offer, 'sleep 100', { labels: { labels: [{ key: 'job', value: 'etl' }, { key: 'flag' }] } });
  task.resources!.push({ name: 'disk', type: 'SCALAR', scalar: { value: 512 } });
  assert.equal((await launch(url, sub, [offer], [task])).status, 202);
  await updateOf(sub, 'labelled', 'TASK_RUNNING');
  const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { frameworks: Array<{ tasks: Array<Record<string, unknown>> }> };
  const shown = state.frameworks[0]!.tasks[0]!;
  assert.deepEqual(shown.labels, [{ key: 'job', value: 'etl' }, { key: 'flag' }]);
  assert.deepEqual(shown.resources, { cpus: 0.5, mem: 64, disk: 512 });
  assert.equal(shown.role, '*');
});
