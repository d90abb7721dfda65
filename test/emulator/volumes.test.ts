/**
 * Persistent volumes and operation feedback as a 1.11 master and agent give
 * them (src/master/master.cpp _accept, reconcileOperations,
 * acknowledgeOperationStatus; src/master/validation.cpp): CREATE turns
 * reserved disk into a volume that later offers carry and tasks get in their
 * sandbox, DESTROY gives the disk back (not while a task uses the volume),
 * GROW_VOLUME / SHRINK_VOLUME resize it; OPERATION_FINISHED is re-sent until
 * ACKNOWLEDGE_OPERATION_STATUS; RECONCILE_OPERATIONS answers as the master does.
 */
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { WireFormat } from '../../src/mesos/codec.js';
import type { Event, Offer, Operation, OperationStatus, Resource, TaskInfo } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { acceptOperations as accept, commandTask, eventually, openFramework, post, updateOf, type Subscription } from './wire-client.js';

const FRAMEWORK = { role: 'dev', principal: 'alice', capabilities: [{ type: 'RESERVATION_REFINEMENT' as const }] };
const RESERVATION = [{ type: 'DYNAMIC' as const, role: 'dev', principal: 'alice' }];
const disk = (value: number): Resource => ({ name: 'disk', type: 'SCALAR', scalar: { value }, reservations: RESERVATION });
const volume = (value: number, id = 'v1', principal: string | null = 'alice'): Resource => ({
  ...disk(value), disk: { persistence: { id, ...(principal !== null ? { principal } : {}) }, volume: { mode: 'RW', container_path: 'data' } },
});

const volumesOf = (offer: Offer): Resource[] => (offer.resources ?? []).filter((r) => r.disk?.persistence);
const reservedDiskOf = (offer: Offer): number =>
  (offer.resources ?? []).filter((r) => r.name === 'disk' && !r.disk && (r.reservations ?? []).length > 0).reduce((s, r) => s + r.scalar!.value, 0);

async function nextOffer(sub: Subscription, from: number): Promise<Offer> {
  return (await sub.next('OFFERS', { from })).offers!.offers![0]!;
}

/** The first offer after `from` that holds a volume; offers without one are declined so that the agent's resources come back together. */
async function offerWithVolume(url: string, sub: Subscription, from: number): Promise<Offer> {
  for (let at = from; ;) {
    const e = await sub.next('OFFERS', { from: at });
    at = sub.events.indexOf(e) + 1;
    for (const o of e.offers!.offers!) {
      if (volumesOf(o).length > 0) return o;
      await post(url, { type: 'DECLINE', framework_id: { value: sub.frameworkId }, decline: { offer_ids: [o.id], filters: { refuse_seconds: 0 } } }, { streamId: sub.streamId });
    }
  }
}

const withVolume = (task: TaskInfo, vol: Resource): TaskInfo => ({ ...task, resources: [...task.resources!, vol] });

async function operationUpdate(sub: Subscription, id: string, from: number): Promise<OperationStatus> {
  const e = await sub.next((x) => x.type === 'UPDATE_OPERATION_STATUS' && x.update_operation_status!.status.operation_id?.value === id, { from });
  return e.update_operation_status!.status;
}

function ackOperation(url: string, sub: Subscription, status: OperationStatus, format: WireFormat = 'json') {
  return post(url, {
    type: 'ACKNOWLEDGE_OPERATION_STATUS', framework_id: { value: sub.frameworkId },
    acknowledge_operation_status: { agent_id: status.agent_id!, uuid: status.uuid!.value, operation_id: status.operation_id! },
  }, { streamId: sub.streamId, format });
}

function reconcileOperations(url: string, sub: Subscription, operations: Array<{ operation_id: { value: string }; agent_id?: { value: string } }>, format: WireFormat = 'json') {
  return post(url, { type: 'RECONCILE_OPERATIONS', framework_id: { value: sub.frameworkId }, reconcile_operations: { operations } }, { streamId: sub.streamId, format });
}

/** RESERVE 1000 MB of disk for dev and wait for the offer that holds it. */
async function reserveDisk(url: string, sub: Subscription, format: WireFormat = 'json'): Promise<Offer> {
  const offer = await nextOffer(sub, 0);
  const mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'RESERVE', reserve: { resources: [disk(1000)] } }], format);
  return nextOffer(sub, mark);
}

