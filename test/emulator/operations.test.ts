/**
 * Every Offer.Operation type gets the answer real Mesos gives it
 * (src/master/master.cpp accept/_accept, src/master/validation.cpp,
 * src/launcher/default_executor.cpp): LAUNCH_GROUP runs on the default
 * executor, fails together, or gets TASK_ERROR as a whole; the other
 * operations are dropped with OPERATION_ERROR when they ask for feedback.
 */
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { WireFormat } from '../../src/mesos/codec.js';
import type { ExecutorInfo, FrameworkInfo, Offer, Operation, Resource, TaskInfo } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acceptOperations, commandTask, eventually, openFramework, post, updateOf } from './wire-client.js';

const scalar = (name: string, value: number): Resource => ({ name, type: 'SCALAR', scalar: { value } });

function defaultExecutor(sub: Subscription, id = 'group-executor'): ExecutorInfo {
  return {
    type: 'DEFAULT', executor_id: { value: id }, framework_id: { value: sub.frameworkId },
    resources: [scalar('cpus', 0.1), scalar('mem', 32), scalar('disk', 10)],
  };
}

const open = (t: { after: (fn: () => void) => void }, url: string, extra: Partial<FrameworkInfo> = {}, format: WireFormat = 'json'): Promise<Subscription> =>
  openFramework(t, url, 'ops', extra, format);
const accept = acceptOperations;

const group = (executor: ExecutorInfo, tasks: TaskInfo[], extra: Partial<Operation> = {}): Operation => ({
  type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } }, ...extra,
});

for (const format of ['json', 'protobuf'] as const) {
  test(`LAUNCH_GROUP (${format}) runs every task's command in the default executor's sandbox layout, with the group's updates`, async (t) => {
    const c = await withCluster(t, { agents: 1 });
    const url = c.leaderUrl()!;
    const sub = await open(t, url, {}, format);
    const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
    const executor = defaultExecutor(sub);
    const tasks = [
      commandTask('g1', offer, 'echo one > out; echo $MESOS_SANDBOX', {}, 0.2, 32),
      commandTask('g2', offer, 'echo two > out', {}, 0.2, 32),
    ];
    assert.equal((await accept(url, sub, offer, [group(executor, tasks)], format)).status, 202);
    for (const id of ['g1', 'g2']) {
      for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']) {
        const status = (await updateOf(sub, id, state)).update!.status;
        assert.equal(status.source, 'SOURCE_EXECUTOR');
        assert.equal(status.executor_id?.value, 'group-executor');
      }
    }
    for (const id of ['g1', 'g2']) {
      const sandbox = c.tasks().find((x) => x.taskId === id)!.sandbox!;
      assert.match(sandbox, new RegExp(`/frameworks/${sub.frameworkId}/executors/group-executor/runs/[^/]+/containers/[^/]+$`));
      const link = path.join(sandbox, '..', '..', 'tasks', id);
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(readlinkSync(link), sandbox);
    }
    const g1 = c.tasks().find((x) => x.taskId === 'g1')!.sandbox!;
    assert.equal(readFileSync(path.join(g1, 'out'), 'utf8'), 'one\n');
    assert.equal(readFileSync(path.join(g1, 'stdout'), 'utf8'), `${g1}\n`);
    // The executor's resources go back when its last task has ended.
    await eventually(async () => {
      const state = JSON.parse((await post(url, '', { path: '/master/state', method: 'GET' })).body) as { slaves: Array<{ used_resources: { cpus: number } }> };
      return state.slaves[0]!.used_resources.cpus === 0 ? true : undefined;
    });
  });
}

test('when one task of a group fails, the default executor kills the others (TASK_KILLING first when the framework can take it)', async (t) => {
  const c = await withCluster(t, { agents: 1 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url, { capabilities: [{ type: 'TASK_KILLING_STATE' }] });
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  const tasks = [
    commandTask('fails', offer, 'sleep 0.2; exit 3', {}, 0.2, 32),
    commandTask('sleeper', offer, 'exec sleep 100', { kill_policy: { grace_period: { nanoseconds: 100_000_000 } } }, 0.2, 32),
  ];
  await accept(url, sub, offer, [group(defaultExecutor(sub), tasks)]);
  const failed = (await updateOf(sub, 'fails', 'TASK_FAILED')).update!.status;
  assert.equal(failed.message, 'Command exited with status 3');
  await updateOf(sub, 'sleeper', 'TASK_KILLING');
  const killed = (await updateOf(sub, 'sleeper', 'TASK_KILLED')).update!.status;
  assert.equal(killed.executor_id?.value, 'group-executor');
});

test('a KILL of one task of a group kills the whole group', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000 });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await accept(url, sub, offer, [group(defaultExecutor(sub), [commandTask('a', offer, 'x', {}, 0.2, 32), commandTask('b', offer, 'x', {}, 0.2, 32)])]);
  await updateOf(sub, 'b', 'TASK_RUNNING');
  await post(url, { type: 'KILL', framework_id: { value: sub.frameworkId }, kill: { task_id: { value: 'a' } } }, { streamId: sub.streamId });
  await updateOf(sub, 'a', 'TASK_KILLED');
  await updateOf(sub, 'b', 'TASK_KILLED');
});

