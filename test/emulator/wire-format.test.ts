/**
 * Events on the wire, field by field: the protobuf tags and wire types the
 * emulator sends, checked against the numbers of the official definitions
 * (apache/mesos include/mesos/v1/scheduler/scheduler.proto and
 * include/mesos/v1/mesos.proto), and the exact JSON of the same events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, commandTask, launch, subscribeCall } from './wire-client.js';

/** field number -> [wire type, raw value] of the top level of a message. */
function fields(bytes: Uint8Array): Map<number, Array<{ wireType: number; value: number | Uint8Array }>> {
  const r = protobuf.Reader.create(bytes);
  const out = new Map<number, Array<{ wireType: number; value: number | Uint8Array }>>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    let value: number | Uint8Array;
    if (wireType === 0) value = Number(r.uint64().toString());
    else if (wireType === 1) value = r.double();
    else if (wireType === 2) value = r.bytes();
    else if (wireType === 5) value = r.float();
    else throw new Error(`unexpected wire type ${wireType}`);
    out.set(field, [...(out.get(field) ?? []), { wireType, value }]);
  }
  return out;
}

function one(m: ReturnType<typeof fields>, field: number, wireType: number): number | Uint8Array {
  const v = m.get(field);
  assert.ok(v && v.length === 1, `field ${field} present once (have ${[...m.keys()].join(',')})`);
  assert.equal(v[0]!.wireType, wireType, `wire type of field ${field}`);
  return v[0]!.value;
}

const LEN = 2;
const VARINT = 0;
const DOUBLE = 1;

// Official numbers (scheduler.proto Event.Type and Event fields; mesos.proto).
const EVENT = { type: 1, subscribed: 2, offers: 3, rescind: 4, update: 5, message: 6, failure: 7, error: 8 };
const EVENT_TYPE = { SUBSCRIBED: 1, OFFERS: 2, RESCIND: 3, UPDATE: 4, MESSAGE: 5, FAILURE: 6, ERROR: 7, HEARTBEAT: 8 };
const TASK_STATE = { TASK_STARTING: 0, TASK_RUNNING: 1, TASK_FINISHED: 2 };
const SOURCE_EXECUTOR = 2;

