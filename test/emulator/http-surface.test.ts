/**
 * The scheduler endpoint's HTTP surface, checked with plain HTTP clients:
 * status codes in Master::Http::scheduler's order, headers, framing.
 */
import assert from 'node:assert/strict';

import { test } from 'node:test';
import { request } from 'undici';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, eventually, openFramework, post, subscribeCall } from './wire-client.js';

test('the leader answers 405 to GET, a non-leader 307 with a scheme-relative Location, no leader 503', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 0 });
  const [m0, m1] = c.masters;
  const get = async (url: string) => {
    const res = await request(url, { method: 'GET' });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };
  const leaderGet = await get(`${m0!.url}/api/v1/scheduler`);
  assert.equal(leaderGet.status, 405);
  assert.equal(leaderGet.headers.allow, 'POST');

  const redirected = await post(m1!.url, subscribeCall());
  assert.equal(redirected.status, 307);
  assert.equal(redirected.headers.location, `//${m0!.hostPort}/api/v1/scheduler`);
  const longForm = await post(m1!.url, subscribeCall(), { path: '/master/api/v1/scheduler' });
  assert.equal(longForm.headers.location, `//${m0!.hostPort}/master/api/v1/scheduler`);
  assert.equal((await get(`${m1!.url}/api/v1/scheduler`)).status, 307, 'redirect happens before the method check');

  assert.equal((await get(`${m1!.url}/master/redirect`)).headers.location, `//${m0!.hostPort}`);
  assert.equal((await get(`${m0!.url}/redirect`)).headers.location, `//${m0!.hostPort}`);
  assert.equal((await get(`${m0!.url}/redirect/x`)).status, 404);

  const state = JSON.parse((await get(`${m0!.url}/master/state`)).body) as Record<string, unknown>;
  assert.equal(state.leader, c.masterInfo(0).pid);
  assert.deepEqual(state.leader_info, c.masterInfo(0));
  assert.ok(Array.isArray(state.frameworks));
  assert.equal((await get(`${m1!.url}/master/state`)).status, 307);

  c.faults.electLeader(undefined);
  const none = await post(m1!.url, subscribeCall());
  assert.equal(none.status, 503);
  assert.match(none.body, /No leader elected/);
  assert.equal((await get(`${m1!.url}/redirect`)).status, 503);
});

test('content types, bodies and Accept are checked as Mesos does', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const raw = async (headers: Record<string, string>, body: string) => {
    const res = await request(`${url}/api/v1/scheduler`, { method: 'POST', headers, body });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const sub = JSON.stringify(subscribeCall());
  assert.equal((await raw({}, sub)).status, 400, 'no Content-Type');
  assert.match((await raw({}, sub)).body, /Expecting 'Content-Type' to be present/);
  assert.equal((await raw({ 'content-type': 'application/json; charset=utf-8' }, sub)).status, 415);
  assert.equal((await raw({ 'content-type': 'text/plain' }, sub)).status, 415);
  const bad = await raw({ 'content-type': 'application/json' }, '{not json');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Failed to parse body into JSON/);
  const numericEnum = await raw({ 'content-type': 'application/json' }, JSON.stringify({ type: 1, subscribe: { framework_info: { user: 'u', name: 'n' } } }));
  assert.equal(numericEnum.status, 400);
  const missingRequired = await raw({ 'content-type': 'application/json' }, JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u' } } }));
  assert.equal(missingRequired.status, 400);
  const noType = await raw({ 'content-type': 'application/json' }, JSON.stringify({ subscribe: { framework_info: { user: 'u', name: 'n' } } }));
  assert.equal(noType.status, 400);
  assert.match(noType.body, /Failed to validate scheduler::Call: Expecting 'type' to be present/);
  const idMismatch = await raw({ 'content-type': 'application/json' }, JSON.stringify({ type: 'SUBSCRIBE', framework_id: { value: 'a' }, subscribe: { framework_info: { user: 'u', name: 'n' } } }));
  assert.equal(idMismatch.status, 400);
  assert.match(idMismatch.body, /'framework_id' differs from 'subscribe.framework_info.id'/);
  const notAcceptable = await raw({ 'content-type': 'application/json', accept: 'application/recordio' }, sub);
  assert.equal(notAcceptable.status, 406);
  const withStreamId = await raw({ 'content-type': 'application/json', 'mesos-stream-id': 'x' }, sub);
  assert.equal(withStreamId.status, 400);
  assert.match(withStreamId.body, /should not include the 'Mesos-Stream-Id' header/);
  const protoGarbage = await request(`${url}/api/v1/scheduler`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff]) });
  assert.equal(protoGarbage.statusCode, 400);
  await protoGarbage.body.dump();
  assert.equal(c.received.length, 0, 'nothing invalid counts as received');
});

