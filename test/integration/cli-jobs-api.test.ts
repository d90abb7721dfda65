/**
 * `--jobs FILE` with `--http-port` through the real CLI: the API lists every
 * job of the file with its own state, runs and tasks, and the control calls
 * act on the job they name only; /metrics labels each job's counters.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

describe('--jobs with --http-port', () => {
  it('lists every job, keeps runs and tasks per job, and controls one job at a time', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-jobs-api-');
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - name: alpha',
      '    cmd: "true"',
      '    maxtasks: 2',
      '    wait: 600',
      '  - name: beta',
      '    cmd: "true"',
      '    maxtasks: 1',
      '    wait: 600',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file, '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const get = async (path: string, status = 200) => {
      const res = await fetch(base + path);
      assert.equal(res.status, status, `${path}: ${res.status}`);
      return await res.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const post = async (path: string) => {
      const res = await fetch(base + path, { method: 'POST' });
      assert.equal(res.status, 200, path);
      return await res.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    for (const job of ['alpha', 'beta']) await cli.waitFor((l) => l.msg === `job ${job}: waiting 600s before round 2, holding no resources`, `${job}'s cooldown`);

    const { jobs } = await get('/api/jobs');
    assert.deepEqual(jobs.map((j: { name: string }) => j.name), ['alpha', 'beta']);
    for (const job of jobs) {
      assert.equal(job.state, 'cooldown', job.name);
      assert.equal(job.round, 1, job.name);
      assert.equal(typeof job.nextStartAt, 'string', job.name);
      assert.equal(job.lastRun?.outcome, 'succeeded', job.name);
    }
    assert.equal((await get('/api/jobs/nope', 404)).error.code, 'JOB_NOT_FOUND');
    for (const [job, count] of [['alpha', 2], ['beta', 1]] as const) {
      const runs = await get(`/api/jobs/${job}/runs`);
      assert.equal(runs.runs.length, 1, job);
      assert.equal((await get(`/api/jobs/${job}/runs/${runs.runs[0].run}`)).round, 1);
      const tasks = await get(`/api/jobs/${job}/tasks`);
      assert.equal(tasks.total, count, job);
      assert.ok(tasks.tasks.every((task: { taskId: string }) => task.taskId.startsWith(`${job}-r1-`)), job);
      assert.equal((await get(`/api/jobs/${job}`)).tasks.total, count, job);
    }
    // /metrics counts each job's tasks and rounds under its own `job` label.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const [job, count] of [['alpha', 2], ['beta', 1]] as const) {
      assert.match(metrics, new RegExp(`^mesos_scheduler_tasks_launched_total\\{job="${job}"\\} ${count}$`, 'm'), job);
      assert.match(metrics, new RegExp(`^mesos_scheduler_rounds_completed_total\\{job="${job}"\\} 1$`, 'm'), job);
    }

    // Pause beta only; run alpha now: alpha starts round 2, beta stays.
    const paused = await post('/api/jobs/beta/pause');
    assert.deepEqual([paused.job, paused.changed, paused.state.paused], ['beta', true, true]);
    const ran = await post('/api/jobs/alpha/run');
    assert.deepEqual([ran.job, ran.changed], ['alpha', true]);
    await cli.waitFor((l) => l.msg === 'job alpha: waiting 600s before round 3, holding no resources', 'alpha round 2, run by hand');
    const after = Object.fromEntries((await get('/api/jobs')).jobs.map((j: { name: string }) => [j.name, j]));
    assert.deepEqual([after.alpha.round, after.alpha.paused, after.alpha.state], [2, false, 'cooldown']);
    assert.deepEqual([after.beta.round, after.beta.paused, after.beta.state], [1, true, 'paused']);
    assert.equal((await get('/api/jobs/alpha/runs')).runs.length, 2);
    assert.equal((await get('/api/jobs/beta/runs')).runs.length, 1);
    assert.ok(!cli.messages().some((m) => m.startsWith('job beta: round 2')), 'beta ran no second round');
    assert.ok(cluster.tasks().every((task) => !task.taskId.startsWith('beta-r2-')));
  });
});