test('an invalid task group gets TASK_ERROR (REASON_TASK_GROUP_INVALID) for every task, with the master\'s reason', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const cases: Array<[string, (e: ExecutorInfo, offer: Offer) => Operation, RegExp]> = [
    ['no-fwid', (e, o) => { const { framework_id: _f, ...rest } = e; return group(rest, [commandTask('t-no-fwid', o, 'x', {}, 0.1, 32)]); }, /^'ExecutorInfo.framework_id' must be set$/],
    ['no-type', (e, o) => { const { type: _t, ...rest } = e; return group(rest, [commandTask('t-no-type', o, 'x', {}, 0.1, 32)]); }, /^'ExecutorInfo.type' must be set$/],
    ['cmd', (e, o) => group({ ...e, command: { value: 'x' } }, [commandTask('t-cmd', o, 'x', {}, 0.1, 32)]), /must not be set for 'DEFAULT' executor/],
    ['small', (e, o) => group({ ...e, resources: [scalar('cpus', 0.1), scalar('disk', 1)] }, [commandTask('t-small', o, 'x', {}, 0.1, 32)]), /uses less memory \(None\) than the minimum required/],
    ['nodisk', (e, o) => group({ ...e, resources: [scalar('cpus', 0.1), scalar('mem', 32)] }, [commandTask('t-nodisk', o, 'x', {}, 0.1, 32)]), /uses no disk$/],
    ['big', (e, o) => group(e, [commandTask('t-big1', o, 'x', {}, 0.1, 32), commandTask('t-big2', o, 'x', {}, 100, 32)]), /required by task group and its executor are more than available/],
    ['docker', (e, o) => group(e, [commandTask('t-docker', o, 'x', { container: { type: 'DOCKER', docker: { image: 'alpine' } } }, 0.1, 32)]), /^Task 't-docker' is invalid: Docker ContainerInfo is not supported on the task$/],
    ['dup', (e, o) => group(e, [commandTask('t-dup', o, 'x', {}, 0.1, 32), commandTask('t-dup', o, 'x', {}, 0.1, 32)]), /^Task 't-dup' is invalid: Task has duplicate ID: t-dup$/],
    ['id', (e, o) => group(e, [commandTask('t-id', o, 'x', {}, 0.1, 32)], { id: { value: 'op-1' } }), /^The `id` field cannot be set on LAUNCH_GROUP operations$/],
  ];
  for (const [name, build, message] of cases) {
    const offer = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.length - 1 })).offers!.offers![0]!;
    const op = build(defaultExecutor(sub), offer);
    const mark = sub.events.length;
    assert.equal((await accept(url, sub, offer, [op])).status, 202);
    for (const task of op.launch_group!.task_group.tasks!) {
      const status = (await updateOf(sub, task.task_id.value, 'TASK_ERROR', mark)).update!.status;
      assert.equal(status.reason, 'REASON_TASK_GROUP_INVALID', name);
      assert.equal(status.source, 'SOURCE_MASTER', name);
      assert.match(status.message!, message, name);
    }
    // Nothing ran: the resources come back in a new offer.
    await sub.next((e) => e.type === 'OFFERS', { from: mark });
  }
  assert.equal(c.tasks().length, 0);
});

