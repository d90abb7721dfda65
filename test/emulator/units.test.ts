/**
 * Pure parts of the emulator: Accept negotiation, resource arithmetic, task
 * validation texts, and the status update manager's ordering and backoff.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsMediaType, authenticate } from '../../src/emulator/call-validation.js';
import { addBags, containsBag, isAllocatable, resourcesToBag, subtractBags } from '../../src/emulator/resources.js';
import { StatusUpdateManager, type UpdateDelivery } from '../../src/emulator/status-update-manager.js';
import { validateId } from '../../src/emulator/task-validation.js';

test('Accept negotiation follows libprocess: most specific range first, q=0 refuses', () => {
  const json = 'application/json';
  const proto = 'application/x-protobuf';
  assert.equal(acceptsMediaType(undefined, json), true);
  assert.equal(acceptsMediaType('', json), false);
  assert.equal(acceptsMediaType('application/recordio', json), false);
  assert.equal(acceptsMediaType('application/*', proto), true);
  assert.equal(acceptsMediaType('*/*;q=0.5', json), true);
  assert.equal(acceptsMediaType('application/json;q=0, */*', json), false);
  assert.equal(acceptsMediaType('application/json;q=0, */*', proto), true);
  assert.equal(acceptsMediaType('APPLICATION/JSON', json), true);
});

test('basic credentials are checked exactly', () => {
  const creds = new Map([['p', 's:with:colons']]);
  const header = (v: string) => `Basic ${Buffer.from(v).toString('base64')}`;
  assert.equal(authenticate(header('p:s:with:colons'), creds), 'p');
  assert.equal(authenticate(header('p:wrong'), creds), undefined);
  assert.equal(authenticate('Bearer x', creds), undefined);
  assert.equal(authenticate(undefined, creds), undefined);
});

test('resource arithmetic is exact to 3 decimals and handles port ranges', () => {
  const a = resourcesToBag([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.2 } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31010 }] } },
  ]);
  assert.equal(a.cpus, 0.3);
  const total = { cpus: 1, mem: 100, disk: 0, ports: [{ begin: 31000, end: 32000 }] };
  const left = subtractBags(total, a);
  assert.equal(left.cpus, 0.7);
  assert.deepEqual(left.ports, [{ begin: 31011, end: 32000 }]);
  assert.deepEqual(addBags(left, a), total);
  assert.equal(containsBag(total, a), true);
  assert.equal(containsBag(left, a), false);
  assert.equal(isAllocatable({ cpus: 0, mem: 31, disk: 0, ports: [] }), false);
  assert.equal(isAllocatable({ cpus: 0.01, mem: 0, disk: 0, ports: [] }), true);
  assert.throws(() => resourcesToBag([{ name: 'gpus', type: 'SCALAR', scalar: { value: 1 } }]), /not offered/);
});

test('task ids are validated as common/validation.cpp does', () => {
  assert.equal(validateId(''), 'ID must not be empty');
  assert.equal(validateId('..'), "'..' is disallowed");
  assert.match(validateId('a/b')!, /invalid characters/);
  assert.equal(validateId('job-1.round-2'), undefined);
});

test('the status update manager sends one update per task at a time and resends until acknowledged', async () => {
  const sent: UpdateDelivery[] = [];
  const m = new StatusUpdateManager((d) => sent.push(d), 10);
  const status = (state: 'TASK_RUNNING' | 'TASK_FINISHED', uuid: string) => ({ task_id: { value: 't' }, state, uuid });
  m.add('fw', status('TASK_RUNNING', 'u1'));
  m.add('fw', status('TASK_FINISHED', 'u2'));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.status.uuid, 'u1');
  assert.equal(sent[0]!.latestState, 'TASK_RUNNING');
  await new Promise((r) => setTimeout(r, 35));
  assert.ok(sent.length >= 2 && sent.every((d) => d.status.uuid === 'u1'), 'only the head is resent');
  assert.equal(sent.at(-1)!.latestState, 'TASK_FINISHED', 'the resend tells the newest state');
  assert.equal(m.acknowledge('fw', 't', 'u2'), undefined, 'an ACK for a later update is ignored');
  assert.equal(m.acknowledge('fw', 't', 'u1')!.state, 'TASK_RUNNING');
  assert.equal(sent.at(-1)!.status.uuid, 'u2');
  assert.equal(m.acknowledge('fw', 't', 'u2')!.state, 'TASK_FINISHED');
  assert.deepEqual(m.pending(), []);
  m.stop();
});
