/**
 * The real CLI against the in-repo emulated master: rounds, concurrency,
 * cooldown, acknowledgements, TaskInfo contents, exit status, both wire formats.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Cluster } from '../../src/emulator/index.js';
import type { Call, TaskInfo } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function calls(cluster: Cluster, type: Call['type']) {
  return cluster.received.filter((r) => r.call.type === type);
}

function launched(cluster: Cluster): { at: number; task: TaskInfo }[] {
  return calls(cluster, 'ACCEPT').flatMap((r) =>
    (r.call.accept?.operations ?? []).flatMap((op) => (op.launch?.task_infos ?? []).map((task) => ({ at: r.at, task }))));
}

function roundOf(taskId: string): number {
  const m = /-r(\d+)-t\d+-/.exec(taskId);
  assert.ok(m, `task id ${taskId} names its round`);
  return Number(m[1]);
}

/** The most tasks that were running at the same time, from the master's view. */
function maxConcurrent(cluster: Cluster): number {
  const edges = cluster.tasks().flatMap((t) => [[t.launchedAt, 1], [t.endedAt ?? Number.MAX_SAFE_INTEGER, -1]] as [number, number][]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) { now += d; max = Math.max(max, now); }
  return max;
}

for (const format of ['protobuf', 'json'] as const) {
  describe(`two rounds of two tasks (${format})`, () => {
    it('runs the done-when command and exits 0', async (t) => {
      const cluster = await withCluster(t);
      const master = cluster.masters[0]!.hostPort;
      const cli = runCli(t, ['--master', master, '--cmd', 'sleep 1', '--maxtasks', '2', '--wait', '2', '--rounds', '2', '--content-type', format, '--debug']);
      const { code } = await cli.exited;
      assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());

      // Wire format and headers as asked.
      const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
      assert.ok(cluster.received.length > 0);
      for (const r of cluster.received) assert.equal(r.contentType, contentType);

      // FrameworkInfo.
      const subscribe = calls(cluster, 'SUBSCRIBE');
      assert.equal(subscribe.length, 1);
      const info = subscribe[0]!.call.subscribe!.framework_info;
      assert.equal(info.name, 'mesos-http-scheduler');
      assert.equal(info.role, '*');
      assert.equal(info.failover_timeout, 604800);
      assert.equal(info.hostname, hostname());
      assert.ok(info.user.length > 0);
      assert.equal(info.id, undefined);
      assert.equal(info.roles, undefined);
      assert.equal(subscribe[0]!.call.framework_id, undefined);

      // Exactly maxtasks per round, never more than maxtasks at once.
      const tasks = launched(cluster);
      assert.equal(tasks.length, 4);
      assert.deepEqual(tasks.map((x) => roundOf(x.task.task_id.value)).sort(), [1, 1, 2, 2]);
      assert.equal(new Set(tasks.map((x) => x.task.task_id.value)).size, 4);
      assert.ok(maxConcurrent(cluster) <= 2);
      assert.ok(cluster.tasks().every((x) => x.state === 'TASK_FINISHED'));

      // Cooldown: round 2 launched no sooner than --wait after round 1 ended; offers suppressed meanwhile.
      const round1End = Math.max(...cluster.tasks().filter((x) => roundOf(x.taskId) === 1).map((x) => x.endedAt!));
      const round2Accepts = tasks.filter((x) => roundOf(x.task.task_id.value) === 2).map((x) => x.at);
      const round2Start = Math.min(...round2Accepts);
      assert.ok(round2Start - round1End >= 2000, `round 2 began ${round2Start - round1End} ms after round 1 ended`);
      const between = cluster.received.filter((r) => r.at > round1End && r.at < round2Start);
      assert.ok(!between.some((r) => r.call.type === 'ACCEPT'), 'nothing launched during the cooldown');
      const lastRound1Accept = Math.max(...tasks.filter((x) => roundOf(x.task.task_id.value) === 1).map((x) => x.at));
      const suppressAt = calls(cluster, 'SUPPRESS').map((r) => r.at).filter((at) => at > lastRound1Accept && at < round2Start);
      assert.ok(suppressAt.length > 0, 'offers suppressed between the rounds');
      assert.ok(calls(cluster, 'REVIVE').some((r) => r.at > suppressAt[0]! && r.at <= round2Start), 'revived for round 2');

      // Every update with a uuid acknowledged: each task's STARTING, RUNNING and FINISHED.
      for (const task of cluster.tasks()) {
        const acks = calls(cluster, 'ACKNOWLEDGE').filter((r) => r.call.acknowledge!.task_id.value === task.taskId);
        const uuids = new Set(acks.map((r) => r.call.acknowledge!.uuid));
        assert.ok(uuids.size >= 3, `${task.taskId}: ${uuids.size} updates acknowledged`);
        for (const u of uuids) assert.equal(Buffer.from(u, 'base64').length, 16);
        assert.ok(acks.every((r) => r.call.acknowledge!.agent_id.value === task.agentId));
      }

      // Every call after SUBSCRIBE carries the framework id.
      const frameworkId = cluster.frameworks()[0]!.id;
      for (const r of cluster.received.filter((x) => x.call.type !== 'SUBSCRIBE')) assert.equal(r.call.framework_id?.value, frameworkId);

      // Done: the framework is torn down, after the last acknowledgement.
      const teardown = calls(cluster, 'TEARDOWN');
      assert.equal(teardown.length, 1);
      assert.ok(teardown[0]!.at >= Math.max(...calls(cluster, 'ACKNOWLEDGE').map((r) => r.at)));

      // What the user reads.
      const msgs = cli.messages();
      assert.ok(msgs.includes(`subscribed with framework id ${frameworkId}`));
      assert.ok(msgs.includes('round 1: launching 2 tasks'));
      assert.ok(msgs.includes('round 2: launching 2 tasks'));
      for (const task of cluster.tasks()) {
        assert.ok(msgs.includes(`task ${task.taskId} in state TASK_RUNNING`));
        assert.ok(msgs.includes(`finished task ${task.taskId}`));
      }
      assert.ok(msgs.some((m) => m === 'call ACCEPT'), '--debug logs calls by type');
      assert.ok(msgs.some((m) => m === 'event OFFERS'), '--debug logs events by type');
    });
  });
}

