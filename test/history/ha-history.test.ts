/**
 * --ha with the real CLI and a real ZooKeeper: the run history lives in the
 * ZooKeeper node beside the state, so the standby that takes over shows the
 * rounds the old leader ran and carries the run numbers on; each instance
 * that becomes leader sends leadership.gained to --notify-url.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';

before(() => ensureBuilt());

describe('run history under --ha', () => {
  it('the standby that takes over shows the old leader\'s rounds and numbers its own after them', async (t) => {
    const zk = await withZooKeeper(t);
    const cluster = await withCluster(t);
    const events: Array<{ type: string; host: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
        events.push(JSON.parse(body) as { type: string; host: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => { receiver.closeAllConnections(); receiver.close(() => resolve()); }));
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    const args = ['--master', cluster.masters[0]!.hostPort, '--ha', zk.url('/schedulers/hist'), '--name', 'hist', '--cmd', 'sleep 1',
      '--maxtasks', '1', '--rounds', '3', '--wait', '3', '--http-port', '0', '--notify-url', hook];

    const first = runCli(t, args);
    await first.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'the leader finished round 1');
    const second = runCli(t, args);
    await second.waitFor((l) => String(l.msg).startsWith('standing by for leadership'), 'the standby waiting');
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.messages().join('\n'));
    const base = String((await second.waitFor((l) => typeof l.status === 'string', 'the standby\'s status line')).status);
    await second.waitFor((l) => /^round 3 done/.test(String(l.msg)), 'the standby finished round 3');
    const runs = (await (await fetch(`${base}/api/jobs/hist/runs`)).json()) as { runs: Array<{ run: number; round: number; outcome: string }> };
    assert.deepEqual(runs.runs.map((r) => [r.run, r.round, r.outcome]), [[3, 3, 'succeeded'], [2, 2, 'succeeded'], [1, 1, 'succeeded']]);
    assert.equal((await second.exited).code, 0, second.messages().join('\n'));
    assert.deepEqual(events.map((e) => e.type), ['leadership.gained', 'leadership.gained'], 'each new leader said so');
  });
});