test('a group task with a container image is answered as a local agent must: run on the host with a warning, or TASK_FAILED when refused', async (t) => {
  const c = await withCluster(t, { agents: 1, containerImages: 'refuse' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  const image = { type: 'MESOS' as const, mesos: { image: { type: 'DOCKER' as const, docker: { name: 'busybox' } } } };
  await accept(url, sub, offer, [group(defaultExecutor(sub), [commandTask('img', offer, 'true', { container: image }, 0.2, 32), commandTask('mate', offer, 'exec sleep 100', {}, 0.2, 32)])]);
  const failed = (await updateOf(sub, 'img', 'TASK_FAILED')).update!.status;
  assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(failed.message!, /container image 'busybox'/);
  await updateOf(sub, 'mate', 'TASK_KILLED');
});

const VOLUME: Resource = { ...scalar('disk', 10), disk: { persistence: { id: 'v1' }, volume: { mode: 'RW', container_path: 'data' } } };
const NON_LAUNCH: Array<[Operation, RegExp]> = [
  [{ type: 'RESERVE', reserve: { resources: [{ ...scalar('cpus', 1), reservations: [{ type: 'DYNAMIC', role: '*' }] }] } }, /^Operation attempted with invalid resources: Invalid reservation: role "\*" cannot be reserved$/],
  [{ type: 'RESERVE', reserve: { source: [scalar('cpus', 1)], resources: [scalar('cpus', 1)] } }, /^Operation attempted with invalid resources: Reservation updates are not yet implemented for the scheduler API\.$/],
  [{ type: 'UNRESERVE', unreserve: { resources: [scalar('cpus', 1)] } }, /^Resource cpus:1 is not dynamically reserved; on agent \S+ at slave\(1\)@127\.0\.0\.1:5051 \(127\.0\.0\.1\)$/],
  [{ type: 'CREATE', create: { volumes: [scalar('disk', 10)] } }, /^Not a persistent volume: Resource disk:10 does not have DiskInfo; on agent /],
  [{ type: 'CREATE', create: { volumes: [VOLUME] } }, /^Invalid resources: Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources; on agent /],
  [{ type: 'DESTROY', destroy: { volumes: [VOLUME] } }, /^Invalid resources: Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources; on agent /],
  [{ type: 'GROW_VOLUME', grow_volume: { volume: VOLUME, addition: scalar('disk', 5) } }, /^Invalid GROW_VOLUME operation: cpus:4; mem:4096; disk:4096; ports:\[31000-32000\] does not contain disk:5; disk\[v1:data\]:10$/],
  [{ type: 'SHRINK_VOLUME', shrink_volume: { volume: VOLUME, subtract: { value: 0 } } }, /^Value of 'ShrinkVolume.subtract' must be greater than zero; on agent /],
  [{ type: 'CREATE_DISK', create_disk: { source: scalar('disk', 10), target_type: 'MOUNT' } }, /^'source' is not managed by a resource provider; on agent /],
  [{ type: 'DESTROY_DISK', destroy_disk: { source: scalar('disk', 10) } }, /^'source' is not managed by a resource provider; on agent /],
];

test('invalid RESERVE, UNRESERVE, CREATE, DESTROY, GROW_VOLUME, SHRINK_VOLUME, CREATE_DISK and DESTROY_DISK are dropped: OPERATION_ERROR with an id, nothing without', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  for (const [i, [op, message]] of NON_LAUNCH.entries()) {
    for (const withId of [true, false]) {
      const offer = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.length - 1 })).offers!.offers![0]!;
      const mark = sub.events.length;
      const sent: Operation = withId ? { ...op, id: { value: `op-${i}` } } : op;
      assert.equal((await accept(url, sub, offer, [sent])).status, 202);
      const next = await sub.next((e) => e.type === 'UPDATE_OPERATION_STATUS' || e.type === 'OFFERS', { from: mark });
      if (!withId) {
        assert.equal(next.type, 'OFFERS', `${op.type} without id: no update, the resources come back`);
        continue;
      }
      assert.equal(next.type, 'UPDATE_OPERATION_STATUS', op.type);
      const status = next.update_operation_status!.status;
      assert.equal(status.state, 'OPERATION_ERROR');
      assert.deepEqual(status.operation_id, { value: `op-${i}` });
      assert.equal(status.uuid, undefined, 'a dropped operation has nothing to acknowledge');
      assert.match(status.message!, message, op.type);
    }
  }
});

test('with invalid offers, launches are lost and other operations dropped with "Operation attempted with invalid offers"', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  const stale: Offer = { ...offer, id: { value: 'no-such-offer' } };
  await accept(url, sub, stale, [
    { ...NON_LAUNCH[0]![0], id: { value: 'r1' } },
    group(defaultExecutor(sub), [commandTask('lost-in-group', offer, 'x', {}, 0.1, 32)]),
  ]);
  const dropped = (await sub.next('UPDATE_OPERATION_STATUS')).update_operation_status!.status;
  assert.equal(dropped.state, 'OPERATION_ERROR');
  assert.equal(dropped.message, 'Operation attempted with invalid offers: Offer no-such-offer is no longer valid');
  const lost = (await updateOf(sub, 'lost-in-group', 'TASK_LOST')).update!.status;
  assert.equal(lost.reason, 'REASON_INVALID_OFFERS');
});

test('LAUNCH with an id, or with a DEFAULT executor, gets TASK_ERROR; an UNKNOWN operation is ignored and its resources come back', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated' });
  const url = c.leaderUrl()!;
  const sub = await open(t, url);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await accept(url, sub, offer, [{ type: 'LAUNCH', id: { value: 'l1' }, launch: { task_infos: [commandTask('with-id', offer, 'x')] } }]);
  const err = (await updateOf(sub, 'with-id', 'TASK_ERROR')).update!.status;
  assert.equal(err.reason, 'REASON_TASK_INVALID');
  assert.equal(err.message, 'The `id` field cannot be set on LAUNCH operations');
  const withDefault = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.length - 1 })).offers!.offers![0]!;
  const { command: _c, ...noCommand } = commandTask('default-in-launch', withDefault, 'x');
  await accept(url, sub, withDefault, [{ type: 'LAUNCH', launch: { task_infos: [{ ...noCommand, executor: defaultExecutor(sub) }] } }]);
  assert.equal((await updateOf(sub, 'default-in-launch', 'TASK_ERROR')).update!.status.message, "'ExecutorInfo.type' must be 'CUSTOM'");
  const again = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.length - 1 })).offers!.offers![0]!;
  const mark = sub.events.length;
  await accept(url, sub, again, [{ type: 'UNKNOWN' }]);
  assert.equal((await sub.next((e) => e.type === 'OFFERS' || e.type === 'UPDATE_OPERATION_STATUS', { from: mark })).type, 'OFFERS');
});
