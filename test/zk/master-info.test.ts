import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contenderSequence, masterInfoToUrl, parseMasterInfo, pickLeaderChild } from '../../src/zk/master-info.js';
import type { MasterInfo } from '../../src/mesos/types.js';

test('pickLeaderChild takes the lowest json.info_ sequence, compared as numbers, and ignores other children', () => {
  assert.equal(pickLeaderChild(['json.info_0000000012', 'json.info_0000000003', 'log_replicas', 'info_0000000001']), 'json.info_0000000003');
  assert.equal(pickLeaderChild(['json.info_10', 'json.info_9']), 'json.info_9');
  assert.equal(pickLeaderChild(['log_replicas', 'info_0000000000', 'json.info_', 'json.info_x1']), undefined);
  assert.equal(pickLeaderChild([]), undefined);
  assert.equal(contenderSequence('json.info_0000000042'), 42);
  assert.equal(contenderSequence('info_0000000042'), undefined);
});

test('masterInfoToUrl prefers address, then hostname + port, then pid', () => {
  const base: MasterInfo = { id: 'm1', ip: 16777226, port: 5050 };
  const cases: [MasterInfo, string, Parameters<typeof masterInfoToUrl>[1]?][] = [
    [{ ...base, hostname: 'old', address: { hostname: 'm1.example', ip: '10.0.0.1', port: 5051 } }, 'http://m1.example:5051'],
    [{ ...base, address: { ip: '10.0.0.1', port: 5051 } }, 'http://10.0.0.1:5051'],
    [{ ...base, address: { hostname: 'm1.example', ip: '10.0.0.1', port: 5051 } }, 'http://10.0.0.1:5051', { preferIp: true }],
    [{ ...base, address: { hostname: 'm1.example', port: 5051 } }, 'https://m1.example:5051', { scheme: 'https' }],
    [{ ...base, hostname: 'm1.example' }, 'http://m1.example:5050'],
    [{ ...base, pid: 'master@10.0.0.7:5055' }, 'http://10.0.0.7:5055'],
    [{ ...base, address: { ip: '::1', port: 5050 } }, 'http://[::1]:5050'],
  ];
  for (const [info, want, opts] of cases) assert.equal(masterInfoToUrl(info, opts), want, JSON.stringify(info));
  assert.throws(() => masterInfoToUrl({ id: 'm', ip: 0, port: 0 }), /no usable address/);
  assert.throws(() => masterInfoToUrl({ id: 'm', ip: 0, port: 5050, pid: 'garbage' }), /no usable address/);
});

test('parseMasterInfo reads JSON and explains bad data', () => {
  assert.equal(parseMasterInfo(Buffer.from('{"id":"x","ip":1,"port":5050}')).id, 'x');
  assert.throws(() => parseMasterInfo(undefined), /no data/);
  assert.throws(() => parseMasterInfo(Buffer.from('\x08\x01binary')), /not JSON/);
  assert.throws(() => parseMasterInfo('[1]'), /not a MasterInfo object/);
});