test('SUBSCRIBE answers a chunked RecordIO stream: SUBSCRIBED, then HEARTBEAT at once, then at the interval', async (t) => {
  const c = await withCluster(t, { agents: 0, heartbeatIntervalSeconds: 0.05 });
  const url = c.leaderUrl()!;
  for (const format of ['json', 'protobuf'] as const) {
    const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60 }), { format });
    t.after(() => sub.close());
    assert.equal(sub.status, 200);
    assert.equal(sub.headers['content-type'], format === 'json' ? 'application/json' : 'application/x-protobuf');
    assert.equal(sub.headers['transfer-encoding'], 'chunked');
    assert.match(sub.streamId, /^[0-9a-f-]{36}$/);
    const subscribed = await sub.next('SUBSCRIBED');
    assert.equal(sub.events[0], subscribed, 'SUBSCRIBED comes first');
    assert.equal(sub.events[1]?.type ?? (await sub.next('HEARTBEAT')).type, 'HEARTBEAT');
    assert.equal(subscribed.subscribed!.heartbeat_interval_seconds, 0.05);
    assert.deepEqual(subscribed.subscribed!.master_info, c.masterInfo(0));
    assert.match(subscribed.subscribed!.framework_id.value, new RegExp(`^${c.masterInfo(0).id}-\\d{4}$`));
    await sub.next((e) => e.type === 'HEARTBEAT', { from: 2 });
  }
  // Accept listing both picks JSON; protobuf alone picks protobuf.
  const both = await Subscription.open(url, subscribeCall(), { accept: 'application/x-protobuf, application/json' });
  t.after(() => both.close());
  assert.equal(both.headers['content-type'], 'application/json');
  const any = await Subscription.open(url, subscribeCall(), { accept: '*/*' });
  t.after(() => any.close());
  assert.equal(any.headers['content-type'], 'application/json');
});

test('calls need a known, connected framework and its current stream id', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const before = await post(url, { type: 'REVIVE', framework_id: { value: 'nope' } }, { streamId: 'x' });
  assert.equal(before.status, 400);
  assert.match(before.body, /Framework cannot be found/);

  const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60 }));
  await sub.next('SUBSCRIBED');
  const fw = { value: sub.frameworkId };
  const noId = await post(url, { type: 'REVIVE', framework_id: fw });
  assert.equal(noId.status, 400);
  assert.match(noId.body, /should include the 'Mesos-Stream-Id' header/);
  const wrongId = await post(url, { type: 'REVIVE', framework_id: fw }, { streamId: 'b0f6b6c4-0000-0000-0000-000000000000' });
  assert.equal(wrongId.status, 400);
  assert.match(wrongId.body, /didn't match the stream ID/);
  const noFwId = await post(url, { type: 'REVIVE' }, { streamId: sub.streamId });
  assert.equal(noFwId.status, 400);
  assert.match(noFwId.body, /Expecting 'framework_id' to be present/);
  const missingSub = await post(url, { type: 'KILL', framework_id: fw }, { streamId: sub.streamId });
  assert.match(missingSub.body, /Expecting 'kill' to be present/);
  const badUuid = await post(url, { type: 'ACKNOWLEDGE', framework_id: fw, acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: Buffer.from('short').toString('base64') } }, { streamId: sub.streamId });
  assert.equal(badUuid.status, 400);
  const ok = await post(url, { type: 'REVIVE', framework_id: fw }, { streamId: sub.streamId, format: 'protobuf' });
  assert.equal(ok.status, 202);
  assert.equal(ok.body, '');
  const unknown = await post(url, JSON.stringify({ type: 'UNKNOWN', framework_id: fw }), { streamId: sub.streamId });
  assert.equal(unknown.status, 501);
  assert.deepEqual(c.received.map((r) => r.call.type), ['SUBSCRIBE', 'REVIVE', 'UNKNOWN']);
  assert.ok(c.responses.some((r) => r.status === 202 && r.callType === 'REVIVE'));

  sub.close();
  await waitFor(() => c.frameworks()[0]?.connected === false);
  const gone = await post(url, { type: 'REVIVE', framework_id: fw }, { streamId: sub.streamId });
  assert.equal(gone.status, 403);
  assert.match(gone.body, /Framework is not subscribed/);
});

test('HTTP basic authentication: 401 without credentials, principal must match FrameworkInfo', async (t) => {
  const c = await withCluster(t, { agents: 0, credentials: [{ principal: 'ops', secret: 's3cret' }] });
  const url = c.leaderUrl()!;
  const auth = (p: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${p}:${s}`).toString('base64')}` });
  const none = await post(url, subscribeCall());
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="mesos-master-scheduler"');
  assert.equal((await post(url, subscribeCall(), { headers: auth('ops', 'wrong') })).status, 401);
  const mismatch = await post(url, subscribeCall('fw', { principal: 'other' }), { headers: auth('ops', 's3cret') });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body, /Authenticated principal 'ops' does not match principal 'other'/);
  const sub = await Subscription.open(url, subscribeCall('fw'), { headers: auth('ops', 's3cret') });
  t.after(() => sub.close());
  assert.equal(sub.status, 200);
  await sub.next('SUBSCRIBED');
  const call = await post(url, { type: 'REVIVE', framework_id: { value: sub.frameworkId } }, { streamId: sub.streamId, headers: auth('ops', 's3cret') });
  assert.equal(call.status, 202);
});

