/**
 * Every option of `mesos-http-scheduler local-master`, through the real built
 * CLI (dist/src/cli/main.js), reaches the subcommand: each run checks the
 * offers or behaviour that follow. (The scheduler's own --mem once swallowed
 * `local-master --mem 1000`.)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, request, setGlobalDispatcher } from 'undici';
import type { Offer, Resource } from '../../src/mesos/types.js';
import { Subscription, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/src/cli/main.js');

function run(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'local-master', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function masterUrls(p: ReturnType<typeof run>, count: number): Promise<string[]> {
  const lines = await eventually(() => {
    const l = p.out().split('\n').filter((x) => x.startsWith('master '));
    return l.length >= count ? l : undefined;
  }, 20_000, 'master lines');
  return lines.map((l) => l.split(' ').pop()!);
}

function scalar(offer: Offer, name: string): number | undefined {
  return offer.resources?.find((r: Resource) => r.name === name)?.scalar?.value;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(url, { headers });
  return res.body.json();
}

test('local-master --cpus --mem --disk --agent-attributes --agent-hostname --agents --masters --heartbeat-interval --offer-timeout --mode simulated --task-duration --agent-reregister-delay --master-restart-time --log-level', async (t) => {
  const p = run(['--host', '127.0.0.1', '--port', '0', '--masters', '2', '--agents', '2', '--cpus', '1.5', '--mem', '1000', '--disk', '2000',
    '--heartbeat-interval', '1', '--allocation-interval', '30', '--offer-timeout', '0.5', '--agent-reregister-delay', '600000', '--master-restart-time', '600',
    '--mode', 'simulated', '--task-duration', '0.2', '--log-level', 'info',
    '--agent-attributes', 'rack:r1;zone:eu-1', '--agent-attributes', 'rack:r2;weight:3', '--agent-hostname', 'node-a', '--agent-hostname', 'node-b']);
  t.after(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const [leader, other] = await masterUrls(p, 2);
  assert.match(leader!, /^http:\/\/127\.0\.0\.1:\d+$/);

  const sub = await Subscription.open(leader!, subscribeCall('opts', { failover_timeout: 60 }));
  t.after(() => sub.close());
  autoAcknowledge(leader!, sub);
  assert.equal((await sub.next('SUBSCRIBED')).subscribed!.heartbeat_interval_seconds, 1);
  const offers = await eventually(() => {
    const all = sub.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers ?? []);
    return new Set(all.map((o) => o.agent_id.value)).size >= 2 ? all : undefined;
  }, 10_000, 'offers from both agents');
  for (const o of offers) {
    assert.equal(scalar(o, 'cpus'), 1.5);
    assert.equal(scalar(o, 'mem'), 1000);
    assert.equal(scalar(o, 'disk'), 2000);
  }
  // --agent-attributes and --agent-hostname, repeated: agent i gets the i-th.
  const seen = new Map(offers.map((o) => [o.hostname, o.attributes]));
  assert.deepEqual(seen.get('node-a'), [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }, { name: 'zone', type: 'TEXT', text: { value: 'eu-1' } }]);
  assert.deepEqual(seen.get('node-b'), [{ name: 'rack', type: 'TEXT', text: { value: 'r2' } }, { name: 'weight', type: 'SCALAR', scalar: { value: 3 } }]);
  // --offer-timeout: an offer nobody answers is rescinded.
  const rescind = await sub.next('RESCIND', { timeoutMs: 10_000 });
  assert.ok(offers.some((o) => o.id.value === rescind.rescind!.offer_id.value));

  // --mode simulated --task-duration: the task ends by itself, without a process.
  const offer = (await sub.next((e) => e.type === 'OFFERS', { from: sub.events.indexOf(rescind) + 1, timeoutMs: 10_000 })).offers!.offers![0]!;
  assert.equal((await launch(leader!, sub, [offer], [commandTask('sim', offer, 'exit 3', {}, 0.5, 64)])).status, 202);
  const finished = (await updateOf(sub, 'sim', 'TASK_FINISHED')).update!.status;
  assert.equal(finished.source, 'SOURCE_EXECUTOR');

  // --log-level info: JSON log lines on stderr.
  assert.ok(p.err().split('\n').some((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level === 30), p.err());

  // --agent-reregister-delay: after a leader change the agents have not yet re-registered.
  assert.equal((await post(leader!, '{"index":1}', { path: '/emulator/faults/elect-leader' })).status, 200);
  const agents = await eventually(async () => {
    try { return await getJson(`${other}/emulator/agents`) as Array<{ recovering: boolean }>; } catch { return undefined; }
  });
  assert.equal(agents.length, 2);
  assert.ok(agents.every((a) => a.recovering));
  // --master-restart-time: the old leader exited and is not back yet.
  const refused = await post(leader!, subscribeCall('opts')).then(() => undefined, (err: Error & { code?: string }) => err);
  assert.equal(refused?.code, 'ECONNREFUSED');

  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
});

test('local-master --work-dir --container-images refuse --tls-cert --tls-key --credentials --mode process', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'emu-opts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const creds = path.join(dir, 'credentials.json');
  writeFileSync(creds, JSON.stringify({ credentials: [{ principal: 'ops', secret: 's3cret' }] }));
  const workDir = path.join(dir, 'work');
  setGlobalDispatcher(new Agent({ connect: { ca: execFileSync('cat', [cert]) } }));

  const p = run(['--port', '0', '--agents', '1', '--cpus', '1', '--mem', '256', '--allocation-interval', '20', '--mode', 'process',
    '--work-dir', workDir, '--container-images', 'refuse', '--tls-cert', cert, '--tls-key', key, '--credentials', creds]);
  t.after(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const [leader] = await masterUrls(p, 1);
  assert.match(leader!, /^https:\/\//);

  const unauthenticated = await post(leader!, subscribeCall('opts'));
  assert.equal(unauthenticated.status, 401);
  const auth = { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` };
  const sub = await Subscription.open(leader!, subscribeCall('opts', { principal: 'ops' }), { headers: auth });
  t.after(() => sub.close());
  assert.equal(sub.status, 200);
  autoAcknowledge(leader!, sub, auth);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  const tasks = [
    commandTask('plain', offer, 'echo hi', {}, 0.25, 32),
    commandTask('imaged', offer, 'echo hi', { container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'alpine' } } } } }, 0.25, 32),
  ];
  const accepted = await post(leader!, {
    type: 'ACCEPT', framework_id: { value: sub.frameworkId },
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }] },
  }, { streamId: sub.streamId, headers: auth });
  assert.equal(accepted.status, 202);
  const refused = (await updateOf(sub, 'imaged', 'TASK_FAILED')).update!.status;
  assert.equal(refused.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(refused.message!, /container image 'alpine'/);
  await updateOf(sub, 'plain', 'TASK_RUNNING');
  const runs = path.join(workDir, 'slaves', offer.agent_id.value, 'frameworks', sub.frameworkId, 'executors', 'plain', 'runs');
  await eventually(() => (existsSync(runs) && readdirSync(runs).length === 1 ? true : undefined));

  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
  assert.ok(existsSync(runs), 'a given --work-dir is kept');
});

test('a bad local-master option value fails with an error line on stderr (no stack trace) and status 2', async () => {
  const p = run(['--mem', 'lots']);
  assert.equal(await p.exited, 2);
  const first = p.err().split('\n')[0]!;
  assert.match(first, /'--mem <mb>' argument 'lots' is invalid/);
  assert.doesNotMatch(p.err(), /\n\s+at /);
  const q = run(['--port', '0', '--agent-attributes', 'tags:{a,b}']);
  assert.equal(await q.exited, 2);
  assert.match(q.err(), /^local-master: attribute 'tags': a set value/);
  assert.equal(q.err().trim().split('\n').length, 1, q.err());
});
