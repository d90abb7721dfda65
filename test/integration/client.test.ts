/**
 * The Mesos client (subscription actor and call sender) against small fake
 * masters on loopback: headers, redirects, failover between candidates, event
 * mapping, one conn.lost at the end, stale stream detection on calls.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { createActor, setup, type AnyActorRef, type EventObject } from 'xstate';
import type { SubscriptionEvent, SubscriptionInput } from '../../machines/contract.js';
import { CallSender } from '../../src/client/calls.js';
import { Credentials } from '../../src/client/credentials.js';
import type { LeaderSource } from '../../src/client/leader-source.js';
import { SessionHolder } from '../../src/client/session.js';
import { resolveRedirect } from '../../src/client/master-address.js';
import { StaticLeaderSource } from '../../src/client/static-leader-source.js';
import { BACKLOG_PAUSE, BACKLOG_RESUME, createSubscriptionLogic } from '../../src/client/subscription.js';
import { MesosTransport } from '../../src/client/transport.js';
import { coalesceWritesPerTick } from '../../src/client/write-coalescing.js';
import { decodeCall, encodeEvent, formatForContentType, type WireFormat } from '../../src/mesos/codec.js';
import { encodeRecord } from '../../src/mesos/recordio.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { Call, Event } from '../../src/mesos/types.js';

interface Received { headers: IncomingMessage['headers']; call: Call; url: string }
type Handler = (req: IncomingMessage, res: ServerResponse, call: Call) => void;

async function fakeMaster(t: TestContext, handler: Handler): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const format = formatForContentType(req.headers['content-type']) ?? 'json';
      const call = decodeCall(Buffer.concat(chunks), format);
      received.push({ headers: req.headers, call, url: req.url ?? '' });
      handler(req, res, call);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

function startStream(res: ServerResponse, format: WireFormat, streamId = 'stream-1'): (e: Event) => void {
  res.writeHead(200, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf', 'mesos-stream-id': streamId });
  res.flushHeaders();
  return (e) => res.write(encodeRecord(encodeEvent(e, format)));
}

function logSink(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { out.push(String(chunk)); cb(); } });
  return { log: createLogger({ destination: stream, debug: true, format: 'json' }), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const input: SubscriptionInput = {
  frameworkInfo: { user: 'etl', name: 'test', role: '*', failover_timeout: 60, principal: 'etl' },
  suppressedRoles: [],
  generation: 7,
};

function runSubscription(t: TestContext, logic: ReturnType<typeof createSubscriptionLogic>, subInput = input) {
  const events: SubscriptionEvent[] = [];
  const waiters: { pred: (e: SubscriptionEvent) => boolean; resolve: (e: SubscriptionEvent) => void }[] = [];
  const parent = setup({ actors: { subscription: logic } }).createMachine({
    invoke: { id: 'sub', src: 'subscription', input: () => subInput },
    on: {
      '*': {
        actions: ({ event }: { event: EventObject }) => {
          const e = event as SubscriptionEvent;
          events.push(e);
          for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
        },
      },
    },
  });
  const actor: AnyActorRef = createActor(parent).start();
  t.after(() => actor.stop());
  const next = (pred: (e: SubscriptionEvent) => boolean): Promise<SubscriptionEvent> => {
    const found = events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  return { events, next, actor };
}

function setupClient(t: TestContext, urls: string[], opts: { format?: WireFormat; credentials?: Credentials; source?: LeaderSource; callTimeoutMs?: number } = {}) {
  const transport = new MesosTransport({ format: opts.format ?? 'protobuf', callTimeoutMs: opts.callTimeoutMs ?? 5000, ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  t.after(() => transport.close());
  const session = new SessionHolder();
  const sink = logSink();
  const logic = createSubscriptionLogic({ source: opts.source ?? new StaticLeaderSource(urls), transport, session, log: sink.log, now: () => 1234 });
  return { transport, session, sink, logic };
}

const subscribed = (id = 'fw-1'): Event => ({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: id }, heartbeat_interval_seconds: 15 } });

describe('subscription actor', () => {
  for (const format of ['protobuf', 'json'] as const) {
    it(`subscribes with exact headers and maps events (${format})`, async (t) => {
      let send: ((e: Event) => void) | undefined;
      let end: (() => void) | undefined;
      const master = await fakeMaster(t, (_req, res) => {
        send = startStream(res, format);
        end = () => res.end();
        send(subscribed());
        send({ type: 'HEARTBEAT' });
        send({ type: 'OFFERS', offers: { offers: [{ id: { value: 'o1' }, framework_id: { value: 'fw-1' }, agent_id: { value: 'a1' }, hostname: 'h' }] } });
        send({ type: 'UPDATE', update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: 'AAECAwQFBgcICQoLDA0ODw==' } } });
        send({ type: 'RESCIND', rescind: { offer_id: { value: 'o1' } } });
      });
      const c = setupClient(t, [master.url], { format, credentials: new Credentials('etl', 'pw') });
      const run = runSubscription(t, c.logic);
      await run.next((e) => e.type === 'mesos.rescind');

      const req = master.received[0]!;
      const ct = format === 'json' ? 'application/json' : 'application/x-protobuf';
      assert.equal(req.url, '/api/v1/scheduler');
      assert.equal(req.headers['content-type'], ct);
      assert.equal(req.headers.accept, ct);
      assert.equal(req.headers['mesos-stream-id'], undefined);
      assert.equal(req.headers.authorization, `Basic ${Buffer.from('etl:pw').toString('base64')}`);
      assert.equal(req.call.type, 'SUBSCRIBE');
      assert.equal(req.call.framework_id, undefined);
      assert.deepEqual(req.call.subscribe?.framework_info, input.frameworkInfo);

      const host = new URL(master.url).host;
      assert.deepEqual(run.events.slice(0, 5), [
        { type: 'conn.subscribed', generation: 7, streamId: 'stream-1', master: host, frameworkId: 'fw-1', heartbeatIntervalSeconds: 15 },
        { type: 'mesos.heartbeat', generation: 7 },
        { type: 'mesos.offers', generation: 7, receivedAt: 1234, offers: [{ id: { value: 'o1' }, framework_id: { value: 'fw-1' }, agent_id: { value: 'a1' }, hostname: 'h' }] },
        { type: 'mesos.update', generation: 7, status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: 'AAECAwQFBgcICQoLDA0ODw==' } },
        { type: 'mesos.rescind', generation: 7, offerId: 'o1' },
      ]);
      assert.deepEqual(c.session.current, { generation: 7, baseUrl: master.url, streamId: 'stream-1', frameworkId: 'fw-1' });

      end!();
      const lost = await run.next((e) => e.type === 'conn.lost');
      assert.equal(lost.type === 'conn.lost' && lost.error.code, 'STREAM_ENDED');
      assert.equal(c.session.current, undefined);
      assert.equal(run.events.filter((e) => e.type === 'conn.lost').length, 1);
      assert.equal(run.events.at(-1), lost);
    });
  }

  it('gives the consecutive UPDATEs of one chunk as one mesos.updates event, in stream order', async (t) => {
    const status = (id: string, state: 'TASK_RUNNING' | 'TASK_FINISHED') => ({ task_id: { value: id }, state, uuid: Buffer.from(`u-${id}-${state}`).toString('base64') });
    const update = (id: string, state: 'TASK_RUNNING' | 'TASK_FINISHED'): Event => ({ type: 'UPDATE', update: { status: status(id, state) } });
    const master = await fakeMaster(t, (_req, res) => {
      startStream(res, 'protobuf')(subscribed());
      // One write: three updates, a rescind, two updates (a chunk of the stream as the master's bursts give them).
      const chunk = [update('t1', 'TASK_RUNNING'), update('t2', 'TASK_RUNNING'), update('t1', 'TASK_FINISHED'), { type: 'RESCIND', rescind: { offer_id: { value: 'o1' } } } as Event, update('t3', 'TASK_RUNNING'), update('t2', 'TASK_FINISHED')];
      res.write(Buffer.concat(chunk.map((e) => encodeRecord(encodeEvent(e, 'protobuf')))));
      res.write(encodeRecord(encodeEvent({ type: 'HEARTBEAT' }, 'protobuf')));
    });
    const c = setupClient(t, [master.url]);
    const run = runSubscription(t, c.logic);
    await run.next((e) => e.type === 'mesos.heartbeat');
    const seen = run.events.filter((e) => e.type !== 'conn.subscribed' && e.type !== 'mesos.heartbeat');
    // Every update once, in stream order, none across the RESCIND.
    const flat = seen.flatMap((e): unknown[] => (e.type === 'mesos.update' ? [e.status] : e.type === 'mesos.updates' ? e.statuses : [e.type]));
    assert.deepEqual(flat, [status('t1', 'TASK_RUNNING'), status('t2', 'TASK_RUNNING'), status('t1', 'TASK_FINISHED'), 'mesos.rescind', status('t3', 'TASK_RUNNING'), status('t2', 'TASK_FINISHED')]);
    for (const e of seen) if (e.type === 'mesos.updates') assert.ok(e.statuses.length >= 2 && e.generation === 7);
    // Written at once on loopback, the chunk arrives whole: two events of updates, not five.
    assert.deepEqual(seen.map((e) => e.type), ['mesos.updates', 'mesos.rescind', 'mesos.updates']);
  });

  it('re-subscribes with the framework id in the call and in FrameworkInfo, and suppressed roles', async (t) => {
    const master = await fakeMaster(t, (_req, res) => { startStream(res, 'protobuf')(subscribed('fw-9')); });
    const c = setupClient(t, [master.url]);
    const run = runSubscription(t, c.logic, { ...input, frameworkId: 'fw-9', suppressedRoles: ['*'] });
    await run.next((e) => e.type === 'conn.subscribed');
    const call = master.received[0]!.call;
    assert.deepEqual(call.framework_id, { value: 'fw-9' });
    assert.deepEqual(call.subscribe?.framework_info.id, { value: 'fw-9' });
    assert.deepEqual(call.subscribe?.suppressed_roles, ['*']);
  });

  it('follows a scheme-relative 307 to the leader and logs it', async (t) => {
    const leader = await fakeMaster(t, (_req, res) => { startStream(res, 'protobuf')(subscribed()); });
    const leaderHost = new URL(leader.url).host;
    const follower = await fakeMaster(t, (_req, res) => {
      res.writeHead(307, { location: `//${leaderHost}/api/v1/scheduler` });
      res.end();
    });
    const c = setupClient(t, [follower.url]);
    const run = runSubscription(t, c.logic);
    const sub = await run.next((e) => e.type === 'conn.subscribed');
    assert.equal(sub.type === 'conn.subscribed' && sub.master, leaderHost);
    assert.deepEqual(run.events[0], { type: 'conn.leader', generation: 7, master: leaderHost });
    assert.equal(leader.received.length, 1);
    assert.ok(c.sink.lines().some((l) => l.msg === `current master is ${leaderHost}`));
    assert.equal(c.session.current?.baseUrl, leader.url);
  });

  it('follows a bare host:port Location too', async (t) => {
    const leader = await fakeMaster(t, (_req, res) => { startStream(res, 'protobuf')(subscribed()); });
    const follower = await fakeMaster(t, (_req, res) => { res.writeHead(307, { location: new URL(leader.url).host }); res.end(); });
    const c = setupClient(t, [follower.url]);
    const run = runSubscription(t, c.logic);
    await run.next((e) => e.type === 'conn.subscribed');
    assert.equal(leader.received.length, 1);
  });

  it('gives up after a bounded number of redirects', async (t) => {
    let self = '';
    const loop = await fakeMaster(t, (_req, res) => { res.writeHead(307, { location: `//${self}/api/v1/scheduler` }); res.end(); });
    self = new URL(loop.url).host;
    const c = setupClient(t, [loop.url]);
    const run = runSubscription(t, c.logic);
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'MESOS_NOT_LEADER');
    assert.equal(loop.received.length, 6);
  });

  it('passes over a 503 master and a refused connection to the next candidate', async (t) => {
    const down = await fakeMaster(t, () => {});
    const refused = down.url;
    await new Promise<void>((r) => down.server.close(() => r()));
    const busy = await fakeMaster(t, (_req, res) => { res.writeHead(503); res.end('No leader elected'); });
    const good = await fakeMaster(t, (_req, res) => { startStream(res, 'protobuf')(subscribed()); });
    const c = setupClient(t, [refused, busy.url, good.url]);
    const run = runSubscription(t, c.logic);
    await run.next((e) => e.type === 'conn.subscribed');
    assert.equal(busy.received.length, 1);
    assert.equal(good.received.length, 1);
  });

  it('fails the attempt with one conn.lost when every candidate is unusable', async (t) => {
    const busy = await fakeMaster(t, (_req, res) => { res.writeHead(503); res.end('No leader elected'); });
    const c = setupClient(t, [busy.url]);
    const run = runSubscription(t, c.logic);
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'MESOS_NO_LEADER');
    assert.equal(lost.type === 'conn.lost' && lost.error.status, 503);
  });

  it('reports 401 as MESOS_UNAUTHORIZED', async (t) => {
    const m = await fakeMaster(t, (_req, res) => { res.writeHead(401, { 'www-authenticate': 'Basic realm="mesos-master-scheduler"' }); res.end(); });
    const run = runSubscription(t, setupClient(t, [m.url]).logic);
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'MESOS_UNAUTHORIZED');
  });

  it('ends with the RecordIO error when the stream is garbage', async (t) => {
    const m = await fakeMaster(t, (_req, res) => {
      startStream(res, 'json')(subscribed());
      res.write('x1\n');
    });
    const run = runSubscription(t, setupClient(t, [m.url], { format: 'json' }).logic);
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'RECORDIO_BAD_SIZE');
  });

  it('ends with MESOS_SUBSCRIPTION_ERROR after an ERROR event', async (t) => {
    const m = await fakeMaster(t, (_req, res) => {
      startStream(res, 'protobuf')({ type: 'ERROR', error: { message: 'Framework has been removed' } });
      res.end();
    });
    const run = runSubscription(t, setupClient(t, [m.url]).logic);
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.deepEqual(run.events[0], { type: 'mesos.error', generation: 7, message: 'Framework has been removed' });
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'MESOS_SUBSCRIPTION_ERROR');
    assert.match(lost.type === 'conn.lost' ? lost.error.message : '', /Framework has been removed/);
  });

  it('ends the stream with MESOS_NOT_LEADER when the source reports a new leader', async (t) => {
    const m = await fakeMaster(t, (_req, res) => { startStream(res, 'protobuf')(subscribed()); });
    let announce: () => void = () => {};
    const source: LeaderSource = {
      description: 'test source',
      candidates: async () => [m.url],
      changed: (signal) => new Promise((resolve, reject) => {
        announce = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
      close: async () => {},
    };
    const run = runSubscription(t, setupClient(t, [], { source }).logic);
    await run.next((e) => e.type === 'conn.subscribed');
    announce();
    const lost = await run.next((e) => e.type === 'conn.lost');
    assert.equal(lost.type === 'conn.lost' && lost.error.code, 'MESOS_NOT_LEADER');
  });

  it('aborts the request when the actor stops, and sends nothing after', async (t) => {
    let closed: Promise<unknown> = Promise.resolve();
    const m = await fakeMaster(t, (_req, res) => {
      closed = once(res, 'close');
      startStream(res, 'protobuf')(subscribed());
    });
    const run = runSubscription(t, setupClient(t, [m.url]).logic);
    await run.next((e) => e.type === 'conn.subscribed');
    const count = run.events.length;
    run.actor.stop();
    await closed;
    assert.equal(run.events.length, count);
  });
});

describe('call sender', () => {
  it('posts calls with the stream id and framework id, and reports subscription loss', async (t) => {
    let status = 202;
    const m = await fakeMaster(t, (_req, res) => { res.writeHead(status); res.end(status === 403 ? 'Framework is not subscribed' : ''); });
    const c = setupClient(t, [m.url], { format: 'json', credentials: new Credentials('etl', 'pw') });
    const lost: [number, string][] = [];
    const sender = new CallSender({ transport: c.transport, session: c.session, log: c.sink.log, onSubscriptionLost: (g, e) => lost.push([g, e.code]) });

    assert.deepEqual(await sender.send({ type: 'REVIVE', revive: { roles: ['*'] } }, undefined), { kind: 'dropped', reason: 'not subscribed' });
    assert.equal(m.received.length, 0);

    c.session.set({ generation: 3, baseUrl: m.url, streamId: 'sid-3', frameworkId: 'fw-3' });
    assert.deepEqual(await sender.send({ type: 'REVIVE', revive: { roles: ['*'] } }, 2), { kind: 'dropped', reason: 'made under an earlier subscription' },
      'a call made under subscription 2 never goes out with the stream id of subscription 3');
    assert.equal(m.received.length, 0);
    assert.deepEqual(await sender.send({ type: 'REVIVE', revive: { roles: ['*'] } }, 3), { kind: 'sent', status: 202 });
    const got = m.received[0]!;
    assert.equal(got.headers['mesos-stream-id'], 'sid-3');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.authorization, `Basic ${Buffer.from('etl:pw').toString('base64')}`);
    assert.deepEqual(got.call, { type: 'REVIVE', revive: { roles: ['*'] }, framework_id: { value: 'fw-3' } });

    status = 403;
    const out = await sender.send({ type: 'SUPPRESS' }, 3);
    assert.deepEqual(out.kind === 'failed' && out.reached, false, 'a call answered 403 never reached the master');
    assert.deepEqual(lost, [[3, 'MESOS_UNSUBSCRIBED']]);

    status = 400;
    await sender.send({ type: 'DECLINE', decline: { offer_ids: [{ value: 'o' }] } }, 3);
    assert.equal(lost.length, 1, 'a plain 400 is not a subscription loss');
  });

  it('reports an unreachable master as failed without throwing', async (t) => {
    const m = await fakeMaster(t, () => {});
    await new Promise<void>((r) => m.server.close(() => r()));
    const c = setupClient(t, [m.url]);
    const sender = new CallSender({ transport: c.transport, session: c.session, log: c.sink.log, onSubscriptionLost: () => assert.fail('not a loss') });
    c.session.set({ generation: 1, baseUrl: m.url, streamId: 's', frameworkId: 'f' });
    const out = await sender.send({ type: 'REVIVE' }, 1);
    assert.equal(out.kind === 'failed' && out.error.code, 'MESOS_UNAVAILABLE');
    assert.equal(out.kind === 'failed' && out.reached, false, 'a refused connection never reached the master');
  });
  it('reads the answer of a refused call (its status, body and Location), and bounds every call by the call timeout, time in the queue included', async (t) => {
    let answer: 'redirect' | 'never' = 'redirect';
    const m = await fakeMaster(t, (_req, res) => {
      if (answer === 'redirect') { res.writeHead(307, { Location: '//10.0.0.2:5050/api/v1/scheduler' }); res.end(); }
    });
    const transport = new MesosTransport({ format: 'protobuf', callTimeoutMs: 300 });
    t.after(() => transport.close());
    const session = new SessionHolder();
    const sink = logSink();
    const lost: string[] = [];
    const sender = new CallSender({ transport, session, log: sink.log, onSubscriptionLost: (_g, e) => lost.push(e.message) });
    session.set({ generation: 1, baseUrl: m.url, streamId: 's', frameworkId: 'f' });

    const refused = await sender.send({ type: 'REVIVE' }, 1);
    assert.equal(refused.kind === 'failed' && refused.error.code, 'MESOS_NOT_LEADER');
    assert.deepEqual(lost, ['master redirected to //10.0.0.2:5050/api/v1/scheduler']);

    answer = 'never';
    // One connection: the ACCEPT waits until the call before it is answered, and its time limit runs meanwhile.
    const [first, second] = await Promise.all([sender.send({ type: 'REVIVE' }, 1), sender.send({ type: 'ACCEPT', accept: { offer_ids: [{ value: 'o1' }], operations: [] } }, 1)]);
    for (const out of [first, second]) {
      assert.equal(out.kind, 'failed');
      assert.equal(out.kind === 'failed' && out.reached, true, 'a call whose answer never came may have reached the master');
      assert.match(out.kind === 'failed' ? out.error.message : '', /timeout|timed out/);
    }
  });
});

describe('calls on the wire', () => {
  it('stops reading the event stream while too many calls are unanswered, and reads on once they are answered (or after the longest pause)', async (t) => {
    const held: ServerResponse[] = [];
    let send: ((e: Event) => void) | undefined;
    const m = await fakeMaster(t, (_req, res, call) => {
      if (call.type === 'SUBSCRIBE') {
        send = startStream(res, 'protobuf');
        send(subscribed());
        return;
      }
      held.push(res);
    });
    const c = setupClient(t, [m.url], { callTimeoutMs: 60_000 });
    const run = runSubscription(t, c.logic);
    await run.next((e) => e.type === 'conn.subscribed');
    const sender = new CallSender({ transport: c.transport, session: c.session, log: c.sink.log, onSubscriptionLost: () => assert.fail('not a loss') });
    const calls = Array.from({ length: BACKLOG_PAUSE }, () => sender.send({ type: 'REVIVE' }, 7));
    assert.equal(c.transport.backlog.size, BACKLOG_PAUSE, 'every call made and unanswered is counted');
    const heartbeats = (): number => run.events.filter((e) => e.type === 'mesos.heartbeat').length;

    send!({ type: 'HEARTBEAT' });
    await run.next((e) => e.type === 'mesos.heartbeat');
    send!({ type: 'HEARTBEAT' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(heartbeats(), 1, 'the chunk read while the calls piled up is handled; the next waits in the socket');

    // The master answers what it has, again and again (32 are pipelined at a time).
    let answered = false;
    const all = Promise.all(calls).then((outs) => { answered = true; return outs; });
    while (!answered) {
      for (const res of held.splice(0)) { res.writeHead(202); res.end(); }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await all).every((o) => o.kind === 'sent'), true);
    await run.next((e) => e.type === 'mesos.heartbeat' && heartbeats() === 2);

    // A call connection that answers nothing holds the stream back for BACKLOG_MAX_PAUSE_MS at most.
    const stuck = Array.from({ length: BACKLOG_PAUSE }, () => sender.send({ type: 'REVIVE' }, 7));
    send!({ type: 'HEARTBEAT' });
    send!({ type: 'HEARTBEAT' });
    await run.next((e) => e.type === 'mesos.heartbeat' && heartbeats() === 4);
    assert.ok(c.transport.backlog.size >= BACKLOG_RESUME, 'read on while the calls were still unanswered');
    for (const res of held.splice(0)) { res.writeHead(202); res.end(); }
    await Promise.all(stuck);
  });

  it('pipelines calls on one connection in the order they were made; an ACCEPT waits until the calls before it are answered', async (t) => {
    const held: ServerResponse[] = [];
    const seen: Array<{ type: string; port: number | undefined; unanswered: number }> = [];
    let unanswered = 0;
    const answer = (res: ServerResponse): void => { unanswered -= 1; res.writeHead(202); res.end(); };
    const m = await fakeMaster(t, (req, res, call) => {
      seen.push({ type: call.type ?? '?', port: req.socket.remotePort, unanswered });
      unanswered += 1;
      // The first call is answered only once the next one has arrived: without pipelining this would never happen.
      if (call.type === 'REVIVE') { held.push(res); return; }
      for (const r of held.splice(0)) answer(r);
      answer(res);
    });
    const c = setupClient(t, [m.url]);
    const sender = new CallSender({ transport: c.transport, session: c.session, log: c.sink.log, onSubscriptionLost: () => assert.fail('not a loss') });
    c.session.set({ generation: 1, baseUrl: m.url, streamId: 's', frameworkId: 'f' });
    const outs = await Promise.all([
      sender.send({ type: 'REVIVE' }, 1),
      sender.send({ type: 'SUPPRESS' }, 1),
      sender.send({ type: 'ACCEPT', accept: { offer_ids: [{ value: 'o1' }], operations: [] } }, 1),
      sender.send({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'AAECAwQFBgcICQoLDA0ODw==' } }, 1),
    ]);
    assert.deepEqual(outs, Array(4).fill({ kind: 'sent', status: 202 }));
    assert.deepEqual(seen.map((x) => x.type), ['REVIVE', 'SUPPRESS', 'ACCEPT', 'ACKNOWLEDGE'], 'in the order they were made');
    assert.equal(new Set(seen.map((x) => x.port)).size, 1, 'on one connection');
    assert.equal(seen[1]!.unanswered, 1, 'SUPPRESS went out while REVIVE was unanswered');
    assert.equal(seen[2]!.unanswered, 0, 'the ACCEPT went out only once every call before it was answered');
  });

  it('holds what is written to a call socket in one tick until the tick ends, so it leaves in one write; later ticks likewise', async (t) => {
    const chunks: string[] = [];
    const server = createNetServer((socket) => socket.on('data', (d: Buffer) => chunks.push(d.toString())));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    t.after(() => new Promise<void>((r) => { socket.destroy(); server.close(() => r()); }));
    await once(socket, 'connect');
    coalesceWritesPerTick(socket);
    socket.write('one,');
    socket.write('two,');
    socket.write('three;');
    assert.equal(socket.writableCorked, 1, 'held until the tick ends');
    assert.equal(socket.writableLength, 'one,two,three;'.length, 'nothing handed to the kernel yet');
    await new Promise((r) => process.nextTick(r));
    assert.equal(socket.writableCorked, 0, 'released at the end of the tick');
    while (chunks.join('') !== 'one,two,three;') await new Promise((r) => setTimeout(r, 5));
    socket.write('later');
    assert.equal(socket.writableCorked, 1, 'a later tick is held the same way');
    while (chunks.join('') !== 'one,two,three;later') await new Promise((r) => setTimeout(r, 5));
    assert.equal(socket.writableCorked, 0);
  });
});

describe('redirect Locations', () => {
  it('resolves the three forms masters send, keeping our scheme when none is given', () => {
    const from = 'https://m1.example:5050/api/v1/scheduler';
    assert.equal(resolveRedirect('//m2.example:5051/api/v1/scheduler', from), 'https://m2.example:5051');
    assert.equal(resolveRedirect('http://m2.example:5051/api/v1/scheduler', from), 'http://m2.example:5051');
    assert.equal(resolveRedirect('m2.example:5051', from), 'https://m2.example:5051');
    assert.equal(resolveRedirect('10.0.0.2:5050', 'http://10.0.0.1:5050/api/v1/scheduler'), 'http://10.0.0.2:5050');
    assert.throws(() => resolveRedirect('ftp://x:1/', from), { code: 'MASTER_ADDRESS' });
  });
});