for (const format of ['json', 'protobuf'] as const) {
  test(`CREATE (${format}) makes a volume of reserved disk: OPERATION_FINISHED until acknowledged, later offers carry it, tasks get it in the sandbox, DESTROY gives the disk back`, async (t) => {
    const c = await withCluster(t, { agents: 1 });
    const url = c.leaderUrl()!;
    const sub = await openFramework(t, url, 'vol', FRAMEWORK, format);
    let offer = await reserveDisk(url, sub, format);
    let mark = sub.events.length;
    assert.equal((await accept(url, sub, offer, [{ type: 'CREATE', id: { value: 'c1' }, create: { volumes: [volume(100)] } }], format)).status, 202);
    const finished = await operationUpdate(sub, 'c1', mark);
    assert.equal(finished.state, 'OPERATION_FINISHED');
    assert.ok(finished.uuid?.value);
    assert.equal(finished.agent_id?.value, offer.agent_id.value);
    assert.deepEqual(finished.converted_resources?.map((r) => [r.name, r.scalar?.value, r.disk?.persistence?.id, r.disk?.volume?.container_path]), [['disk', 100, 'v1', 'data']]);
    // Not acknowledged: the agent sends it again, with the same uuid.
    const first = sub.events.findIndex((e) => e.update_operation_status?.status.uuid?.value === finished.uuid!.value);
    const again = await sub.next((e) => e.update_operation_status?.status.uuid?.value === finished.uuid!.value, { from: first + 1 });
    assert.equal(again.update_operation_status!.status.state, 'OPERATION_FINISHED');
    assert.equal((await ackOperation(url, sub, finished, format)).status, 202);

    // The next offer holds the volume (reserved disk with persistence and volume) and the rest of the reservation.
    offer = await nextOffer(sub, mark);
    const [held] = volumesOf(offer);
    assert.ok(held, 'the offer carries the volume');
    assert.equal(held.scalar!.value, 100);
    assert.deepEqual(held.reservations, RESERVATION);
    assert.deepEqual(held.disk, { persistence: { id: 'v1', principal: 'alice' }, volume: { mode: 'RW', container_path: 'data' } });
    assert.equal(reservedDiskOf(offer), 900);

    // A task with the volume writes to it; a later one reads what it wrote.
    mark = sub.events.length;
    await accept(url, sub, offer, [{ type: 'LAUNCH', launch: { task_infos: [withVolume(commandTask('writer', offer, 'echo kept > data/file'), held)] } }], format);
    await updateOf(sub, 'writer', 'TASK_FINISHED', mark);
    const sandbox = c.tasks().find((x) => x.taskId === 'writer')!.sandbox!;
    const link = readlinkSync(path.join(sandbox, 'data'));
    const volumeDir = path.resolve(sandbox, link);
    assert.match(volumeDir, /\/volumes\/[^/]+\/roles\/dev\/v1$/);
    offer = await offerWithVolume(url, sub, mark);
    mark = sub.events.length;
    await accept(url, sub, offer, [{ type: 'LAUNCH', launch: { task_infos: [withVolume(commandTask('reader', offer, 'test "$(cat data/file)" = kept'), volumesOf(offer)[0]!)] } }], format);
    await updateOf(sub, 'reader', 'TASK_FINISHED', mark);

    // DESTROY: the reserved disk comes back whole and the data is gone.
    offer = await offerWithVolume(url, sub, mark);
    mark = sub.events.length;
    await accept(url, sub, offer, [{ type: 'DESTROY', id: { value: 'd1' }, destroy: { volumes: volumesOf(offer) } }], format);
    const destroyed = await operationUpdate(sub, 'd1', mark);
    assert.equal(destroyed.state, 'OPERATION_FINISHED');
    await ackOperation(url, sub, destroyed, format);
    assert.deepEqual(destroyed.converted_resources?.map((r) => [r.name, r.scalar?.value, r.disk]), [['disk', 100, undefined]]);
    const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { slaves: Array<{ reserved_resources: Record<string, { disk: number }>; reserved_resources_full: Record<string, Resource[]> }> };
    assert.equal(state.slaves[0]!.reserved_resources.dev!.disk, 1000);
    assert.equal(state.slaves[0]!.reserved_resources_full.dev!.some((r) => r.disk?.persistence), false);
    await eventually(() => (existsSync(volumeDir) ? undefined : true), 5000, 'the volume data removed');
  });
}

