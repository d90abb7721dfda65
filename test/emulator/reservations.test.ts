/**
 * Dynamic reservations on the agents' default resources, as a 1.11 master
 * applies them (src/master/master.cpp _accept, src/master/validation.cpp):
 * RESERVE turns offered unreserved resources into resources reserved for the
 * framework's role, later offers to that role carry them (refined
 * `reservations`, or `role` + `reservation` for frameworks without
 * RESERVATION_REFINEMENT), other roles never get them, UNRESERVE gives them
 * back; with an `id` the agent reports OPERATION_FINISHED, an invalid one is
 * dropped with OPERATION_ERROR.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WireFormat } from '../../src/mesos/codec.js';
import type { Event, FrameworkInfo, Offer, Operation, OperationStatus, Resource } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acceptOperations, commandTask, eventually, openFramework, post, subscribeCall, updateOf } from './wire-client.js';

const REFINEMENT = { capabilities: [{ type: 'RESERVATION_REFINEMENT' as const }] };
const reserved = (name: string, value: number, role = 'dev', principal: string | null = 'alice'): Resource => ({
  name, type: 'SCALAR', scalar: { value },
  reservations: [{ type: 'DYNAMIC', role, ...(principal !== null ? { principal } : {}) }],
});

const open = (t: { after: (fn: () => void) => void }, url: string, extra: Partial<FrameworkInfo> = {}, format: WireFormat = 'json'): Promise<Subscription> =>
  openFramework(t, url, 'res', extra, format);
const accept = acceptOperations;

async function opUpdate(sub: Subscription, id: string, from: number): Promise<OperationStatus> {
  return (await sub.next((e) => e.update_operation_status?.status.operation_id?.value === id, { from })).update_operation_status!.status;
}

async function nextOffer(sub: Subscription, from: number): Promise<Offer> {
  return (await sub.next('OFFERS', { from })).offers!.offers![0]!;
}

const reservedOf = (offer: Offer): Resource[] => (offer.resources ?? []).filter((r) => (r.reservations ?? []).length > 0 || (r.role !== undefined && r.role !== '*'));
const scalarOf = (rs: Resource[], name: string): number => rs.filter((r) => r.name === name).reduce((s, r) => s + (r.scalar?.value ?? 0), 0);

interface StateAgent { reserved_resources: Record<string, { cpus: number; mem: number }>; reserved_resources_full: Record<string, Resource[]>; unreserved_resources: { cpus: number }; resources: { cpus: number } }
async function stateAgent(url: string): Promise<StateAgent> {
  const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { slaves: StateAgent[] };
  return state.slaves[0]!;
}

for (const format of ['json', 'protobuf'] as const) {
  test(`RESERVE (${format}) with an id: OPERATION_FINISHED, the role's later offers carry the reservation, tasks use it, UNRESERVE gives it back`, async (t) => {
    const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
    const url = c.leaderUrl()!;
    const sub = await open(t, url, { role: 'dev', principal: 'alice', ...REFINEMENT }, format);
    let offer = await nextOffer(sub, 0);
    let mark = sub.events.length;
    const reserve: Operation = { type: 'RESERVE', id: { value: 'r1' }, reserve: { resources: [reserved('cpus', 1), reserved('mem', 128)] } };
    assert.equal((await accept(url, sub, offer, [reserve], format)).status, 202);
    const update = await sub.next('UPDATE_OPERATION_STATUS', { from: mark });
    const status = update.update_operation_status!.status;
    assert.equal(status.state, 'OPERATION_FINISHED');
    assert.deepEqual(status.operation_id, { value: 'r1' });
    assert.ok(status.uuid?.value, 'feedback from the agent carries a uuid to acknowledge');
    assert.equal(status.agent_id?.value, offer.agent_id.value);
    assert.equal(scalarOf(status.converted_resources ?? [], 'cpus'), 1);
    const ack = await post(url, {
      type: 'ACKNOWLEDGE_OPERATION_STATUS', framework_id: { value: sub.frameworkId },
      acknowledge_operation_status: { agent_id: status.agent_id!, uuid: status.uuid!.value, operation_id: status.operation_id! },
    }, { streamId: sub.streamId, format });
    assert.equal(ack.status, 202, ack.body);

    // The rest of the offer came back; the next offer holds the reservation.
    offer = await nextOffer(sub, mark);
    const held = reservedOf(offer);
    assert.equal(scalarOf(held, 'cpus'), 1);
    assert.equal(scalarOf(held, 'mem'), 128);
    assert.deepEqual(held[0]!.reservations, [{ type: 'DYNAMIC', role: 'dev', principal: 'alice' }]);
    assert.equal(scalarOf(offer.resources ?? [], 'cpus'), 4, 'reserved and unreserved together are the agent');
    const agent = await stateAgent(url);
    assert.deepEqual({ cpus: agent.reserved_resources.dev!.cpus, mem: agent.reserved_resources.dev!.mem }, { cpus: 1, mem: 128 });
    assert.equal(agent.unreserved_resources.cpus, 3);
    assert.equal(agent.resources.cpus, 4);
    assert.deepEqual(agent.reserved_resources_full.dev!.find((r) => r.name === 'cpus')!.reservations, [{ type: 'DYNAMIC', role: 'dev', principal: 'alice' }]);

    // A task may run on the reserved resources.
    mark = sub.events.length;
    const task = { ...commandTask('on-reserved', offer, 'sleep 100'), resources: [reserved('cpus', 1), reserved('mem', 64)] };
    assert.equal((await accept(url, sub, offer, [{ type: 'LAUNCH', launch: { task_infos: [task] } }], format)).status, 202);
    await updateOf(sub, 'on-reserved', 'TASK_RUNNING', mark);
    offer = await nextOffer(sub, mark);
    assert.equal(scalarOf(reservedOf(offer), 'mem'), 64, 'the unused reserved part is offered again');

    // So may a task group and its default executor.
    mark = sub.events.length;
    const executor = {
      type: 'DEFAULT' as const, executor_id: { value: 'reserved-executor' }, framework_id: { value: sub.frameworkId },
      resources: [reserved('mem', 32), { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }, { name: 'disk', type: 'SCALAR' as const, scalar: { value: 10 } }],
    };
    const member = { ...commandTask('group-on-reserved', offer, 'sleep 100'), resources: [reserved('mem', 32), { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }] };
    assert.equal((await accept(url, sub, offer, [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: [member] } } }], format)).status, 202);
    await updateOf(sub, 'group-on-reserved', 'TASK_RUNNING', mark);
    offer = await nextOffer(sub, mark);
    assert.equal(reservedOf(offer).length, 0, 'all of the reserved mem is in use');
    await post(url, { type: 'KILL', framework_id: { value: sub.frameworkId }, kill: { task_id: { value: 'group-on-reserved' } } }, { streamId: sub.streamId, format });
    await updateOf(sub, 'group-on-reserved', 'TASK_KILLED', mark);
    offer = await eventually(async () => {
      const o = await nextOffer(sub, sub.events.length - 1);
      if (scalarOf(reservedOf(o), 'mem') === 64) return o;
      await post(url, { type: 'DECLINE', framework_id: { value: sub.frameworkId }, decline: { offer_ids: [o.id], filters: { refuse_seconds: 0 } } }, { streamId: sub.streamId, format });
      return undefined;
    });

    // UNRESERVE of the free reserved part; without an id nothing is sent.
    mark = sub.events.length;
    assert.equal((await accept(url, sub, offer, [{ type: 'UNRESERVE', unreserve: { resources: [reserved('mem', 64)] } }], format)).status, 202);
    offer = await nextOffer(sub, mark);
    assert.equal(reservedOf(offer).length, 0);
    assert.equal(sub.events.slice(mark).some((e) => e.type === 'UPDATE_OPERATION_STATUS'), false);
    await eventually(async () => ((await stateAgent(url)).reserved_resources.dev?.mem === 64 ? true : undefined));
  });
}

test('reserved resources go only to their role; a framework without RESERVATION_REFINEMENT sees them as role + reservation', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const dev = await open(t, url, { role: 'dev', principal: 'alice', ...REFINEMENT });
  let offer = await nextOffer(dev, 0);
  let mark = dev.events.length;
  await accept(url, dev, offer, [{ type: 'RESERVE', reserve: { resources: [reserved('cpus', 2)] } }]);
  offer = await nextOffer(dev, mark);
  assert.equal(scalarOf(reservedOf(offer), 'cpus'), 2);
  // Decline for long: the unreserved part goes to another role, the reserved part never does.
  await post(url, { type: 'DECLINE', framework_id: { value: dev.frameworkId }, decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } }, { streamId: dev.streamId });
  const other = await open(t, url, { role: 'other' });
  const otherOffer = await nextOffer(other, 0);
  assert.equal(reservedOf(otherOffer).length, 0);
  assert.equal(scalarOf(otherOffer.resources ?? [], 'cpus'), 2);
  await post(url, { type: 'TEARDOWN', framework_id: { value: other.frameworkId } }, { streamId: other.streamId });
  await post(url, { type: 'TEARDOWN', framework_id: { value: dev.frameworkId } }, { streamId: dev.streamId });

  const old = await open(t, url, { role: 'dev', principal: 'alice' });
  offer = await nextOffer(old, 0);
  const held = reservedOf(offer);
  assert.equal(scalarOf(held, 'cpus'), 2);
  assert.equal(held[0]!.role, 'dev');
  assert.deepEqual(held[0]!.reservation, { principal: 'alice' });
  assert.equal(held[0]!.reservations, undefined);
  // UNRESERVE in the same format works.
  mark = old.events.length;
  await accept(url, old, offer, [{ type: 'UNRESERVE', unreserve: { resources: held } }]);
  offer = await nextOffer(old, mark);
  assert.equal(reservedOf(offer).length, 0);
  assert.equal(scalarOf(offer.resources ?? [], 'cpus'), 4);
});

const AT = /; on agent \S+ at slave\(1\)@127\.0\.0\.1:5051 \(127\.0\.0\.1\)$/;
const REFUSED: Array<[string, Operation, RegExp]> = [
  ['no principal on the reservation', { type: 'RESERVE', reserve: { resources: [reserved('cpus', 1, 'dev', null)] } },
    /^A reserve operation was attempted by principal 'alice', but there is a reserved resource in the request with no principal set; on agent /],
  ['another principal', { type: 'RESERVE', reserve: { resources: [reserved('cpus', 1, 'dev', 'bob')] } },
    /^A reserve operation was attempted by authenticated principal 'alice', which does not match a reserved resource in the request with principal 'bob'; on agent /],
  ['another role', { type: 'RESERVE', reserve: { resources: [reserved('cpus', 1, 'ops')] } },
    /^A reserve operation was attempted for a resource with role 'ops', but the resource was allocated to role 'dev'; on agent /],
  ['role "*"', { type: 'RESERVE', reserve: { resources: [reserved('cpus', 1, '*')] } },
    /^Operation attempted with invalid resources: Invalid reservation: role "\*" cannot be reserved$/],
  ['unreserved resources', { type: 'RESERVE', reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } },
    /^Resource cpus:1 is not dynamically reserved; on agent /],
  ['more than offered', { type: 'RESERVE', reserve: { resources: [reserved('cpus', 8)] } },
    /^cpus:4; mem:4096; disk:4096; ports:\[31000-32000\] does not contain cpus:8$/],
  ['unreserve of what is not reserved', { type: 'UNRESERVE', unreserve: { resources: [reserved('cpus', 1)] } },
    /does not contain cpus\(reservations: \[\(DYNAMIC,dev,alice\)\]\):1$/],
];

test('an invalid RESERVE or UNRESERVE is dropped: OPERATION_ERROR with the master\'s reason and no uuid, and the offer comes back whole', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url, { role: 'dev', principal: 'alice', ...REFINEMENT });
  for (const [what, op, message] of REFUSED) {
    const offer = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.length - 1 })).offers!.offers![0]!;
    const mark = sub.events.length;
    await accept(url, sub, offer, [{ ...op, id: { value: what } }]);
    const update = await sub.next('UPDATE_OPERATION_STATUS', { from: mark });
    const status = update.update_operation_status!.status;
    assert.equal(status.state, 'OPERATION_ERROR', what);
    assert.equal(status.uuid, undefined);
    assert.match(status.message!, message, what);
    if (message.source.endsWith('on agent ')) assert.match(status.message!, AT);
    const back = await nextOffer(sub, mark);
    assert.equal(reservedOf(back).length, 0, what);
  }
});

test('reservations survive a leader change: the new leader offers them to the role again and shows them in /master/state', async (t) => {
  const c = await withCluster(t, { masters: 3, agents: 1, mode: 'simulated' });
  let url = c.leaderUrl()!;
  const sub = await open(t, url, { role: 'dev', principal: 'alice', ...REFINEMENT });
  const offer = await nextOffer(sub, 0);
  const mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'RESERVE', reserve: { resources: [reserved('cpus', 1), reserved('disk', 100)] } }]);
  await nextOffer(sub, mark);
  c.faults.electLeader(1);
  await sub.closed();
  url = c.leaderUrl()!;
  const again = await Subscription.open(url, subscribeCall('res', { id: { value: sub.frameworkId }, failover_timeout: 60, role: 'dev', principal: 'alice', ...REFINEMENT }));
  t.after(() => again.close());
  const offers: Event = await again.next('OFFERS');
  const held = reservedOf(offers.offers!.offers![0]!);
  assert.equal(scalarOf(held, 'cpus'), 1);
  assert.equal(scalarOf(held, 'disk'), 100);
  const agent = await stateAgent(url);
  assert.equal(agent.reserved_resources.dev!.cpus, 1);
});

test('hierarchical roles: resources reserved for `a` are offered to `a/b`, which may refine the reservation; frameworks without RESERVATION_REFINEMENT never see refined ones', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const parent = await open(t, url, { role: 'a', principal: 'alice', ...REFINEMENT });
  let offer = await nextOffer(parent, 0);
  let mark = parent.events.length;
  await accept(url, parent, offer, [{ type: 'RESERVE', reserve: { resources: [reserved('cpus', 2, 'a')] } }]);
  offer = await nextOffer(parent, mark);
  await post(url, { type: 'DECLINE', framework_id: { value: parent.frameworkId }, decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } }, { streamId: parent.streamId });

  const child = await open(t, url, { role: 'a/b', principal: 'bob', ...REFINEMENT });
  offer = await nextOffer(child, 0);
  assert.deepEqual(reservedOf(offer).map((r) => [r.name, r.scalar?.value, r.reservations]), [['cpus', 2, [{ type: 'DYNAMIC', role: 'a', principal: 'alice' }]]]);
  // Refine one cpu to a/b: the stack grows by one reservation.
  const refined: Resource = { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'a', principal: 'alice' }, { type: 'DYNAMIC', role: 'a/b', principal: 'bob' }] };
  mark = child.events.length;
  await accept(url, child, offer, [{ type: 'RESERVE', id: { value: 'refine' }, reserve: { resources: [refined] } }]);
  const status = await opUpdate(child, 'refine', mark);
  assert.equal(status.state, 'OPERATION_FINISHED', status.message);
  await post(url, {
    type: 'ACKNOWLEDGE_OPERATION_STATUS', framework_id: { value: child.frameworkId },
    acknowledge_operation_status: { agent_id: status.agent_id!, uuid: status.uuid!.value, operation_id: status.operation_id! },
  }, { streamId: child.streamId });
  offer = await nextOffer(child, mark);
  const stacks = reservedOf(offer).map((r) => [r.scalar?.value, (r.reservations ?? []).map((x) => x.role)]);
  assert.deepEqual(stacks.sort(), [[1, ['a']], [1, ['a', 'a/b']]]);
  await post(url, { type: 'DECLINE', framework_id: { value: child.frameworkId }, decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } }, { streamId: child.streamId });

  // An a/b framework without RESERVATION_REFINEMENT gets the resources reserved for `a` (as role + reservation), not the refined cpu.
  const old = await open(t, url, { role: 'a/b', principal: 'bob' });
  const oldOffer = await nextOffer(old, 0);
  assert.deepEqual(reservedOf(oldOffer).map((r) => [r.scalar?.value, r.role, r.reservations]), [[1, 'a', undefined]]);
  await post(url, { type: 'TEARDOWN', framework_id: { value: old.frameworkId } }, { streamId: old.streamId });

  // A refinement that is not a child role is refused before the master looks at the offer.
  mark = child.events.length;
  await post(url, { type: 'REVIVE', framework_id: { value: child.frameworkId } }, { streamId: child.streamId });
  offer = await nextOffer(child, mark);
  mark = child.events.length;
  const sideways: Resource = { ...refined, reservations: [{ type: 'DYNAMIC', role: 'a', principal: 'alice' }, { type: 'DYNAMIC', role: 'c', principal: 'bob' }] };
  await accept(url, child, offer, [{ type: 'RESERVE', id: { value: 'sideways' }, reserve: { resources: [sideways] } }]);
  const refusedStatus = await opUpdate(child, 'sideways', mark);
  assert.equal(refusedStatus.message, "Operation attempted with invalid resources: Invalid refined reservation: role 'c' is not a refinement of 'a'");
  // UNRESERVE pops the top reservation: the cpu is reserved for `a` again.
  offer = await nextOffer(child, mark);
  mark = child.events.length;
  await accept(url, child, offer, [{ type: 'UNRESERVE', id: { value: 'pop' }, unreserve: { resources: [refined] } }]);
  const popped = await opUpdate(child, 'pop', mark);
  assert.equal(popped.state, 'OPERATION_FINISHED', popped.message);
  offer = await nextOffer(child, mark);
  assert.deepEqual(reservedOf(offer).map((r) => [r.scalar?.value, (r.reservations ?? []).map((x) => x.role)]), [[2, ['a']]]);
});
