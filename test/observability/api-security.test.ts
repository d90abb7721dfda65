/**
 * The status port off loopback: the CLI refuses to start without a token
 * file; with one, /state and /api need the bearer token (a wrong one gets 401
 * and changes nothing), /health, /metrics and the OpenAPI document stay open,
 * and the token never appears in the log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureBuilt, MAIN, runCli } from '../integration/cli-harness.js';

before(() => ensureBuilt());

const TOKEN = 'tok-3f9a1c7e5b';

describe('status port security', () => {
  it('refuses --http-host off loopback without --http-token-file: one line, exit 2', () => {
    const run = spawnSync(process.execPath, [MAIN, '--master', 'local', '--http-port', '0', '--http-host', '0.0.0.0'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^mesos-http-scheduler: --http-host '0\.0\.0\.0' is not loopback: give --http-token-file .*\nTry 'mesos-http-scheduler --help'\.\n$/);
  });

  it('off loopback the API and /state need the token; a wrong one gets 401 and changes nothing', async (t) => {
    const scratch = mkdtempSync(join(tmpdir(), 'token-'));
    const tokenFile = join(scratch, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const cli = runCli(t, ['--master', 'local', '--name', 'etl', '--cmd', 'sleep 1', '--maxtasks', '1', '--wait', '60', '--rounds', '3',
      '--http-port', '0', '--http-host', '0.0.0.0', '--http-token-file', tokenFile]);
    const line = await cli.waitFor((l) => typeof l.status === 'string', 'the status endpoint line');
    const base = String(line.status).replace('0.0.0.0', '127.0.0.1');
    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });

    for (const path of ['/api/jobs', '/api/jobs/etl', '/api/jobs/etl/runs', '/api/jobs/etl/runs/1', '/api/jobs/etl/tasks', '/state']) {
      for (const headers of [{}, auth('wrong'), { authorization: TOKEN }, auth(`${TOKEN}x`)]) {
        const res = await fetch(`${base}${path}`, { headers });
        assert.equal(res.status, 401, `${path} with ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        assert.equal(((await res.json()) as any).error.code, 'UNAUTHORIZED');
      }
      assert.equal((await fetch(`${base}${path}`, { headers: auth(TOKEN) })).status, 200, `${path} with the token`);
    }
    const runsBefore = await (await fetch(`${base}/api/jobs/etl/runs`, { headers: auth(TOKEN) })).json();
    for (const action of ['run', 'pause', 'resume', 'kill']) {
      const res = await fetch(`${base}/api/jobs/etl/${action}`, { method: 'POST', headers: auth('wrong') });
      assert.equal(res.status, 401, `POST ${action} with a wrong token`);
    }
    const job = (await (await fetch(`${base}/api/jobs/etl`, { headers: auth(TOKEN) })).json()) as any;
    assert.equal(job.state, 'cooldown', 'nothing was started, paused or killed');
    assert.deepEqual(await (await fetch(`${base}/api/jobs/etl/runs`, { headers: auth(TOKEN) })).json(), runsBefore);

    assert.equal((await fetch(`${base}/health`)).status, 200, '/health stays open');
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200, '/metrics stays open');
    assert.doesNotMatch(await metrics.text(), new RegExp(TOKEN));
    assert.equal((await fetch(`${base}/api/openapi.json`)).status, 200, 'the API description stays open');

    cli.child.kill('SIGTERM');
    await cli.exited;
    assert.doesNotMatch(JSON.stringify(cli.lines) + cli.stderr(), new RegExp(TOKEN), 'the token is never logged');
  });
});