test('DESTROY of a volume a running task uses is refused ("Persistent volumes in use"); refused CREATEs get the master\'s reasons', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await openFramework(t, url, 'vol', FRAMEWORK);
  let offer = await reserveDisk(url, sub);
  let mark = sub.events.length;

  const refusals: Array<[Resource[], RegExp]> = [
    [[volume(100, 'v1', null)], /^Create volume operation attempted by principal 'alice', but there is a volume in the operation with no principal set in 'disk.persistence'; on agent /],
    [[volume(100, 'v1', 'bob')], /^Create volume operation attempted by authenticated principal 'alice', which does not match a volume in the operation with principal 'bob' set in 'disk.persistence'; on agent /],
    [[volume(100, 'v1'), volume(100, 'v1')], /^Persistence ID 'v1' is not unique; on agent /],
    [[volume(100, 'a/b')], /^Invalid resources: Invalid DiskInfo: Invalid persistence ID for persistent volume: 'a\/b' contains invalid characters; on agent /],
    [[{ ...volume(100), disk: { persistence: { id: 'v1', principal: 'alice' } } }], /^Invalid resources: Invalid DiskInfo: Expecting 'volume' to be set for persistent volume; on agent /],
    [[volume(5000)], /does not contain disk\(reservations: \[\(DYNAMIC,dev,alice\)\]\):5000$/],
  ];
  for (const [i, [volumes, message]] of refusals.entries()) {
    await accept(url, sub, offer, [{ type: 'CREATE', id: { value: `bad-${i}` }, create: { volumes } }]);
    const status = await operationUpdate(sub, `bad-${i}`, mark);
    assert.equal(status.state, 'OPERATION_ERROR', `bad-${i}`);
    assert.equal(status.uuid, undefined);
    assert.match(status.message!, message);
    offer = await nextOffer(sub, mark);
    mark = sub.events.length;
    assert.equal(volumesOf(offer).length, 0);
  }

  await accept(url, sub, offer, [{ type: 'CREATE', create: { volumes: [volume(100)] } }]);
  offer = await nextOffer(sub, mark);
  const held = volumesOf(offer)[0]!;
  mark = sub.events.length;
  // A second volume with the same id for the same role is refused against the agent's volumes.
  await accept(url, sub, offer, [
    { type: 'LAUNCH', launch: { task_infos: [withVolume(commandTask('user', offer, 'sleep 100'), held)] } },
    { type: 'CREATE', id: { value: 'dup' }, create: { volumes: [volume(10)] } },
  ]);
  assert.match((await operationUpdate(sub, 'dup', mark)).message!, /^Persistence ID 'v1' is not unique; on agent /);
  await updateOf(sub, 'user', 'TASK_RUNNING', mark);
  offer = await nextOffer(sub, mark);
  assert.equal(volumesOf(offer).length, 0, 'the volume is in use');
  mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'DESTROY', id: { value: 'busy' }, destroy: { volumes: [held] } }]);
  const busy = await operationUpdate(sub, 'busy', mark);
  assert.equal(busy.state, 'OPERATION_ERROR');
  assert.match(busy.message!, /^Persistent volumes in use; on agent /);
  await accept(url, sub, await nextOffer(sub, mark), [{ type: 'DESTROY', id: { value: 'gone' }, destroy: { volumes: [volume(100, 'nope')] } }]);
  assert.match((await operationUpdate(sub, 'gone', mark)).message!, /^Persistent volumes not found; on agent /);
});

test('GROW_VOLUME and SHRINK_VOLUME resize a volume (1.11 agents have RESIZE_VOLUME); the result is offered again', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await openFramework(t, url, 'vol', FRAMEWORK);
  let offer = await reserveDisk(url, sub);
  let mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'CREATE', create: { volumes: [volume(100)] } }]);
  offer = await nextOffer(sub, mark);
  mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'GROW_VOLUME', id: { value: 'g' }, grow_volume: { volume: volumesOf(offer)[0]!, addition: disk(50) } }]);
  const grown = await operationUpdate(sub, 'g', mark);
  assert.equal(grown.state, 'OPERATION_FINISHED');
  assert.equal(grown.converted_resources![0]!.scalar!.value, 150);
  offer = await nextOffer(sub, mark);
  assert.equal(volumesOf(offer)[0]!.scalar!.value, 150);
  assert.equal(reservedDiskOf(offer), 850);

  mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'SHRINK_VOLUME', id: { value: 's' }, shrink_volume: { volume: volumesOf(offer)[0]!, subtract: { value: 120 } } }]);
  assert.equal((await operationUpdate(sub, 's', mark)).state, 'OPERATION_FINISHED');
  offer = await nextOffer(sub, mark);
  assert.equal(volumesOf(offer)[0]!.scalar!.value, 30);
  assert.equal(reservedDiskOf(offer), 970);

  const refused: Array<[Operation, RegExp]> = [
    [{ type: 'SHRINK_VOLUME', shrink_volume: { volume: volumesOf(offer)[0]!, subtract: { value: 30 } } }, /^Value of 'ShrinkVolume.subtract' must be smaller than the size of 'ShrinkVolume.volume'; on agent /],
    [{ type: 'GROW_VOLUME', grow_volume: { volume: volumesOf(offer)[0]!, addition: { name: 'disk', type: 'SCALAR', scalar: { value: 10 } } } }, /^Incompatible resources in the 'GrowVolume.volume' and 'GrowVolume.addition' fields; on agent /],
    [{ type: 'GROW_VOLUME', grow_volume: { volume: disk(30), addition: disk(10) } }, /^Invalid persistent volume in the 'GrowVolume.volume' field: Resource disk\(reservations: \[\(DYNAMIC,dev,alice\)\]\):30 does not have DiskInfo; on agent /],
  ];
  for (const [i, [op, message]] of refused.entries()) {
    mark = sub.events.length;
    await accept(url, sub, offer, [{ ...op, id: { value: `r${i}` } }]);
    const status = await operationUpdate(sub, `r${i}`, mark);
    assert.equal(status.state, 'OPERATION_ERROR');
    assert.match(status.message!, message);
    offer = await nextOffer(sub, mark);
  }
});

