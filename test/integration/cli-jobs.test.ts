/**
 * `--jobs FILE` through the real CLI against the emulated master: a file of
 * three jobs where one depends on the other two (one of them on an
 * `every: 2s` schedule), SIGKILL and restart in the middle of the graph
 * without a relaunch, and every kind of bad file (one line per problem,
 * exit 2, nothing sent to the master).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import type { Cluster } from '../../src/emulator/index.js';
import { readStateFile } from '../../src/state/state-file.js';
import type { TaskInfo } from '../../src/mesos/types.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function scratch(t: Pick<TestContext, 'after'>): string {
  return tempDir(t, 'cli-jobs-');
}

function launched(cluster: Cluster): { at: number; task: TaskInfo }[] {
  return cluster.received.filter((r) => r.call.type === 'ACCEPT').flatMap((r) =>
    (r.call.accept?.operations ?? []).flatMap((op) => (op.launch?.task_infos ?? []).map((task) => ({ at: r.at, task }))));
}

function endedAt(cluster: Cluster, taskId: string): number {
  const task = cluster.tasks().find((x) => x.taskId === taskId);
  assert.ok(task?.endedAt !== undefined, `${taskId} ended`);
  return task.endedAt;
}

describe('--jobs', () => {
  it('runs three jobs in one framework: the child after both parents, a parent every 2s', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - name: extract',
      '    cmd: sleep 0.2',
      '    maxtasks: 2',
      '    rounds: 2',
      '    wait: 0',
      '    labels: { team: etl }',
      '  - name: fetch',
      '    cmd: "true"',
      '    maxtasks: 1',
      '    rounds: 2',
      '    schedule: { every: 2s }',
      '  - name: load',
      '    cmd: "true"',
      '    maxtasks: 1',
      '    rounds: 2',
      '    role: batch',
      '    after: [extract, fetch]',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());

    // One framework, every job's role, MULTI_ROLE.
    const subscribes = cluster.received.filter((r) => r.call.type === 'SUBSCRIBE');
    assert.equal(subscribes.length, 1);
    const info = subscribes[0]!.call.subscribe!.framework_info;
    assert.deepEqual(info.roles, ['*', 'batch']);
    assert.equal(info.role, undefined);
    assert.ok(info.capabilities?.some((c) => c.type === 'MULTI_ROLE'));

    const tasks = launched(cluster);
    const ids = (job: string, round: number) => tasks.filter(({ task }) => task.task_id.value.startsWith(`${job}-r${round}-`)).map(({ task }) => task.task_id.value);
    for (const round of [1, 2]) {
      assert.equal(ids('extract', round).length, 2);
      assert.equal(ids('fetch', round).length, 1);
      assert.equal(ids('load', round).length, 1);
      // The child's round starts only after both parents' rounds of the same number ended.
      const loadAt = tasks.find(({ task }) => task.task_id.value === ids('load', round)[0])!.at;
      for (const parent of [...ids('extract', round), ...ids('fetch', round)]) assert.ok(endedAt(cluster, parent) <= loadAt, `${parent} ended before load round ${round}`);
    }
    // Labels are set on the tasks.
    assert.deepEqual(tasks.find(({ task }) => task.name === 'extract')?.task.labels, { labels: [{ key: 'team', value: 'etl' }] });
    // The every-2s job waits for its clock between rounds (the grid itself: test/machines/supervisor.machine.test.ts).
    const messages = cli.messages();
    const fetchDone = messages.indexOf('job fetch: round 1 done: 1 finished, 0 failed');
    assert.ok(fetchDone >= 0 && messages.indexOf('job fetch: waiting for its schedule, holding no resources', fetchDone) > fetchDone);
    assert.ok(messages.indexOf('job fetch: round 2: launching 1 task') > fetchDone);
    // The log says which job each round line is about.
    for (const job of ['extract', 'fetch', 'load']) {
      assert.ok(cli.lines.some((l) => l.job === job && /^job \S+: round 2 done: \d+ finished, 0 failed$/.test(String(l.msg))), `${job} round 2 logged`);
    }
    assert.ok(cli.lines.some((l) => l.job === 'extract' && String(l.msg).startsWith('finished task extract-r1-')), 'task lines carry the job');
  });

  it('carries on in the middle of the graph after SIGKILL: nothing launched twice', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    const stateFile = join(dir, 'state.json');
    writeFileSync(file, [
      'jobs:',
      '  - { name: first, cmd: "true", maxtasks: 1, rounds: 1 }',
      '  - { name: second, cmd: sleep 2, maxtasks: 2, rounds: 1, after: [first] }',
      '  - { name: third, cmd: "true", maxtasks: 1, rounds: 1, after: [second] }',
      '',
    ].join('\n'));
    const args = ['--master', cluster.masters[0]!.hostPort, '--jobs', file, '--state-file', stateFile];
    const before = runCli(t, args, { stateFile: false });
    let running = 0;
    await before.waitFor((l) => /^task second-r1-t\d-\S+ in state TASK_RUNNING$/.test(String(l.msg)) && ++running === 2, 'the second job running');
    before.child.kill('SIGKILL');
    await before.exited;
    const saved = (await readStateFile(stateFile, 'mesos-http-scheduler'))!.state;
    assert.deepEqual(saved.jobs?.map((j) => [j.name, j.completedRounds]), [['first', 1], ['second', 0], ['third', 0]]);
    assert.deepEqual(saved.tasks.map((task) => task.job), ['second', 'second']);

    const after = runCli(t, args, { stateFile: false });
    const { code } = await after.exited;
    assert.equal(code, 0, after.messages().join('\n') + after.stderr());
    const ids = launched(cluster).map(({ task }) => task.task_id.value.replace(/-[0-9a-f]+$/, ''));
    assert.deepEqual(ids.sort(), ['first-r1-t1', 'second-r1-t1', 'second-r1-t2', 'third-r1-t1'], 'each task launched once');
    assert.ok(cluster.tasks().every((x) => x.state === 'TASK_FINISHED'));
  });

  it('relaunches a task that fails once (retries) and the round succeeds on the second try', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    const marker = join(dir, 'failed-once');
    writeFileSync(file, [
      'jobs:',
      '  - name: flaky',
      `    cmd: test -e ${marker} || { touch ${marker}; exit 1; }`,
      '    maxtasks: 1',
      '    rounds: 1',
      '    retries: { max: 2, backoff: 1s }',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
    const ids = launched(cluster).map(({ task }) => task.task_id.value.replace(/-[0-9a-f]+$/, ''));
    assert.deepEqual(ids, ['flaky-r1-t1', 'flaky-r1-t2'], 'relaunched once, under a new id');
    assert.deepEqual(cluster.tasks().map((x) => x.state).sort(), ['TASK_FAILED', 'TASK_FINISHED']);
    assert.ok(cli.messages().some((m) => /^task flaky-r1-t1-\S+ failed: TASK_FAILED.*; relaunching it under a new id in \S+ \(retry 1 of 2\)$/.test(m)), cli.messages().join('\n'));
    assert.ok(cli.messages().includes('job flaky: round 1 done: 1 finished, 0 failed'));
  });

  it('keeps a job with a constraint on the agents that have the attribute', async (t) => {
    const cluster = await withCluster(t, { agents: 3, agentAttributes: ['rack:r1;gpu:no', 'rack:r2;gpu:yes', 'rack:r3;gpu:no'] });
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - { name: gpu, cmd: "true", maxtasks: 3, rounds: 2, wait: 0, constraints: [["gpu", "IS", "yes"]] }',
      '  - { name: spread, cmd: "true", maxtasks: 3, rounds: 1, constraints: [["rack", "UNIQUE"]] }',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
    const gpuAgent = cluster.agents().find((a) => a.attributes.some((x) => x.name === 'gpu' && x.text?.value === 'yes'))!.id;
    const tasks = launched(cluster);
    const gpu = tasks.filter(({ task }) => task.name === 'gpu');
    assert.equal(gpu.length, 6);
    assert.ok(gpu.every(({ task }) => task.agent_id.value === gpuAgent), 'every gpu task on the agent with gpu:yes');
    const spread = tasks.filter(({ task }) => task.name === 'spread').map(({ task }) => task.agent_id.value);
    assert.equal(new Set(spread).size, 3, 'one spread task per rack');
  });

  it('SIGHUP reloads the file: added jobs start, changed ones change from their next round, removed ones drain; a bad file changes nothing', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - { name: stay, cmd: "true", maxtasks: 1, wait: 1 }',
      '  - { name: gone, cmd: sleep 60, maxtasks: 1, grace: 1s }',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    await cli.waitFor((l) => /^task gone-r1-t1-\S+ in state TASK_RUNNING$/.test(String(l.msg)), 'the job to remove running');
    writeFileSync(file, [
      'jobs:',
      '  - { name: stay, cmd: "true", maxtasks: 2, wait: 1 }',
      '  - { name: new, cmd: "true", maxtasks: 1, rounds: 1 }',
      '',
    ].join('\n'));
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'jobs file reloaded; added: new; changed (from their next round): stay; removed (grace, then kill): gone', 'the reload');
    await cli.waitFor((l) => l.msg === 'job gone: removed: its tasks have ended, the job is forgotten', 'the removed job forgotten');
    await cli.waitFor((l) => l.msg === 'job new: round 1 done: 1 finished, 0 failed', 'the added job');
    await cli.waitFor((l) => l.job === 'stay' && /^job stay: round \d+: launching 2 tasks$/.test(String(l.msg)), 'the changed job with its new maxtasks');
    const gone = cluster.tasks().filter((x) => x.taskId.startsWith('gone-'));
    assert.deepEqual(gone.map((x) => x.state), ['TASK_KILLED'], 'the removed job\'s task killed after its grace');
    assert.equal(launched(cluster).filter(({ task }) => task.name === 'gone').length, 1, 'no new round of the removed job');

    // A bad file: reported, and the jobs in force stay.
    writeFileSync(file, 'jobs:\n  - { name: stay, maxtasks: zero }\n');
    const before = cli.lines.length;
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => /not reloaded \(1 problem\): the jobs in force stay$/.test(String(l.msg)), 'the bad file reported');
    assert.ok(cli.lines.slice(before).some((l) => /jobs\.yaml:2:\d+: job 'stay', maxtasks: /.test(String(l.msg))), cli.messages().slice(before).join('\n'));
    const rounds = cli.lines.filter((l) => l.job === 'stay' && /round \d+ done/.test(String(l.msg))).length;
    await cli.waitFor((l) => l.job === 'stay' && /round \d+ done/.test(String(l.msg)) && cli.lines.filter((x) => x.job === 'stay' && /round \d+ done/.test(String(x.msg))).length > rounds, 'the job in force carrying on');
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
  });

  it('after a restart with a changed file, jobs it no longer lists are stopped (grace, then kill), the others carry on', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const file = join(dir, 'jobs.yaml');
    const stateFile = join(dir, 'state.json');
    writeFileSync(file, 'jobs:\n  - { name: old, cmd: sleep 60, maxtasks: 1, rounds: 1, grace: 1s }\n');
    const args = ['--master', cluster.masters[0]!.hostPort, '--jobs', file, '--state-file', stateFile];
    const first = runCli(t, args, { stateFile: false });
    await first.waitFor((l) => /^task old-r1-t1-\S+ in state TASK_RUNNING$/.test(String(l.msg)), 'the old job running');
    first.child.kill('SIGKILL');
    await first.exited;
    writeFileSync(file, 'jobs:\n  - { name: fresh, cmd: "true", maxtasks: 1, rounds: 1 }\n');
    const second = runCli(t, args, { stateFile: false });
    const { code } = await second.exited;
    assert.equal(code, 0, second.messages().join('\n') + second.stderr());
    assert.ok(second.messages().some((m) => /^the jobs file differs from the one state file \S+ was written with \(digest \S+, now \S+\): jobs it no longer lists are stopped \(their grace, then kill\): old, the others carry on$/.test(m)), second.messages().join('\n'));
    assert.deepEqual(cluster.tasks().map((x) => [x.taskId.replace(/-r1-t1-\w+$/, ''), x.state]).sort(), [['fresh', 'TASK_FINISHED'], ['old', 'TASK_KILLED']]);
  });

  it('refuses a bad file with one line per problem, exit 2, and nothing sent to the master', async (t) => {
    const cluster = await withCluster(t);
    const dir = scratch(t);
    const master = cluster.masters[0]!.hostPort;
    const cases: { name: string; text?: string; extra?: string[]; expect: RegExp[] }[] = [
      { name: 'missing.yaml', expect: [/missing\.yaml:1:1: the jobs file does not exist/] },
      { name: 'syntax.yaml', text: 'jobs:\n  - name: a\n    cmd: [unclosed\n', expect: [/syntax\.yaml:\d+:\d+: /] },
      { name: 'syntax.json', text: '{"jobs": [{"name": "a",}]}', expect: [/syntax\.json:1:\d+: /] },
      {
        name: 'schema.yaml', text: 'jobs:\n  - name: a\n    cpus: 2\n    maxtasks: 0\n',
        expect: [/schema\.yaml:3:5: job 'a'.*cpus.*cpu/, /schema\.yaml:4:15: job 'a', maxtasks: /],
      },
      { name: 'unknown-parent.yaml', text: 'jobs:\n  - { name: a, after: [nope] }\n', expect: [/unknown-parent\.yaml:2:\d+: job 'a', after.*nope/] },
      { name: 'cycle.yaml', text: 'jobs:\n  - { name: a, after: [b] }\n  - { name: b, after: [a] }\n', expect: [/cycle.yaml:\d+:\d+: .*a.*b.*a|cycle.yaml:\d+:\d+: .*b.*a.*b/] },
      { name: 'cron.yaml', text: 'jobs:\n  - { name: a, schedule: { cron: "61 * * * *" } }\n', expect: [/cron\.yaml:2:\d+: job 'a', schedule\.cron: /] },
      { name: 'zone.yaml', text: 'jobs:\n  - { name: a, schedule: { cron: "0 3 * * *", timezone: Mars/Olympus } }\n', expect: [/zone\.yaml:2:\d+: job 'a', schedule\.timezone: /] },
      { name: 'duplicate.yaml', text: 'jobs:\n  - { name: a }\n  - { name: a }\n', expect: [/duplicate\.yaml:3:\d+: job 'a', name: /] },
      { name: 'with-cmd.yaml', text: 'jobs:\n  - { name: a }\n', extra: ['--cmd', 'echo hi', '--maxtasks', '2'], expect: [/--jobs cannot be combined with --cmd, --maxtasks/] },
    ];
    for (const c of cases) {
      const file = join(dir, c.name);
      if (c.text !== undefined) writeFileSync(file, c.text);
      const cli = runCli(t, ['--master', master, '--jobs', file, ...(c.extra ?? [])]);
      const { code } = await cli.exited;
      const lines = cli.stderr().trimEnd().split('\n');
      assert.equal(code, 2, `${c.name}: ${cli.stderr()}`);
      for (const [i, pattern] of c.expect.entries()) assert.match(lines[i] ?? '', pattern, `${c.name}: ${cli.stderr()}`);
      assert.ok(lines.every((l) => l.startsWith('mesos-http-scheduler: ') || l.startsWith('Try ')), `${c.name}: no stack trace: ${cli.stderr()}`);
      assert.equal(lines.filter((l) => !l.startsWith('Try ')).length, c.expect.length, `${c.name}: one line per problem: ${cli.stderr()}`);
    }
    assert.equal(cluster.received.length, 0, 'nothing contacted the master');
  });
});
