import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeCall, decodeEvent, encodeCall, encodeEvent, protoRoot, type WireFormat } from '../../src/mesos/codec.js';
import type { Call, Event, Offer, TaskInfo, TaskStatus } from '../../src/mesos/types.js';

const fw = { value: 'fw-0001' };
const agent = { value: 'agent-1' };
const uuid = randomBytes(16).toString('base64');

const frameworkInfo = {
  user: 'etl', name: 'mesos-http-scheduler', role: '*', failover_timeout: 604800, checkpoint: true,
  hostname: 'sched-1', principal: 'etl-principal', capabilities: [{ type: 'TASK_KILLING_STATE' as const }],
};

const task: TaskInfo = {
  name: 'job-1-1', task_id: { value: 'job.abcd.1.1' }, agent_id: agent,
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
  ],
  command: {
    shell: true, value: "echo 'Hello World'",
    environment: { variables: [{ name: 'A', value: '1' }] },
    uris: [{ value: 'https://example.com/x.tgz', extract: true }],
  },
  container: { type: 'DOCKER', docker: { image: 'busybox:1', network: 'HOST' } },
};

const offer: Offer = {
  id: { value: 'offer-1' }, framework_id: fw, agent_id: agent, hostname: 'agent-1.example',
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: '*' },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
  ],
  attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }],
};

const status: TaskStatus = {
  task_id: { value: 'job.abcd.1.1' }, state: 'TASK_FAILED', message: 'exit 1', source: 'SOURCE_EXECUTOR',
  reason: 'REASON_COMMAND_EXECUTOR_FAILED', agent_id: agent, timestamp: 1700000000.25, uuid,
};

const calls: Call[] = [
  { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo, suppressed_roles: ['*'] } },
  { framework_id: fw, type: 'SUBSCRIBE', subscribe: { framework_info: { ...frameworkInfo, id: fw } } },
  { framework_id: fw, type: 'TEARDOWN' },
  { framework_id: fw, type: 'ACCEPT', accept: { offer_ids: [{ value: 'offer-1' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }], filters: { refuse_seconds: 5 } } },
  { framework_id: fw, type: 'DECLINE', decline: { offer_ids: [{ value: 'offer-2' }], filters: { refuse_seconds: 3600 } } },
  { framework_id: fw, type: 'REVIVE', revive: { roles: ['*'] } },
  { framework_id: fw, type: 'SUPPRESS', suppress: { roles: ['*'] } },
  { framework_id: fw, type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: agent, kill_policy: { grace_period: { nanoseconds: 5e9 } } } },
  { framework_id: fw, type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e1' }, agent_id: agent } },
  { framework_id: fw, type: 'ACKNOWLEDGE', acknowledge: { agent_id: agent, task_id: { value: 't1' }, uuid } },
  { framework_id: fw, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: agent }] } },
  { framework_id: fw, type: 'MESSAGE', message: { agent_id: agent, executor_id: { value: 'e1' }, data: Buffer.from('hi').toString('base64') } },
  { framework_id: fw, type: 'REQUEST', request: { requests: [{ agent_id: agent, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }] } },
  { framework_id: fw, type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [{ value: 'io-1' }] } },
  { framework_id: fw, type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [{ value: 'io-1' }], filters: { refuse_seconds: 1 } } },
  { framework_id: fw, type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...frameworkInfo, id: fw }, suppressed_roles: ['batch'] } },
];

const events: Event[] = [
  { type: 'SUBSCRIBED', subscribed: { framework_id: fw, heartbeat_interval_seconds: 15, master_info: { id: 'm1', ip: 16777343, port: 5050, hostname: 'master-1', address: { hostname: 'master-1', ip: '127.0.0.1', port: 5050 } } } },
  { type: 'OFFERS', offers: { offers: [offer] } },
  { type: 'RESCIND', rescind: { offer_id: { value: 'offer-1' } } },
  { type: 'UPDATE', update: { status } },
  { type: 'MESSAGE', message: { agent_id: agent, executor_id: { value: 'e1' }, data: Buffer.from([0, 1, 2, 255]).toString('base64') } },
  { type: 'FAILURE', failure: { agent_id: agent, executor_id: { value: 'e1' }, status: 137 } },
  { type: 'ERROR', error: { message: 'Framework failed over' } },
  { type: 'HEARTBEAT' },
  { type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: [{ id: { value: 'io-1' }, framework_id: fw, agent_id: agent }] } },
  { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: 'io-1' } } },
];

const formats: WireFormat[] = ['protobuf', 'json'];

/** The JSON object on the wire, to look at names and value types. */
function wire(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
}

function keysDeep(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysDeep(v, out);
    }
  }
  return out;
}

