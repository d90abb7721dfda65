/**
 * The emulator sends only enum values that the v1 protos of the Mesos version
 * it claims define, in JSON and in protobuf (a real master evolves its
 * internal messages to v1, which drops values v1 lacks: MasterInfo's QUOTA_V2
 * capability comes out without a type). mesos-go's JSON codec refuses a whole
 * event over one unknown enum name.
 *
 * OFFICIAL_V1_ENUMS are the values of apache/mesos tag 1.11.0, commit
 * 04bc7ee1984d86fbb0bd782ccc69ce44c13ae4b9, include/mesos/v1/mesos.proto and
 * include/mesos/v1/scheduler/scheduler.proto, for every enum of our subset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { protoRoot, type WireFormat } from '../../src/mesos/codec.js';
import { CLAIMED_MESOS_VERSION } from '../../src/emulator/index.js';
import type { Operation } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

const OFFICIAL_VERSION = '1.11.0';
const OFFICIAL_V1_ENUMS: Record<string, Record<string, number>> = {
  'mesos.v1.scheduler.Event.Type': {
    UNKNOWN: 0, SUBSCRIBED: 1, OFFERS: 2, INVERSE_OFFERS: 9, RESCIND: 3, RESCIND_INVERSE_OFFER: 10, UPDATE: 4,
    UPDATE_OPERATION_STATUS: 11, MESSAGE: 5, FAILURE: 6, ERROR: 7, HEARTBEAT: 8
  },
  'mesos.v1.scheduler.Call.Type': {
    UNKNOWN: 0, SUBSCRIBE: 1, TEARDOWN: 2, ACCEPT: 3, DECLINE: 4, ACCEPT_INVERSE_OFFERS: 13,
    DECLINE_INVERSE_OFFERS: 14, REVIVE: 5, KILL: 6, SHUTDOWN: 7, ACKNOWLEDGE: 8, ACKNOWLEDGE_OPERATION_STATUS: 15,
    RECONCILE: 9, RECONCILE_OPERATIONS: 16, MESSAGE: 10, REQUEST: 11, SUPPRESS: 12, UPDATE_FRAMEWORK: 17
  },
  'mesos.v1.MasterInfo.Capability.Type': {
    UNKNOWN: 0, AGENT_UPDATE: 1, AGENT_DRAINING: 2
  },
  'mesos.v1.FrameworkInfo.Capability.Type': {
    UNKNOWN: 0, REVOCABLE_RESOURCES: 1, TASK_KILLING_STATE: 2, GPU_RESOURCES: 3, SHARED_RESOURCES: 4,
    PARTITION_AWARE: 5, MULTI_ROLE: 6, RESERVATION_REFINEMENT: 7, REGION_AWARE: 8
  },
  'mesos.v1.Value.Type': {
    SCALAR: 0, RANGES: 1, SET: 2, TEXT: 3
  },
  'mesos.v1.Resource.ReservationInfo.Type': {
    UNKNOWN: 0, STATIC: 1, DYNAMIC: 2
  },
  'mesos.v1.Resource.DiskInfo.Source.Type': {
    UNKNOWN: 0, PATH: 1, MOUNT: 2, BLOCK: 3, RAW: 4
  },
  'mesos.v1.Environment.Variable.Type': {
    UNKNOWN: 0, VALUE: 1, SECRET: 2
  },
  'mesos.v1.ExecutorInfo.Type': {
    UNKNOWN: 0, DEFAULT: 1, CUSTOM: 2
  },
  'mesos.v1.Image.Type': {
    APPC: 1, DOCKER: 2
  },
  'mesos.v1.Volume.Mode': {
    RW: 1, RO: 2
  },
  'mesos.v1.ContainerInfo.Type': {
    DOCKER: 1, MESOS: 2
  },
  'mesos.v1.ContainerInfo.DockerInfo.Network': {
    HOST: 1, BRIDGE: 2, NONE: 3, USER: 4
  },
  'mesos.v1.TaskState': {
    TASK_STAGING: 6, TASK_STARTING: 0, TASK_RUNNING: 1, TASK_KILLING: 8, TASK_FINISHED: 2, TASK_FAILED: 3,
    TASK_KILLED: 4, TASK_ERROR: 7, TASK_LOST: 5, TASK_DROPPED: 9, TASK_UNREACHABLE: 10, TASK_GONE: 11,
    TASK_GONE_BY_OPERATOR: 12, TASK_UNKNOWN: 13
  },
  'mesos.v1.TaskStatus.Source': {
    SOURCE_MASTER: 0, SOURCE_AGENT: 1, SOURCE_EXECUTOR: 2
  },
  'mesos.v1.TaskStatus.Reason': {
    REASON_COMMAND_EXECUTOR_FAILED: 0, REASON_CONTAINER_LAUNCH_FAILED: 21, REASON_CONTAINER_LIMITATION: 19,
    REASON_CONTAINER_LIMITATION_DISK: 20, REASON_CONTAINER_LIMITATION_MEMORY: 8, REASON_CONTAINER_PREEMPTED: 17,
    REASON_CONTAINER_UPDATE_FAILED: 22, REASON_MAX_COMPLETION_TIME_REACHED: 33,
    REASON_EXECUTOR_REGISTRATION_TIMEOUT: 23, REASON_EXECUTOR_REREGISTRATION_TIMEOUT: 24,
    REASON_EXECUTOR_TERMINATED: 1, REASON_EXECUTOR_UNREGISTERED: 2, REASON_FRAMEWORK_REMOVED: 3, REASON_GC_ERROR: 4,
    REASON_INVALID_FRAMEWORKID: 5, REASON_INVALID_OFFERS: 6, REASON_IO_SWITCHBOARD_EXITED: 27,
    REASON_MASTER_DISCONNECTED: 7, REASON_RECONCILIATION: 9, REASON_RESOURCES_UNKNOWN: 18,
    REASON_AGENT_DISCONNECTED: 10, REASON_AGENT_DRAINING: 34, REASON_AGENT_REMOVED: 11,
    REASON_AGENT_REMOVED_BY_OPERATOR: 31, REASON_AGENT_REREGISTERED: 32, REASON_AGENT_RESTARTED: 12,
    REASON_AGENT_UNKNOWN: 13, REASON_TASK_KILLED_DURING_LAUNCH: 30, REASON_TASK_CHECK_STATUS_UPDATED: 28,
    REASON_TASK_HEALTH_CHECK_STATUS_UPDATED: 29, REASON_TASK_GROUP_INVALID: 25, REASON_TASK_GROUP_UNAUTHORIZED: 26,
    REASON_TASK_INVALID: 14, REASON_TASK_UNAUTHORIZED: 15, REASON_TASK_UNKNOWN: 16
  },
  'mesos.v1.Offer.Operation.Type': {
    UNKNOWN: 0, LAUNCH: 1, LAUNCH_GROUP: 6, RESERVE: 2, UNRESERVE: 3, CREATE: 4, DESTROY: 5, GROW_VOLUME: 11,
    SHRINK_VOLUME: 12, CREATE_DISK: 13, DESTROY_DISK: 14
  },
  'mesos.v1.OperationState': {
    OPERATION_UNSUPPORTED: 0, OPERATION_PENDING: 1, OPERATION_FINISHED: 2, OPERATION_FAILED: 3, OPERATION_ERROR: 4,
    OPERATION_DROPPED: 5, OPERATION_UNREACHABLE: 6, OPERATION_GONE_BY_OPERATOR: 7, OPERATION_RECOVERING: 8,
    OPERATION_UNKNOWN: 9
  },
};

function ourEnums(): Map<string, protobuf.Enum> {
  const out = new Map<string, protobuf.Enum>();
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Enum) out.set(o.fullName.slice(1), o);
      else if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o);
    }
  };
  walk(protoRoot);
  return out;
}

/** Every enum value in a decoded message (JSON names or protobuf numbers), with where it was. */
function enumValues(type: protobuf.Type, value: unknown, where: string, out: Array<{ enumName: string; value: unknown; where: string }>, unknownKeys: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const field = type.fields[key];
    if (!field) { unknownKeys.push(`${where}.${key}`); continue; }
    const resolved = field.resolve().resolvedType;
    const items = Array.isArray(raw) ? raw : [raw];
    items.forEach((item, i) => {
      const at = Array.isArray(raw) ? `${where}.${key}[${i}]` : `${where}.${key}`;
      if (resolved instanceof protobuf.Enum) out.push({ enumName: resolved.fullName.slice(1), value: item, where: at });
      else if (resolved instanceof protobuf.Type) enumValues(resolved, item, at, out, unknownKeys);
    });
  }
}