for (const format of ['json', 'protobuf'] as const) {
  test(`RECONCILE_OPERATIONS (${format}) is answered as the master answers it; an acknowledged operation is forgotten`, async (t) => {
    const c = await withCluster(t, { agents: 2, mode: 'simulated' });
    const url = c.leaderUrl()!;
    const sub = await openFramework(t, url, 'vol', FRAMEWORK, format);
    const offer = await nextOffer(sub, 0);
    const agentId = offer.agent_id.value;
    const other = c.agents().map((a) => a.id).find((a) => a !== agentId)!;
    let mark = sub.events.length;
    await accept(url, sub, offer, [{ type: 'RESERVE', id: { value: 'op' }, reserve: { resources: [disk(10)] } }], format);
    const finished = await operationUpdate(sub, 'op', mark);

    const answers = async (ops: Array<{ operation_id: { value: string }; agent_id?: { value: string } }>, count: number): Promise<OperationStatus[]> => {
      const from = sub.events.length;
      assert.equal((await reconcileOperations(url, sub, ops, format)).status, 202);
      await eventually(() => (sub.events.slice(from).filter((e) => e.type === 'UPDATE_OPERATION_STATUS' && e.update_operation_status!.status.uuid === undefined).length >= count ? true : undefined));
      return sub.events.slice(from).filter((e: Event) => e.type === 'UPDATE_OPERATION_STATUS' && e.update_operation_status!.status.uuid === undefined)
        .map((e) => e.update_operation_status!.status);
    };

    // Known, not yet acknowledged: its latest status without uuid, asked for or implicitly.
    const [known] = await answers([{ operation_id: { value: 'op' }, agent_id: { value: agentId } }], 1);
    assert.equal(known!.state, 'OPERATION_FINISHED');
    assert.equal(known!.uuid, undefined);
    assert.deepEqual(known!.operation_id, { value: 'op' });
    const [implicit] = await answers([], 1);
    assert.deepEqual(implicit!.operation_id, { value: 'op' });

    await ackOperation(url, sub, finished, format);
    c.faults.loseAgent(other);
    const unknownOnes = await answers([
      { operation_id: { value: 'op' }, agent_id: { value: agentId } },
      { operation_id: { value: 'x' }, agent_id: { value: 'no-such-agent' } },
      { operation_id: { value: 'y' } },
      { operation_id: { value: 'z' }, agent_id: { value: other } },
    ], 4);
    assert.deepEqual(unknownOnes.map((s) => [s.operation_id?.value, s.state, s.message, s.agent_id?.value]), [
      ['op', 'OPERATION_UNKNOWN', 'Reconciliation: Operation is unknown', agentId],
      ['x', 'OPERATION_UNKNOWN', 'Reconciliation: Both operation and agent are unknown', 'no-such-agent'],
      ['y', 'OPERATION_UNKNOWN', "Reconciliation: Operation is unknown and no 'agent_id' was provided", undefined],
      ['z', 'OPERATION_UNREACHABLE', 'Reconciliation: Agent is unreachable', other],
    ]);
    const notAcceptable = await post(url, { type: 'RECONCILE_OPERATIONS', framework_id: { value: sub.frameworkId }, reconcile_operations: {} },
      { streamId: sub.streamId, format, headers: { accept: 'text/plain' } });
    assert.equal(notAcceptable.status, 406);
    // Implicit reconciliation knows nothing any more: a RECONCILE_OPERATIONS with no list sends nothing.
    mark = sub.events.length;
    await reconcileOperations(url, sub, [], format);
    await reconcileOperations(url, sub, [{ operation_id: { value: 'sentinel' } }], format);
    await operationUpdate(sub, 'sentinel', mark);
    assert.deepEqual(sub.events.slice(mark).filter((e) => e.type === 'UPDATE_OPERATION_STATUS').map((e) => e.update_operation_status!.status.operation_id?.value), ['sentinel']);
  });
}