test('the admin endpoint answers on every master and injects faults', async (t) => {
  const c = await withCluster(t, { masters: 2, agents: 1 });
  const admin = async (path: string, method = 'GET', body?: unknown) => {
    const res = await request(`${c.masters[1]!.url}/emulator/${path}`, { method: method as 'GET', ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };
  assert.deepEqual((await admin('leader')).json, { index: 0, url: c.masters[0]!.url });
  assert.equal((await admin('faults/elect-leader', 'POST', { index: 1 })).status, 200);
  await eventually(() => (c.leaderIndex() === 1 ? true : undefined)); // applied once the answer is out
  assert.equal((await admin('faults/elect-leader', 'POST', { index: 7 })).status, 400);
  assert.equal((await admin('faults/nope', 'POST')).status, 404);
  assert.equal((await admin('faults/unavailable', 'POST', { ms: 'x' })).status, 400);
  assert.equal((await admin('faults/unavailable', 'POST', { ms: 60_000 })).status, 200);
  const unavailable = await post(c.masters[1]!.url, subscribeCall());
  assert.equal(unavailable.status, 503);
  assert.match(unavailable.body, /Master has not finished recovery/);
  assert.ok(Array.isArray((await admin('tasks')).json));
  assert.equal((await admin('tasks', 'POST')).status, 405);
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}



test('the remaining calls: 202 for SHUTDOWN, MESSAGE, REQUEST and inverse offers; UPDATE_FRAMEWORK is synchronous', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60 }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  const fw = { value: sub.frameworkId };
  const agent = { value: 'some-agent' };
  const send = (call: object) => post(url, { framework_id: fw, ...call } as never, { streamId: sub.streamId });
  assert.equal((await send({ type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e' }, agent_id: agent } })).status, 202);
  assert.equal((await send({ type: 'MESSAGE', message: { agent_id: agent, executor_id: { value: 'e' }, data: Buffer.from('hi').toString('base64') } })).status, 202);
  assert.equal((await send({ type: 'REQUEST', request: { requests: [] } })).status, 202);
  assert.equal((await send({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [] } })).status, 202);
  assert.equal((await send({ type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [] } })).status, 202);

  const info = { user: 'nobody', name: 'renamed', id: fw, failover_timeout: 120 };
  assert.equal((await send({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info } })).status, 200);
  assert.equal(c.frameworks()[0]!.name, 'renamed');
  const userChange = await send({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, user: 'root' } } });
  assert.equal(userChange.status, 400);
  const idMismatch = await send({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, id: { value: 'other' } } } });
  assert.equal(idMismatch.status, 400);
  assert.match(idMismatch.body, /'framework_id' differs from 'update_framework.framework_info.id'/);
  // None of these ended the subscription.
  assert.equal(sub.ended, false);
});

test('an invalid FrameworkInfo is refused with an ERROR event on the 200 stream, which then ends', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const sub = await Subscription.open(c.leaderUrl()!, subscribeCall('fw', { roles: ['a'] }));
  t.after(() => sub.close());
  assert.equal(sub.status, 200);
  const err = await sub.next('ERROR');
  assert.equal(err.error!.message, "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable");
  assert.equal(sub.events[0], err, 'no SUBSCRIBED before the ERROR');
  await sub.closed();
  assert.deepEqual(c.frameworks(), []);
});

test('with keepCalls, a master keeps only the latest calls and responses (a long-lived master does not keep every call)', async (t) => {
  const c = await withCluster(t, { agents: 1, keepCalls: 4 });
  const url = c.leaderUrl()!;
  const sub = await openFramework(t, url, 'kept');
  const fw = { value: sub.frameworkId };
  for (let i = 0; i < 10; i++) {
    assert.equal((await post(url, { type: 'RECONCILE', framework_id: fw, reconcile: { tasks: [{ task_id: { value: `t${i}` } }] } }, { streamId: sub.streamId })).status, 202);
  }
  assert.ok(c.received.length <= 4, `at most 4 calls kept, got ${c.received.length}`);
  assert.equal(c.received.at(-1)!.call.reconcile?.tasks?.[0]?.task_id.value, 't9', 'the latest call is kept');
  assert.ok(c.responses.length <= 4, `at most 4 responses kept, got ${c.responses.length}`);
});