test('the claimed version is the one the official enum values are written down from', () => {
  assert.equal(CLAIMED_MESOS_VERSION, OFFICIAL_VERSION);
});

test('every enum of our .proto subset has only official v1 values, with the official numbers', () => {
  const ours = ourEnums();
  assert.deepEqual([...ours.keys()].sort(), Object.keys(OFFICIAL_V1_ENUMS).sort(), 'the list above covers every enum of the subset');
  for (const [name, e] of ours) {
    for (const [value, number] of Object.entries(e.values)) {
      assert.equal(OFFICIAL_V1_ENUMS[name]![value], number, `${name}.${value}`);
    }
  }
});

for (const format of ['json', 'protobuf'] as const) {
  test(`every enum value the emulator sends in ${format} is defined by the official v1 protos`, async (t) => {
    const c = await withCluster(t, { masters: 2, agents: 2 });
    const subs: Subscription[] = [];
    const drive = async (partitionAware: boolean): Promise<void> => {
      const url = c.leaderUrl()!;
      const sub = await Subscription.open(url, subscribeCall(`enums-${String(partitionAware)}`, {
        failover_timeout: 60, capabilities: partitionAware ? [{ type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }, { type: 'MULTI_ROLE' }] : [],
        ...(partitionAware ? { roles: ['a', 'b'] } : {}),
      }), { format });
      t.after(() => sub.close());
      subs.push(sub);
      const call = (body: object) => post(url, { framework_id: { value: sub.frameworkId }, ...body } as never, { streamId: sub.streamId, format });
      const offers = (await sub.next('OFFERS')).offers!.offers!;
      const [o1, o2] = offers;
      const executor = { type: 'DEFAULT' as const, executor_id: { value: 'e' }, framework_id: { value: sub.frameworkId }, resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }, { name: 'mem', type: 'SCALAR' as const, scalar: { value: 32 } }, { name: 'disk', type: 'SCALAR' as const, scalar: { value: 1 } }] };
      const ops: Operation[] = [
        { type: 'LAUNCH', launch: { task_infos: [commandTask('ok', o1!, 'true', {}, 0.1, 32), commandTask('fail', o1!, 'exit 1', {}, 0.1, 32), commandTask('long', o1!, 'exec sleep 100', { max_completion_time: { nanoseconds: 50_000_000 }, kill_policy: { grace_period: { nanoseconds: 0 } } }, 0.1, 32), commandTask('bad', o1!, 'true', {}, 1000, 32)] } },
        { type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: [commandTask('g', o1!, 'true', {}, 0.1, 32)] } } },
        { type: 'RESERVE', id: { value: 'r' }, reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }] } },
      ];
      await post(url, { type: 'ACCEPT', framework_id: { value: sub.frameworkId }, accept: { offer_ids: [o1!.id], operations: ops } }, { streamId: sub.streamId, format });
      const acker = async (): Promise<void> => {
        for (let from = 0; ;) {
          let e;
          try { e = await sub.next((x) => x.type === 'UPDATE' && x.update!.status.uuid !== undefined, { from, timeoutMs: 30_000 }); } catch { return; }
          from = sub.events.indexOf(e) + 1;
          try { await acknowledge(url, sub, e.update!.status); } catch { return; }
        }
      };
      void acker();
      await updateOf(sub, 'fail', 'TASK_FAILED');
      await updateOf(sub, 'g', 'TASK_FINISHED');
      await updateOf(sub, 'long', 'TASK_FAILED');
      await launch(url, sub, [o2!], [commandTask('killme', o2!, 'exec sleep 100', { kill_policy: { grace_period: { nanoseconds: 0 } } }, 0.1, 32)]);
      await updateOf(sub, 'killme', 'TASK_RUNNING');
      await call({ type: 'KILL', kill: { task_id: { value: 'killme' } } });
      await call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'unknown' } }] } });
      await updateOf(sub, 'unknown');
      await eventually(() => (sub.events.some((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'killme' && e.update!.status.state === 'TASK_KILLED') ? true : undefined));
      // Make room for the next framework: no more offers to this one.
      await call({ type: 'SUPPRESS' });
      for (const e of sub.events.filter((x) => x.type === 'OFFERS')) {
        await call({ type: 'DECLINE', decline: { offer_ids: e.offers!.offers!.map((o) => o.id), filters: { refuse_seconds: 3600 } } });
      }
    };
    const dump = (e: Error): never => { throw new Error(`${e.message} ${JSON.stringify(subs.map((x) => x.events.filter((y) => y.type === 'UPDATE').map((y) => [y.update!.status.task_id.value, y.update!.status.state, y.update!.status.message])))}`); };
    await drive(false).catch(dump);
    await drive(true).catch(dump);
    const stale = subs[0]!;
    const lostAgent = c.agents()[0]!.id;
    c.faults.loseAgent(lostAgent);
    await stale.next('FAILURE');
    const aware = subs[1]!;
    await post(c.leaderUrl()!, { type: 'RECONCILE', framework_id: { value: aware.frameworkId }, reconcile: { tasks: [{ task_id: { value: 'on-lost' }, agent_id: { value: lostAgent } }] } }, { streamId: aware.streamId, format });
    await updateOf(aware, 'on-lost', 'TASK_UNREACHABLE');
    const mark = stale.events.length;
    await post(c.leaderUrl()!, { type: 'REVIVE', framework_id: { value: stale.frameworkId } }, { streamId: stale.streamId, format });
    await stale.next('OFFERS', { from: mark });
    c.faults.rescindOffers();
    await stale.next('RESCIND', { from: mark });
    // A second subscriber with the first one's id: ERROR on the first stream.
    const again = await Subscription.open(c.leaderUrl()!, subscribeCall('enums-false', { id: { value: stale.frameworkId }, failover_timeout: 60 }), { format });
    t.after(() => again.close());
    await stale.next('ERROR');
    await again.next('SUBSCRIBED');

    const EventType = protoRoot.lookupType('mesos.v1.scheduler.Event');
    const seen: Array<{ enumName: string; value: unknown; where: string }> = [];
    const unknownKeys: string[] = [];
    for (const sub of [...subs, again]) {
      for (const record of sub.records) {
        const decoded = format === 'json'
          ? JSON.parse(record.toString('utf8')) as unknown
          : EventType.toObject(EventType.decode(record), { enums: Number, longs: Number, bytes: String });
        enumValues(EventType, decoded, 'Event', seen, unknownKeys);
      }
    }
    assert.deepEqual(unknownKeys, [], 'no field outside our (official) subset');
    const kinds = new Set(seen.map((s) => `${s.enumName}=${String(s.value)}`));
    for (const s of seen) {
      const official = OFFICIAL_V1_ENUMS[s.enumName];
      assert.ok(official, `${s.where}: ${s.enumName} is an official enum`);
      const ok = format === 'json' ? typeof s.value === 'string' && s.value in official : Object.values(official).includes(s.value as number);
      assert.ok(ok, `${s.where}: ${String(s.value)} is not a value of ${s.enumName} in Mesos ${OFFICIAL_VERSION}`);
    }
    // The scenario reached what it set out to check (names in JSON, numbers in protobuf).
    const name = (enumName: string, v: string): string => `${enumName}=${format === 'json' ? v : OFFICIAL_V1_ENUMS[enumName]![v]}`;
    for (const expected of [
      name('mesos.v1.MasterInfo.Capability.Type', 'AGENT_DRAINING'), name('mesos.v1.TaskState', 'TASK_ERROR'), name('mesos.v1.TaskState', 'TASK_UNREACHABLE'),
      name('mesos.v1.TaskState', 'TASK_KILLING'), name('mesos.v1.TaskStatus.Reason', 'REASON_RECONCILIATION'), name('mesos.v1.TaskStatus.Reason', 'REASON_MAX_COMPLETION_TIME_REACHED'),
      name('mesos.v1.OperationState', 'OPERATION_ERROR'), name('mesos.v1.scheduler.Event.Type', 'FAILURE'), name('mesos.v1.scheduler.Event.Type', 'RESCIND'),
      name('mesos.v1.scheduler.Event.Type', 'ERROR'), name('mesos.v1.Value.Type', 'RANGES'),
    ]) assert.ok(kinds.has(expected), `the scenario sent ${expected}`);
  });
}

test('MasterInfo carries the QUOTA_V2 capability as a v1 master does: without a type', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  assert.deepEqual(c.masterInfo(0).capabilities, [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, {}]);
  const sub = await Subscription.open(c.leaderUrl()!, subscribeCall('caps'));
  t.after(() => sub.close());
  const json = JSON.parse(sub.records.length ? sub.records[0]!.toString() : (await sub.next('SUBSCRIBED'), sub.records[0]!.toString())) as { subscribed: { master_info: { capabilities: unknown[] } } };
  assert.deepEqual(json.subscribed.master_info.capabilities, [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, {}]);
});
