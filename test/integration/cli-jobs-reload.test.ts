/**
 * SIGHUP with `--jobs` through the real CLI: the jobs a reload adds show in
 * the API, the run history and the metrics; a removed job leaves them once it
 * is forgotten (its running task got its grace and was killed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli } from './cli-harness.js';

before(() => ensureBuilt());

function jobsFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-jobs-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
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
});
