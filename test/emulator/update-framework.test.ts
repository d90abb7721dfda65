/**
 * UPDATE_FRAMEWORK as Mesos 1.11 answers it (master.cpp updateFramework, the
 * hierarchical allocator's updateFramework): 200 once applied; roles added get
 * offers, offers to a role the framework left are rescinded, suppressed roles
 * are offered nothing more (their outstanding offers stay), roles that leave
 * the suppressed set have their filters cleared; an invalid call is a 400 with
 * the master's reason and changes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event, FrameworkInfo, Offer } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, eventually, post } from './wire-client.js';

function offersFrom(sub: Subscription, from: number): Offer[] {
  return sub.events.slice(from).filter((e: Event) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers ?? []);
}

async function subscribeWithRoles(t: { after: (fn: () => void) => void }, url: string, roles: string[]): Promise<{ sub: Subscription; info: FrameworkInfo }> {
  const info: FrameworkInfo = { user: 'nobody', name: 'multi', roles, capabilities: [{ type: 'MULTI_ROLE' }], failover_timeout: 60 };
  const sub = await Subscription.open(url, { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  return { sub, info: { ...info, id: { value: sub.frameworkId } } };
}

async function rolesInState(url: string): Promise<string[]> {
  const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { frameworks: Array<{ roles: string[] }> };
  return state.frameworks[0]!.roles;
}

test('UPDATE_FRAMEWORK adds a role (offered at once), keeps suppressed roles\' offers, and rescinds the offers of a role it drops', async (t) => {
  const c = await withCluster(t, { agents: 2, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const { sub, info } = await subscribeWithRoles(t, url, ['a']);
  const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId });
  const first = await eventually(() => { const o = offersFrom(sub, 0); return o.length >= 2 ? o : undefined; });
  assert.deepEqual(first.map((o) => o.allocation_info?.role), ['a', 'a']);

  // b added, a suppressed: a's offers stay; what a gives back goes to b.
  let mark = sub.events.length;
  const added = await call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, roles: ['a', 'b'] }, suppressed_roles: ['a'] } });
  assert.deepEqual([added.status, added.body], [200, '']);
  assert.deepEqual(await rolesInState(url), ['a', 'b']);
  await call({ type: 'DECLINE', decline: { offer_ids: [first[0]!.id], filters: { refuse_seconds: 0 } } });
  const toB = (await sub.next('OFFERS', { from: mark })).offers!.offers!;
  assert.deepEqual(toB.map((o) => o.allocation_info?.role), ['b']);
  assert.ok(!sub.events.slice(mark).some((e) => e.type === 'RESCIND'), 'a suppressed role keeps its offers');

  // a dropped: its outstanding offer is rescinded, and the agent goes to b.
  mark = sub.events.length;
  const dropped = await call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, roles: ['b'] } } });
  assert.equal(dropped.status, 200);
  const rescind = await sub.next('RESCIND', { from: mark });
  assert.equal(rescind.rescind!.offer_id.value, first[1]!.id.value);
  const again = (await sub.next('OFFERS', { from: mark })).offers!.offers!;
  assert.deepEqual(again.map((o) => [o.allocation_info?.role, o.agent_id.value]), [['b', first[1]!.agent_id.value]]);
  assert.deepEqual(await rolesInState(url), ['b']);
});

test('a role that leaves the suppressed set has its filters cleared', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const { sub, info } = await subscribeWithRoles(t, url, ['a']);
  const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId });
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } });
  assert.equal((await call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info, suppressed_roles: ['a'] } })).status, 200);
  const mark = sub.events.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(offersFrom(sub, mark).length, 0, 'filtered and suppressed');
  assert.equal((await call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info } })).status, 200);
  assert.equal((await sub.next('OFFERS', { from: mark })).offers!.offers![0]!.allocation_info?.role, 'a', 'unsuppressed: the filter is gone');
});

test('an invalid UPDATE_FRAMEWORK is a 400 with the master\'s reason and changes nothing', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const { sub, info } = await subscribeWithRoles(t, url, ['a']);
  const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId });
  const cases: [FrameworkInfo, string[], string][] = [
    [{ ...info, roles: ['a', 'b'], role: 'a' }, [], "Supplied FrameworkInfo is not valid: 'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"],
    [{ ...info, roles: ['a', 'b', 'a'] }, [], "Supplied FrameworkInfo is not valid: 'FrameworkInfo.roles' contains duplicate items: { a }"],
    [{ ...info, roles: ['a', 'b'], user: 'root' }, [], "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'nobody' to 'root'"],
    [{ ...info, roles: ['a', 'b'], checkpoint: true }, [], "FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'false' to 'true'"],
    [{ ...info, roles: ['a', 'b'], principal: 'someone' }, [], "FrameworkInfo update is not valid: Changing framework's principal is not allowed."],
    [{ ...info, roles: ['a', 'b'] }, ['c', 'a', 'd'], "'UpdateFramework' call is not valid: Suppressed roles { c, d } are not contained in the set of roles"],
  ];
  for (const [frameworkInfo, suppressed, reason] of cases) {
    const res = await call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: frameworkInfo, suppressed_roles: suppressed } });
    assert.deepEqual([res.status, res.body], [400, reason]);
  }
  assert.deepEqual(await rolesInState(url), ['a'], 'no partial update');
  assert.equal(c.frameworks()[0]!.suppressed, false);
  assert.equal(sub.ended, false);
});
