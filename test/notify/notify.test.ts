/**
 * --notify-url: a receiver on loopback that fails the first deliveries gets
 * every event once retried, in order (the real CLI: a round with a failed
 * task, then the first successful round after it); a full queue drops its
 * oldest event with a log line, and the rest still arrive in order.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { Notifier, type NotifyEvent } from '../../src/notify/index.js';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';

before(() => ensureBuilt());

interface Receiver {
  url: string;
  received: NotifyEvent[];
  attempts: number;
  /** What the receiver does with the next request. */
  mode: 'fail' | 'ok' | 'hang';
  waitForEvents(n: number): Promise<NotifyEvent[]>;
}

async function receiver(t: TestContext, failFirst: number): Promise<Receiver> {
  const waiters: Array<() => void> = [];
  const r: Receiver = {
    url: '', received: [], attempts: 0, mode: 'ok',
    waitForEvents: (n) => new Promise((resolve) => {
      const check = (): void => { if (r.received.length >= n) resolve(r.received); else waiters.push(check); };
      check();
    }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      r.attempts++;
      if (r.mode === 'hang') return;
      if (r.attempts <= failFirst || r.mode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      r.received.push(JSON.parse(body) as NotifyEvent);
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return r;
}

describe('notifications', () => {
  it('a receiver that fails the first deliveries gets round.failed, then job.recovered, once each and in order', async (t) => {
    const hook = await receiver(t, 2);
    const scratch = mkdtempSync(join(tmpdir(), 'notify-'));
    const cmd = `if mkdir ${scratch}/lock 2>/dev/null; then echo "disk full" >&2; exit 3; fi`;
    const cli = runCli(t, ['--master', 'local', '--name', 'etl', '--cmd', cmd, '--maxtasks', '2', '--wait', '1', '--rounds', '2', '--notify-url', hook.url]);
    const events = await hook.waitForEvents(2);
    assert.deepEqual(events.map((e) => [e.type, e.seq]), [['round.failed', 1], ['job.recovered', 2]]);
    const [failed, recovered] = events as Array<Extract<NotifyEvent, { type: 'round.failed' | 'job.recovered' }>>;
    assert.equal(failed!.job, 'etl');
    assert.equal(failed!.framework, 'etl');
    assert.deepEqual([failed!.run.run, failed!.run.outcome, failed!.run.failed], [1, 'failed', 1]);
    assert.match(failed!.run.failures[0]!.message ?? '', /exited with status 3/);
    assert.deepEqual([recovered!.run.run, recovered!.run.outcome], [2, 'succeeded']);
    assert.equal((await cli.exited).code, 1);
    assert.equal(hook.received.length, 2, 'each event arrived once');
    assert.ok(hook.attempts >= 4, `the first two deliveries failed and were retried (${hook.attempts} attempts)`);
    assert.ok(cli.messages().some((m) => /notification round\.failed #1 to http:\/\/127\.0\.0\.1:\d+\/hook failed \(status 503\); retrying/.test(m)));
  });

  it('a full queue drops its oldest event with a log line; the rest arrive in order', async (t) => {
    const hook = await receiver(t, 0);
    hook.mode = 'hang';
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
    const notifier = new Notifier({ urls: [hook.url], log, queueLimit: 2, baseDelayMs: 20, timeoutMs: 300 });
    t.after(() => notifier.close(0));
    for (const message of ['a', 'b', 'c', 'd']) notifier.send({ type: 'framework.error', framework: 'etl', host: 'h', message });
    assert.equal(lines.filter((l) => /queue for http:\/\/127\.0\.0\.1:\d+\/hook is full \(2\): dropped the oldest event/.test(l)).length, 2);
    while (hook.attempts === 0) await new Promise((resolve) => setTimeout(resolve, 10)); // 'a' is held by the receiver
    hook.mode = 'ok';
    const events = await hook.waitForEvents(2);
    assert.deepEqual(events.map((e) => [e.seq, (e as { message?: string }).message]), [[3, 'c'], [4, 'd']]);
  });
});