test('an acknowledged OPERATION_FINISHED is not sent again; an ACKNOWLEDGE_OPERATION_STATUS without agent_id is refused as the master refuses it', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await openFramework(t, url, 'vol', FRAMEWORK);
  const offer = await nextOffer(sub, 0);
  const mark = sub.events.length;
  await accept(url, sub, offer, [{ type: 'RESERVE', id: { value: 'once' }, reserve: { resources: [disk(10)] } }]);
  const finished = await operationUpdate(sub, 'once', mark);
  const bad = await post(url, {
    type: 'ACKNOWLEDGE_OPERATION_STATUS', framework_id: { value: sub.frameworkId },
    acknowledge_operation_status: { uuid: finished.uuid!.value, operation_id: finished.operation_id! },
  }, { streamId: sub.streamId });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Expecting 'agent_id' to be present/);
  await ackOperation(url, sub, finished);
  const copies = (): number => sub.events.filter((e) => e.update_operation_status?.status.uuid?.value === finished.uuid!.value).length;
  const atAck = copies();
  // Five resend intervals later (200 ms each in tests), at most one copy that was already on its way.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.ok(copies() <= atAck + 1, `copies after the acknowledgement: ${copies() - atAck}`);
});

test('after a leader change the operation is unknown until its agent re-registers (OPERATION_RECOVERING); then the agent re-sends the unacknowledged OPERATION_FINISHED', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 1, mode: 'simulated', agentReregisterDelayMs: 1000 });
  const url0 = c.leaderUrl()!;
  const sub = await openFramework(t, url0, 'vol', FRAMEWORK);
  const offer = await nextOffer(sub, 0);
  await accept(url0, sub, offer, [{ type: 'RESERVE', id: { value: 'kept' }, reserve: { resources: [disk(10)] } }]);
  const finished = await operationUpdate(sub, 'kept', 0);
  c.faults.electLeader(1);
  await sub.closed();
  const url1 = c.leaderUrl()!;
  const again = await openFramework(t, url1, 'vol', { ...FRAMEWORK, id: { value: sub.frameworkId } });
  const mark = again.events.length;
  await reconcileOperations(url1, again, [{ operation_id: { value: 'kept' }, agent_id: offer.agent_id }]);
  const recovering = await operationUpdate(again, 'kept', mark);
  assert.deepEqual([recovering.state, recovering.message, recovering.uuid], ['OPERATION_RECOVERING', 'Reconciliation: Agent is recovered but has not re-registered', undefined]);
  // Back: the agent's resend reaches the framework with the same uuid, and an acknowledgement ends it.
  const resent = await again.next((e) => e.update_operation_status?.status.uuid?.value === finished.uuid!.value, { from: mark, timeoutMs: 10_000 });
  assert.equal(resent.update_operation_status!.status.state, 'OPERATION_FINISHED');
  assert.equal((await ackOperation(url1, again, finished)).status, 202);
  const from = again.events.length;
  await reconcileOperations(url1, again, [{ operation_id: { value: 'kept' }, agent_id: offer.agent_id }]);
  assert.equal((await operationUpdate(again, 'kept', from)).state, 'OPERATION_UNKNOWN');
});

test('a reservation for a role that is not a valid role name is refused before the master looks at the offer', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await openFramework(t, url, 'vol', FRAMEWORK);
  const offer = await nextOffer(sub, 0);
  const bad: Resource = { ...disk(10), reservations: [{ type: 'DYNAMIC', role: 'dev/', principal: 'alice' }] };
  await accept(url, sub, offer, [{ type: 'RESERVE', id: { value: 'bad-role' }, reserve: { resources: [bad] } }]);
  const status = await operationUpdate(sub, 'bad-role', 0);
  assert.equal(status.message, "Operation attempted with invalid resources: Role 'dev/' cannot end with a slash");
});
