/** Small helpers shared by the ZooKeeper tests. */
import { pino, type Logger } from 'pino';
import type { TestContext } from 'node:test';
import { ZkSession } from '../../src/zk/client.js';
import { parseZkUrl } from '../../src/zk/url.js';
import type { MasterInfo } from '../../src/mesos/types.js';

/** A connected ZooKeeper session closed in t.after (small session timeout). */
export async function openSession(t: Pick<TestContext, 'after'>, connectString: string, sessionTimeoutMs = 3000): Promise<ZkSession> {
  const s = new ZkSession(parseZkUrl(`zk://${connectString}/`), { sessionTimeoutMs, spinDelayMs: 100 });
  t.after(() => s.close());
  await s.connected(deadline(20_000, `a session to ZooKeeper at ${connectString}`));
  return s;
}

/** A MasterInfo as a Mesos master writes it, for 127.0.0.1:<port>. */
export function masterInfo(id: string, port: number): MasterInfo {
  return {
    id,
    ip: 16777343,
    port,
    pid: `master@127.0.0.1:${port}`,
    hostname: 'localhost',
    version: '1.11.0',
    address: { hostname: 'localhost', ip: '127.0.0.1', port },
    capabilities: [{ type: 'AGENT_UPDATE' }],
  };
}

/** Aborts after `ms` so a broken test fails instead of hanging (not a timing assertion). */
export function deadline(ms = 20_000, what = 'ZooKeeper'): AbortSignal {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms).unref();
  return ac.signal;
}

/** A debug logger to stderr when ZK_TEST_LOG=1 (for chasing flaky runs), else undefined. */
export function testLogger(): Logger | undefined {
  return process.env['ZK_TEST_LOG'] === '1' ? pino({ level: 'debug' }, pino.destination(2)) : undefined;
}