describe('task contents and failures', () => {
  it('sends resources, command, environment, URIs and the Docker container', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'uri-');
    writeFileSync(join(dir, 'input.txt'), 'payload\n');
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'grep -q payload input.txt && test "$GREETING" = hello',
      '--cpu', '0.25', '--mem', '32', '--maxtasks', '1', '--rounds', '1', '--wait', '0',
      '--env', 'GREETING=hello', '--uri', `file://${join(dir, 'input.txt')}`, '--img', 'busybox:1.36', '--user', 'nobody-in-particular',
      '--name', 'etl-nightly', '--role', 'batch', '--failover-timeout', '3600', '--principal', 'etl']);
    const { code } = await cli.exited;
    const [{ task }] = launched(cluster) as [{ at: number; task: TaskInfo }];
    const scalar = (name: string) => task.resources?.find((r) => r.name === name)?.scalar?.value;
    assert.equal(scalar('cpus'), 0.25);
    assert.equal(scalar('mem'), 32);
    assert.equal(task.command?.shell, true);
    assert.equal(task.command?.value, 'grep -q payload input.txt && test "$GREETING" = hello');
    assert.deepEqual(task.command?.environment?.variables?.map((v) => [v.name, v.value]), [['GREETING', 'hello']]);
    assert.deepEqual(task.command?.uris?.map((u) => u.value), [`file://${join(dir, 'input.txt')}`]);
    assert.equal(task.container?.type, 'DOCKER');
    assert.equal(task.container?.docker?.image, 'busybox:1.36');
    const info = calls(cluster, 'SUBSCRIBE')[0]!.call.subscribe!.framework_info;
    assert.equal(info.user, 'nobody-in-particular');
    assert.equal(info.name, 'etl-nightly');
    assert.equal(info.role, 'batch');
    assert.equal(info.failover_timeout, 3600);
    assert.equal(info.principal, 'etl');
    assert.deepEqual(info.capabilities, [{ type: 'TASK_KILLING_STATE' }]);
    assert.match(task.task_id.value, /^etl-nightly-r1-t1-/);
    // The emulator runs image tasks on the host; the user may not exist there, so only the TaskInfo is checked here.
    assert.ok(code !== null);
  });

  it('runs the command with its environment and fetched URI, and exits 0', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'uri-');
    writeFileSync(join(dir, 'input.txt'), 'payload\n');
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'grep -q payload input.txt && test "$GREETING" = hello',
      '--maxtasks', '1', '--rounds', '1', '--wait', '0', '--env', 'GREETING=hello', '--uri', `file://${join(dir, 'input.txt')}`]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.equal(launched(cluster)[0]!.task.container, undefined);
  });

  it('exits non-zero when a task fails, and says how it failed', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'exit 3', '--maxtasks', '2', '--rounds', '1', '--wait', '0']);
    const { code } = await cli.exited;
    assert.notEqual(code, 0);
    const failed = cli.lines.filter((l) => /^task .* failed: TASK_FAILED/.test(String(l.msg)));
    assert.equal(failed.length, 2, cli.messages().join('\n'));
    assert.equal(failed[0]!.level, 40);
    assert.equal(calls(cluster, 'ACCEPT').flatMap((r) => r.call.accept!.operations!).length >= 1, true);
  });

  it('--task-timeout: Mesos kills a hung task, the round ends, the exit status says it failed', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 60', '--maxtasks', '1', '--rounds', '1', '--wait', '0', '--task-timeout', '1']);
    const { code } = await cli.exited;
    assert.equal(code, 1, cli.messages().join('\n'));
    assert.deepEqual(launched(cluster)[0]!.task.max_completion_time, { nanoseconds: 1_000_000_000 });
    const failed = cli.lines.find((l) => /^task .* failed: TASK_FAILED/.test(String(l.msg)));
    assert.ok(failed, cli.messages().join('\n'));
    assert.match(JSON.stringify(failed), /REASON_MAX_COMPLETION_TIME_REACHED/);
    assert.ok(cli.messages().some((m) => /^round 1 done: 0 finished, 1 failed$/.test(m)), cli.messages().join('\n'));
  });
});