describe('codec', () => {
  for (const format of formats) {
    for (const call of calls) {
      it(`round-trips a ${call.type} call as ${format}`, () => {
        assert.deepEqual(decodeCall(encodeCall(call, format), format), call);
      });
    }
    for (const event of events) {
      it(`round-trips a ${event.type} event as ${format}`, () => {
        assert.deepEqual(decodeEvent(encodeEvent(event, format), format), event);
      });
    }
  }

  it('writes JSON with snake_case proto field names only', () => {
    for (const bytes of [...calls.map((c) => encodeCall(c, 'json')), ...events.map((e) => encodeEvent(e, 'json'))]) {
      for (const key of keysDeep(wire(bytes))) assert.match(key, /^[a-z][a-z0-9_]*$/, `key ${key}`);
    }
    const accept = wire(encodeCall(calls[3]!, 'json'));
    assert.ok('framework_id' in accept);
    assert.ok('offer_ids' in (accept.accept as object));
  });

  it('writes enums as their value names, in JSON and after protobuf decoding', () => {
    const ack = wire(encodeCall(calls[9]!, 'json'));
    assert.equal(ack.type, 'ACKNOWLEDGE');
    const update = decodeEvent(encodeEvent(events[3]!, 'protobuf'), 'protobuf');
    assert.equal(update.type, 'UPDATE');
    assert.equal(update.update?.status.state, 'TASK_FAILED');
    assert.equal(update.update?.status.source, 'SOURCE_EXECUTOR');
    assert.equal(update.update?.status.reason, 'REASON_COMMAND_EXECUTOR_FAILED');
  });

  it('round-trips a status uuid byte-exactly: event in, acknowledge out', () => {
    for (const format of formats) {
      const raw = randomBytes(16);
      const event: Event = { type: 'UPDATE', update: { status: { ...status, uuid: raw.toString('base64') } } };
      const got = decodeEvent(encodeEvent(event, format), format).update!.status.uuid!;
      const ack: Call = { framework_id: fw, type: 'ACKNOWLEDGE', acknowledge: { agent_id: agent, task_id: status.task_id, uuid: got } };
      const echoed = decodeCall(encodeCall(ack, format), format).acknowledge!.uuid;
      assert.ok(Buffer.from(echoed, 'base64').equals(raw), format);
    }
  });

  it('encodes an ACKNOWLEDGE byte for byte as the general path does (fromObject, then encode)', () => {
    const general = protoRoot.lookupType('mesos.v1.scheduler.Call');
    for (let i = 0; i < 50; i++) {
      const ack: Call = { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: `agent-S${i}` }, task_id: { value: `etl-r1-t${i}-abcd` }, uuid: randomBytes(i % 17).toString('base64') } };
      for (const call of [ack, { ...ack, framework_id: fw }]) {
        assert.deepEqual(Buffer.from(encodeCall(call, 'protobuf')), Buffer.from(general.encode(general.fromObject(call)).finish()));
      }
    }
  });

  it('keeps 0x0A and high bytes of a uuid in protobuf', () => {
    const raw = Buffer.from('0a0a0a0affffffff000000000a0a0a0a', 'hex');
    const event: Event = { type: 'UPDATE', update: { status: { ...status, uuid: raw.toString('base64') } } };
    const got = decodeEvent(encodeEvent(event, 'protobuf'), 'protobuf').update!.status.uuid!;
    assert.ok(Buffer.from(got, 'base64').equals(raw));
  });

  it('rejects a JSON call with a numeric enum, as the master does', () => {
    assert.throws(() => decodeCall(Buffer.from('{"type":3,"framework_id":{"value":"x"}}'), 'json'), { code: 'MESOS_CODEC' });
  });

  it('rejects a JSON call that lacks a required field anywhere, naming it', () => {
    const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'etl' } } };
    assert.throws(() => decodeCall(Buffer.from(JSON.stringify(call)), 'json'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'MESOS_CODEC');
      assert.match(err.message, /Missing required fields: subscribe\.framework_info\.name$/);
      return true;
    });
    const ack = { type: 'ACKNOWLEDGE', framework_id: { value: 'f' }, acknowledge: { agent_id: { value: 'a' }, task_id: {} } };
    assert.throws(() => decodeCall(Buffer.from(JSON.stringify(ack)), 'json'), /acknowledge\.task_id\.value, acknowledge\.uuid/);
  });

  it('drops an unknown name in an optional enum field and ignores camelCase keys, as the master does', () => {
    const call = decodeCall(Buffer.from('{"type":"DECLINE","frameworkId":{"value":"x"},"decline":{"offer_ids":[{"value":"o"}]}}'), 'json');
    assert.equal(call.framework_id, undefined);
    assert.equal(call.type, 'DECLINE');
    const odd = decodeCall(Buffer.from('{"type":"NOT_A_CALL","framework_id":{"value":"x"}}'), 'json');
    assert.equal(odd.type, undefined);
  });

  it('rejects bytes that are not a message', () => {
    assert.throws(() => decodeEvent(Buffer.from('{not json'), 'json'), { code: 'MESOS_CODEC' });
    assert.throws(() => decodeEvent(Buffer.from([0xff, 0xff, 0xff]), 'protobuf'), { code: 'MESOS_CODEC' });
  });
});
