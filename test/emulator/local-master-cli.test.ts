/**
 * The `local-master` subcommand as a real process: one line per master,
 * redirects between them, real tasks, and a clean stop on SIGTERM that leaves
 * no task process behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Subscription, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

const ENTRY = path.resolve(import.meta.dirname, '../../src/emulator/main.ts');

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'local-master', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

test('local-master prints its masters, serves the API, and stops everything on SIGTERM', async (t) => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'emu-cli-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const p = run(['--port', '0', '--masters', '2', '--agents', '1', '--cpus', '1', '--mem', '256',
    '--heartbeat-interval', '1', '--allocation-interval', '20', '--work-dir', workDir]);
  t.after(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const lines = await eventually(() => {
    const l = p.out().split('\n').filter(Boolean);
    return l.length >= 2 ? l : undefined;
  }, 20_000, 'master lines');
  assert.match(lines[0]!, /^master 1 \(leading\) listening on http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(lines[1]!, /^master 2 listening on http:\/\/127\.0\.0\.1:\d+$/);
  const leader = lines[0]!.split(' ').pop()!;
  const other = lines[1]!.split(' ').pop()!;
  const redirected = await post(other, subscribeCall());
  assert.equal(redirected.status, 307);
  assert.equal(redirected.headers.location, `//${new URL(leader).host}/api/v1/scheduler`);

  const sub = await Subscription.open(leader, subscribeCall('cli', { failover_timeout: 60 }));
  t.after(() => sub.close());
  autoAcknowledge(leader, sub);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(leader, sub, [offer], [commandTask('long', offer, 'echo $$ > pid; exec sleep 100', {}, 0.5, 64)]);
  await updateOf(sub, 'long', 'TASK_RUNNING');
  const pidFile = await eventually(() => {
    const dir = path.join(workDir, 'slaves', offer.agent_id.value, 'frameworks', sub.frameworkId, 'executors', 'long', 'runs');
    try {
      const run0 = readFileSync(path.join(dir, readdirSync(dir)[0]!, 'pid'), 'utf8');
      return run0.trim() ? Number(run0) : undefined;
    } catch { return undefined; }
  }, 10_000, 'pid file');
  process.kill(pidFile, 0);

  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
  await eventually(() => {
    try { process.kill(pidFile, 0); return undefined; } catch { return true; }
  }, 5000, 'task process to exit');
});

test('task processes die even when local-master is killed with SIGKILL', async (t) => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'emu-cli-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const p = run(['--port', '0', '--agents', '1', '--cpus', '1', '--mem', '256', '--allocation-interval', '20', '--work-dir', workDir]);
  t.after(() => { if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const leader = (await eventually(() => p.out().split('\n').find(Boolean), 20_000, 'master line')).split(' ').pop()!;
  const sub = await Subscription.open(leader, subscribeCall('cli', { failover_timeout: 60 }));
  t.after(() => sub.close());
  autoAcknowledge(leader, sub);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(leader, sub, [offer], [commandTask('orphan', offer, 'echo $$ > pid; exec sleep 100', {}, 0.5, 64)]);
  await updateOf(sub, 'orphan', 'TASK_RUNNING');
  const dir = path.join(workDir, 'slaves', offer.agent_id.value, 'frameworks', sub.frameworkId, 'executors', 'orphan', 'runs');
  const pid = await eventually(() => {
    try {
      const text = readFileSync(path.join(dir, readdirSync(dir)[0]!, 'pid'), 'utf8').trim();
      return text ? Number(text) : undefined;
    } catch { return undefined; }
  }, 10_000, 'pid file');
  p.child.kill('SIGKILL');
  await p.exited;
  await eventually(() => {
    try { process.kill(pid, 0); return undefined; } catch { return true; }
  }, 10_000, 'the orphaned task process to be killed by the watchdog');
});

test('a bad flag value gives one clear line on stderr and a non-zero exit', async () => {
  const p = run(['--masters', 'three']);
  const code = await p.exited;
  assert.notEqual(code, 0);
  const lines = p.err().trim().split('\n');
  assert.equal(lines.length, 1, p.err());
  assert.match(lines[0]!, /--masters/);
  assert.doesNotMatch(p.err(), /\n\s+at /);
});