test('protobuf events use the official field numbers', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 60_000, heartbeatIntervalSeconds: 1 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('wire', { failover_timeout: 60 }), { format: 'protobuf' });
  t.after(() => sub.close());
  const offersEvent = await sub.next('OFFERS');

  const subscribed = fields(sub.records[0]!);
  assert.equal(one(subscribed, EVENT.type, VARINT), EVENT_TYPE.SUBSCRIBED);
  const body = fields(one(subscribed, EVENT.subscribed, LEN) as Uint8Array);
  const fwId = fields(one(body, 1, LEN) as Uint8Array); // framework_id = 1
  assert.equal(Buffer.from(one(fwId, 1, LEN) as Uint8Array).toString(), sub.frameworkId);
  assert.equal(one(body, 2, DOUBLE), 1); // heartbeat_interval_seconds = 2 (double)
  const masterInfo = fields(one(body, 3, LEN) as Uint8Array); // master_info = 3
  assert.equal(Buffer.from(one(masterInfo, 1, LEN) as Uint8Array).toString(), c.masterInfo(0).id); // id = 1
  assert.equal(one(masterInfo, 2, VARINT), c.masterInfo(0).ip); // ip = 2 (uint32)
  assert.equal(one(masterInfo, 3, VARINT), c.masterInfo(0).port); // port = 3

  const heartbeat = fields(sub.records[1]!);
  assert.equal(one(heartbeat, EVENT.type, VARINT), EVENT_TYPE.HEARTBEAT);
  assert.equal(heartbeat.size, 1);

  const offersRec = fields(sub.records[sub.events.indexOf(offersEvent)]!);
  assert.equal(one(offersRec, EVENT.type, VARINT), EVENT_TYPE.OFFERS);
  const offer = fields(one(fields(one(offersRec, EVENT.offers, LEN) as Uint8Array), 1, LEN) as Uint8Array); // Offers.offers = 1
  for (const f of [1, 2, 3]) one(offer, f, LEN); // id, framework_id, agent_id
  assert.equal(Buffer.from(one(offer, 4, LEN) as Uint8Array).toString(), '127.0.0.1'); // hostname = 4
  const offerUrl = fields(one(offer, 8, LEN) as Uint8Array); // url = 8
  assert.equal(Buffer.from(one(offerUrl, 1, LEN) as Uint8Array).toString(), 'http'); // scheme = 1
  assert.equal(one(fields(one(offerUrl, 2, LEN) as Uint8Array), 3, VARINT), 5051); // address = 2, port = 3
  const resources = offer.get(5)!.map((r) => fields(r.value as Uint8Array)); // resources = 5
  const cpus = resources.find((r) => Buffer.from(one(r, 1, LEN) as Uint8Array).toString() === 'cpus')!; // name = 1
  assert.equal(one(cpus, 2, VARINT), 0); // type = 2: SCALAR = 0
  assert.equal(one(fields(one(cpus, 3, LEN) as Uint8Array), 1, DOUBLE), 4); // scalar = 3, value = 1
  const ports = resources.find((r) => Buffer.from(one(r, 1, LEN) as Uint8Array).toString() === 'ports')!;
  assert.equal(one(ports, 2, VARINT), 1); // RANGES = 1
  const range = fields(one(fields(one(ports, 4, LEN) as Uint8Array), 1, LEN) as Uint8Array); // ranges = 4, range = 1
  assert.equal(one(range, 1, VARINT), 31000); // begin = 1
  assert.equal(one(range, 2, VARINT), 32000); // end = 2

  const o = offersEvent.offers!.offers![0]!;
  const call = await launch(url, sub, [o], [commandTask('w1', o, 'sleep 100')]);
  assert.equal(call.status, 202);
  const update = await sub.next('UPDATE');
  const rec = fields(sub.records[sub.events.indexOf(update)]!);
  assert.equal(one(rec, EVENT.type, VARINT), EVENT_TYPE.UPDATE);
  const status = fields(one(fields(one(rec, EVENT.update, LEN) as Uint8Array), 1, LEN) as Uint8Array); // Update.status = 1
  assert.equal(Buffer.from(one(fields(one(status, 1, LEN) as Uint8Array), 1, LEN) as Uint8Array).toString(), 'w1'); // task_id = 1
  assert.equal(one(status, 2, VARINT), TASK_STATE.TASK_STARTING); // state = 2
  one(status, 5, LEN); // agent_id = 5
  assert.equal(typeof one(status, 6, DOUBLE), 'number'); // timestamp = 6
  one(status, 7, LEN); // executor_id = 7
  assert.equal(one(status, 9, VARINT), SOURCE_EXECUTOR); // source = 9
  assert.equal((one(status, 11, LEN) as Uint8Array).length, 16); // uuid = 11, 16 raw bytes
});

test('JSON events use proto field names and enum names', async (t) => {
  const c = await withCluster(t, { agents: 0, heartbeatIntervalSeconds: 1 });
  const sub = await Subscription.open(c.leaderUrl()!, subscribeCall('wire'));
  t.after(() => sub.close());
  await sub.next('HEARTBEAT');
  const first = JSON.parse(sub.records[0]!.toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(first).sort(), ['subscribed', 'type']);
  assert.equal(first.type, 'SUBSCRIBED');
  const subscribed = first.subscribed as Record<string, unknown>;
  assert.deepEqual(Object.keys(subscribed).sort(), ['framework_id', 'heartbeat_interval_seconds', 'master_info']);
  assert.equal(sub.records[1]!.toString('utf8'), '{"type":"HEARTBEAT"}');
});
