/**
 * Local mode: tasks are real `sh -c` processes in sandboxes, with real exit
 * statuses, stdout/stderr files, fetched URIs, environment, kill with grace,
 * container image policy, and no child outliving the cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Offer } from '../../src/mesos/types.js';
import { startCluster } from '../../src/emulator/index.js';
import { FAST_CLUSTER_DEFAULTS, withCluster } from '../helpers/emulator.js';
import { Subscription, autoAcknowledge, commandTask, eventually, launch, post, subscribeCall, updateOf } from './wire-client.js';

async function framework(t: { after: (fn: () => void) => void }, url: string): Promise<{ sub: Subscription; offer: Offer }> {
  const sub = await Subscription.open(url, subscribeCall('local', { failover_timeout: 60 }));
  t.after(() => sub.close());
  autoAcknowledge(url, sub);
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  return { sub, offer };
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

test('a task runs as a process: exit status in the message, stdout and stderr in its sandbox', async (t) => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'emu-work-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const c = await withCluster(t, { workDir });
  const url = c.leaderUrl()!;
  const { sub, offer } = await framework(t, url);
  await launch(url, sub, [offer], [
    commandTask('fails', offer, 'echo to-out; echo to-err >&2; exit 3'),
    commandTask('works', offer, 'test "$GREETING" = hello && test "$MESOS_SANDBOX" = "$PWD" && echo ok', {
      command: { value: 'test "$GREETING" = hello && test "$MESOS_SANDBOX" = "$PWD" && echo ok', environment: { variables: [{ name: 'GREETING', value: 'hello' }] } },
    }),
  ]);
  for (const state of ['TASK_STARTING', 'TASK_RUNNING']) await updateOf(sub, 'fails', state);
  const failed = (await updateOf(sub, 'fails', 'TASK_FAILED')).update!.status;
  assert.equal(failed.message, 'Command exited with status 3');
  assert.equal(failed.source, 'SOURCE_EXECUTOR');
  const finished = (await updateOf(sub, 'works', 'TASK_FINISHED')).update!.status;
  assert.equal(finished.message, 'Command exited with status 0');

  const task = c.tasks().find((x) => x.taskId === 'fails')!;
  assert.ok(task.sandbox!.startsWith(path.join(workDir, 'slaves', task.agentId, 'frameworks', sub.frameworkId, 'executors', 'fails', 'runs')));
  assert.equal(readFileSync(path.join(task.sandbox!, 'stdout'), 'utf8'), 'to-out\n');
  assert.equal(readFileSync(path.join(task.sandbox!, 'stderr'), 'utf8'), 'to-err\n');
  const works = c.tasks().find((x) => x.taskId === 'works')!;
  assert.equal(readFileSync(path.join(works.sandbox!, 'stdout'), 'utf8'), 'ok\n');
});

test('URIs are fetched into the sandbox before the command runs', async (t) => {
  const src = mkdtempSync(path.join(os.tmpdir(), 'emu-src-'));
  t.after(() => rmSync(src, { recursive: true, force: true }));
  writeFileSync(path.join(src, 'data.txt'), 'payload\n');
  writeFileSync(path.join(src, 'tool.sh'), '#!/bin/sh\necho tool-ran\n');
  const web = http.createServer((req, res) => {
    if (req.url === '/remote.txt') { res.writeHead(200); res.end('from-http\n'); } else { res.writeHead(404); res.end(); }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => web.close(() => resolve())));
  const webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const c = await withCluster(t);
  const url = c.leaderUrl()!;
  const { sub, offer } = await framework(t, url);
  await launch(url, sub, [offer], [commandTask('fetch', offer, '', {
    command: {
      value: 'cat data.txt && ./tool.sh && cat renamed.txt',
      uris: [
        { value: pathToFileURL(path.join(src, 'data.txt')).href },
        { value: path.join(src, 'tool.sh'), executable: true },
        { value: `${webUrl}/remote.txt`, output_file: 'renamed.txt' },
      ],
    },
  })]);
  await updateOf(sub, 'fetch', 'TASK_FINISHED');
  const task = c.tasks()[0]!;
  assert.equal(readFileSync(path.join(task.sandbox!, 'stdout'), 'utf8'), 'payload\ntool-ran\nfrom-http\n');

  const next = (await sub.next((e) => e.type === 'OFFERS' && e.offers!.offers![0]!.id.value !== offer.id.value)).offers!.offers![0]!;
  await launch(url, sub, [next], [commandTask('nofetch', next, 'true', {
    command: { value: 'true', uris: [{ value: 'file:///definitely/not/here.txt' }] },
  })]);
  const failed = (await updateOf(sub, 'nofetch', 'TASK_FAILED')).update!.status;
  assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(failed.message!, /Failed to fetch/);
});

test('KILL sends SIGTERM, then SIGKILL after the grace period, and reports TASK_KILLED; max_completion_time fails the task', async (t) => {
  const c = await withCluster(t);
  const url = c.leaderUrl()!;
  const { sub, offer } = await framework(t, url);
  await launch(url, sub, [offer], [
    commandTask('polite', offer, 'sleep 100'),
    commandTask('stubborn', offer, "trap '' TERM; sleep 100", { kill_policy: { grace_period: { nanoseconds: 100_000_000 } } }),
    commandTask('overdue', offer, 'sleep 100', { max_completion_time: { nanoseconds: 100_000_000 } }),
  ]);
  const overdue = (await updateOf(sub, 'overdue', 'TASK_FAILED')).update!.status;
  assert.equal(overdue.reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
  await updateOf(sub, 'polite', 'TASK_RUNNING');
  await updateOf(sub, 'stubborn', 'TASK_RUNNING');
  const fw = { value: sub.frameworkId };
  await post(url, { type: 'KILL', framework_id: fw, kill: { task_id: { value: 'polite' } } }, { streamId: sub.streamId });
  await post(url, { type: 'KILL', framework_id: fw, kill: { task_id: { value: 'stubborn' } } }, { streamId: sub.streamId });
  assert.equal((await updateOf(sub, 'polite', 'TASK_KILLED')).update!.status.message, 'Command terminated with signal Terminated');
  assert.equal((await updateOf(sub, 'stubborn', 'TASK_KILLED')).update!.status.message, 'Command terminated with signal Killed');
});

test('container images: run on the host with a clear warning, or refuse', async (t) => {
  const image = { container: { type: 'DOCKER' as const, docker: { image: 'busybox:latest' } } };
  const host = await withCluster(t);
  const h = await framework(t, host.leaderUrl()!);
  await launch(host.leaderUrl()!, h.sub, [h.offer], [commandTask('img', h.offer, 'true', image)]);
  const starting = (await updateOf(h.sub, 'img', 'TASK_STARTING')).update!.status;
  assert.match(starting.message!, /on the host WITHOUT container image 'busybox:latest'/);
  await updateOf(h.sub, 'img', 'TASK_FINISHED');

  const refuse = await withCluster(t, { containerImages: 'refuse' });
  const r = await framework(t, refuse.leaderUrl()!);
  await launch(refuse.leaderUrl()!, r.sub, [r.offer], [commandTask('img', r.offer, 'true', image)]);
  const failed = (await updateOf(r.sub, 'img', 'TASK_FAILED')).update!.status;
  assert.equal(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(failed.message!, /cannot run container image 'busybox:latest'/);
});

test('stopping the cluster kills task processes and their children', async (t) => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'emu-work-'));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const c = await startCluster({ ...FAST_CLUSTER_DEFAULTS, workDir });
  t.after(() => c.stop());
  const url = c.leaderUrl()!;
  const { sub, offer } = await framework(t, url);
  // The shell starts a background child and waits; both must die.
  await launch(url, sub, [offer], [commandTask('long', offer, 'sleep 100 & echo $! > child.pid; echo $$ > shell.pid; wait')]);
  await updateOf(sub, 'long', 'TASK_RUNNING');
  const sandbox = await eventually(() => c.tasks()[0]?.sandbox);
  const pids = await eventually(() => {
    try {
      return [Number(readFileSync(path.join(sandbox, 'shell.pid'), 'utf8')), Number(readFileSync(path.join(sandbox, 'child.pid'), 'utf8'))];
    } catch { return undefined; }
  });
  assert.ok(pids.every(alive));
  await c.stop();
  await eventually(() => (pids.every((p) => !alive(p)) ? true : undefined), 5000, 'task processes to exit');
});
