/**
 * --tls-cert/--tls-key (ClusterOptions.tls): the masters speak HTTPS and the
 * redirect stays scheme-relative so clients keep https.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { withCluster } from '../helpers/emulator.js';

test('masters serve the scheduler API over TLS', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'emu-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const c = await withCluster(t, { masters: 2, agents: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  assert.ok(c.leaderUrl()!.startsWith('https://'));
  const dispatcher = new Agent({ connect: { ca: readFileSync(cert) } });
  t.after(() => dispatcher.close());
  const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n' } } });
  const res = await request(`${c.masters[1]!.url}/api/v1/scheduler`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body });
  await res.body.dump();
  assert.equal(res.statusCode, 307);
  assert.equal(res.headers.location, `//${c.masters[0]!.hostPort}/api/v1/scheduler`);
  const get = await request(`${c.leaderUrl()!}/api/v1/scheduler`, { method: 'GET', dispatcher });
  await get.body.dump();
  assert.equal(get.statusCode, 405);
});
