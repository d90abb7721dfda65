/**
 * SIGHUP with `--jobs` through the real CLI: the jobs a reload adds show in
 * the API, the run history and the metrics; a removed job leaves them once it
 * is forgotten (its running task got its grace and was killed). A reload
 * with a job of a role new to the framework tells the master with
 * UPDATE_FRAMEWORK (the framework's SUBSCRIBE after a lost stream carries the
 * role too), the new job launches from offers to its role, and the role
 * leaves with its last job.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import type { Call } from '../../src/mesos/types.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function jobsFile(t: TestContext): string {
  const dir = tempDir(t, 'cli-jobs-reload-');
  return join(dir, 'jobs.yaml');
}

/** JSON from the status port, asserting the status. */
function client(base: string) {
  return async (path: string, status = 200) => {
    const res = await fetch(base + path);
    assert.equal(res.status, status, `${path}: ${res.status}`);
    return await res.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

describe('--jobs reload and the API', () => {
  it('an added job shows in /api/jobs, its runs and /metrics; a removed one leaves once forgotten', async (t) => {
    const cluster = await withCluster(t);
    const file = jobsFile(t);
    writeFileSync(file, 'jobs:\n  - { name: alpha, cmd: "true", maxtasks: 1, wait: 600 }\n');
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file, '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const get = client(base);
    const metrics = async () => await (await fetch(`${base}/metrics`)).text();
    const names = async () => (await get('/api/jobs')).jobs.map((j: { name: string }) => j.name);
    await cli.waitFor((l) => l.msg === 'job alpha: waiting 600s before round 2, holding no resources', "alpha's cooldown");
    assert.deepEqual(await names(), ['alpha']);
    assert.equal((await get('/api/jobs/beta', 404)).error.code, 'JOB_NOT_FOUND');
    assert.doesNotMatch(await metrics(), /job="beta"/);

    // Two jobs added: beta runs a round and cools down, gamma keeps a task running.
    writeFileSync(file, [
      'jobs:',
      '  - { name: alpha, cmd: "true", maxtasks: 1, wait: 600 }',
      '  - { name: beta, cmd: "true", maxtasks: 2, wait: 600 }',
      '  - { name: gamma, cmd: sleep 60, maxtasks: 1, grace: 1s }',
      '',
    ].join('\n'));
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'jobs file reloaded; added: beta, gamma; unchanged: alpha', 'the reload');
    assert.deepEqual(await names(), ['alpha', 'beta', 'gamma']);
    const beta = await get('/api/jobs/beta');
    assert.deepEqual([beta.name, beta.definition.maxTasks, beta.definition.cmd], ['beta', 2, 'true']);
    for (const job of ['beta', 'gamma']) {
      assert.match(await metrics(), new RegExp(`^mesos_scheduler_rounds_started_total\\{job="${job}"\\} \\d+$`, 'm'), `${job}'s series`);
    }
    await cli.waitFor((l) => l.msg === 'job beta: waiting 600s before round 2, holding no resources', "beta's first round");
    const runs = await get('/api/jobs/beta/runs');
    assert.deepEqual(runs.runs.map((r: { round: number; outcome: string; finished: number }) => [r.round, r.outcome, r.finished]), [[1, 'succeeded', 2]]);
    assert.equal((await get(`/api/jobs/beta/runs/${runs.runs[0].run}`)).round, 1);
    const tasks = await get('/api/jobs/beta/tasks');
    assert.equal(tasks.total, 2);
    assert.ok(tasks.tasks.every((task: { taskId: string }) => task.taskId.startsWith('beta-r1-')), JSON.stringify(tasks.tasks));
    const text = await metrics();
    assert.match(text, /^mesos_scheduler_tasks_launched_total\{job="beta"\} 2$/m);
    assert.match(text, /^mesos_scheduler_rounds_completed_total\{job="beta"\} 1$/m);
    assert.match(text, /^mesos_scheduler_tasks_launched_total\{job="alpha"\} 1$/m);
    await cli.waitFor((l) => /^task gamma-r1-t1-\S+ in state TASK_RUNNING$/.test(String(l.msg)), "gamma's task running");
    assert.equal((await get('/api/jobs/gamma')).state, 'running');

    // gamma removed: listed while its task gets its grace, gone once it is forgotten.
    writeFileSync(file, [
      'jobs:',
      '  - { name: alpha, cmd: "true", maxtasks: 1, wait: 600 }',
      '  - { name: beta, cmd: "true", maxtasks: 2, wait: 600 }',
      '',
    ].join('\n'));
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'jobs file reloaded; removed (grace, then kill): gamma; unchanged: alpha, beta', 'the removal');
    assert.deepEqual(await names(), ['alpha', 'beta', 'gamma'], 'a removed job is listed until it is forgotten');
    await cli.waitFor((l) => l.msg === 'job gamma: removed: its tasks have ended, the job is forgotten', 'gamma forgotten');
    assert.deepEqual(await names(), ['alpha', 'beta']);
    assert.equal((await get('/api/jobs/gamma', 404)).error.code, 'JOB_NOT_FOUND');
    assert.equal((await get('/api/jobs/gamma/runs', 404)).error.code, 'JOB_NOT_FOUND');
    assert.deepEqual(cluster.tasks().filter((x) => x.taskId.startsWith('gamma-')).map((x) => x.state), ['TASK_KILLED']);
    assert.deepEqual(await names(), ['alpha', 'beta']);
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
  });

  it('a job of a new role: UPDATE_FRAMEWORK with both roles, its tasks launched from its role\'s offers; the role leaves with its last job', async (t) => {
    const cluster = await withCluster(t);
    const file = jobsFile(t);
    const etl = '  - { name: a, cmd: "true", maxtasks: 1, wait: 600, role: etl }';
    writeFileSync(file, `jobs:\n${etl}\n`);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    await cli.waitFor((l) => l.msg === 'job a: waiting 600s before round 2, holding no resources', "a's cooldown");
    const calls = (type: Call['type']): Call[] => cluster.received.filter((r) => r.call.type === type).map((r) => r.call);
    const [subscribe] = calls('SUBSCRIBE');
    assert.deepEqual(subscribe?.subscribe?.framework_info.roles, ['etl']);
    const frameworkId = cluster.frameworks()[0]!.id;

    writeFileSync(file, `jobs:\n${etl}\n  - { name: b, cmd: "true", maxtasks: 2, wait: 600, role: batch }\n`);
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'jobs file reloaded; added: b; unchanged: a', 'the reload');
    await cli.waitFor((l) => l.msg === 'framework roles now etl, batch (added batch): UPDATE_FRAMEWORK sent', 'the roles');
    await cli.waitFor((l) => l.msg === 'job b: waiting 600s before round 2, holding no resources', "b's first round");
    const [update] = calls('UPDATE_FRAMEWORK');
    assert.ok(update?.update_framework, 'UPDATE_FRAMEWORK sent');
    const info = update.update_framework.framework_info;
    assert.deepEqual([update.framework_id?.value, info.id?.value], [frameworkId, frameworkId]);
    assert.deepEqual(info.roles, ['etl', 'batch']);
    assert.ok(info.capabilities?.some((c) => c.type === 'MULTI_ROLE'));
    assert.deepEqual(update.update_framework.suppressed_roles, ['etl'], 'a is in its cooldown: etl stays suppressed');
    assert.ok(cluster.responses.some((r) => r.callType === 'UPDATE_FRAMEWORK' && r.status === 200));
    // b's tasks were launched from offers to batch (their resources carry the offer's allocation_info).
    const launchedB = calls('ACCEPT').flatMap((c) => c.accept?.operations ?? []).flatMap((op) => op.launch?.task_infos ?? []).filter((task) => task.task_id.value.startsWith('b-r1-'));
    assert.equal(launchedB.length, 2);
    for (const task of launchedB) assert.deepEqual(new Set((task.resources ?? []).map((r) => r.allocation_info?.role)), new Set(['batch']), task.task_id.value);
    assert.deepEqual(cluster.tasks().filter((x) => x.taskId.startsWith('b-')).map((x) => x.state), ['TASK_FINISHED', 'TASK_FINISHED']);

    // A lost stream: the SUBSCRIBE again carries both roles.
    const resubscribed = cli.lines.length;
    cluster.faults.endStreams();
    await cli.waitFor((l) => l.msg === `re-subscribed with framework id ${frameworkId} at ${cluster.masters[0]!.hostPort}` && cli.lines.indexOf(l) >= resubscribed, 'the re-subscription');
    assert.deepEqual(calls('SUBSCRIBE').at(-1)?.subscribe?.framework_info.roles, ['etl', 'batch']);

    // b removed: once it is forgotten, batch leaves the framework.
    writeFileSync(file, `jobs:\n${etl}\n`);
    cli.child.kill('SIGHUP');
    await cli.waitFor((l) => l.msg === 'job b: removed: its tasks have ended, the job is forgotten', 'b forgotten');
    await cli.waitFor((l) => l.msg === 'framework roles now etl (removed batch): UPDATE_FRAMEWORK sent', 'batch removed');
    // The log line comes as the call goes out; the master has it a moment later.
    for (const deadline = Date.now() + 10_000; calls('UPDATE_FRAMEWORK').length < 2;) {
      assert.ok(Date.now() < deadline, 'the second UPDATE_FRAMEWORK reaches the master');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(calls('UPDATE_FRAMEWORK').at(-1)?.update_framework?.framework_info.roles, ['etl']);
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
  });
});
