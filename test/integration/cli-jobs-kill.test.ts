/**
 * A round killed through the control API is not a success (issue 11), through
 * the real CLI against the embedded master: `extract` runs two tasks, one
 * finishes and one sleeps; POST /api/jobs/extract/kill ends the round; its run
 * (GET /api/jobs/extract/runs/1, held to the OpenAPI document) says `killed`
 * with the finished task counted, the `after: [extract]` child `load` never
 * runs (it can be paused and resumed while it waits), and the process,
 * stopped, exits 1 (a job's last round did not succeed).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { requestValid } from '../observability/openapi-validator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

describe('--jobs: POST kill on a running round', () => {
  it('ends the round killed (not a success): its run says so and the after: child does not run', async (t) => {
    const dir = tempDir(t, 'cli-jobs-kill-');
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - name: extract',
      // Task 1 finishes at once; task 2 sleeps until killed.
      '    cmd: \'case "$MESOS_TASK_ID" in *-t1-*) exit 0;; esac; sleep 120\'',
      '    cpu: 0.1',
      '    mem: 32',
      '    maxtasks: 2',
      '    wait: 600',
      '    grace: 1',
      '  - name: load',
      '    cmd: "true"',
      '    cpu: 0.1',
      '    mem: 32',
      '    maxtasks: 1',
      '    after: [extract]',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', 'local', '--local-cpus', '2', '--local-mem', '1024', '--jobs', file, '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);

    await cli.waitFor((l) => /^finished task extract-r1-t1-/.test(String(l.msg)), 'task 1 of round 1 finished');
    await cli.waitFor((l) => /^extract-r1-t2-/.test(String(l.taskId ?? '')) && /TASK_RUNNING/.test(String(l.msg)), 'task 2 of round 1 runs');
    const kill = await requestValid(base, '/api/jobs/extract/kill', '/api/jobs/{name}/kill', 200, { method: 'POST' });
    assert.match(kill.message, /killing the 1 running task of round 1/);
    const done = await cli.waitFor((l) => /^job extract: round 1 done/.test(String(l.msg)), 'round 1 ends');
    assert.equal(done.msg, 'job extract: round 1 done: 1 finished, 1 failed (killed: not a success)');

    const run = await requestValid(base, '/api/jobs/extract/runs/1', '/api/jobs/{name}/runs/{run}');
    assert.deepEqual([run.round, run.outcome, run.finished, run.failed], [1, 'killed', 1, 1]);
    assert.deepEqual(run.failures.map((f: { state: string }) => f.state), ['TASK_KILLED']);
    const extract = await requestValid(base, '/api/jobs/extract', '/api/jobs/{name}');
    assert.equal(extract.lastRun.outcome, 'killed');

    // The child decides on the parent's round as it ends (the same step that logs it): it does not run.
    const child = await requestValid(base, '/api/jobs/load/runs', '/api/jobs/{name}/runs');
    assert.deepEqual(child.runs, [], 'the child has no run');
    assert.equal(cli.messages().some((m) => m.startsWith('job load: round')), false, cli.messages().join('\n'));

    // The child, idle (waiting for its parent), can be paused and resumed; resumed, it waits for its parent again.
    const post = (job: string, action: string) => requestValid(base, `/api/jobs/${job}/${action}`, `/api/jobs/{name}/${action}`, 200, { method: 'POST' });
    const paused = await post('load', 'pause');
    assert.deepEqual([paused.changed, paused.state.phase, paused.state.paused], [true, 'paused', true]);
    assert.equal((await requestValid(base, '/api/jobs/load', '/api/jobs/{name}')).state, 'paused');
    const resumed = await post('load', 'resume');
    assert.deepEqual([resumed.state.phase, resumed.state.paused, resumed.state.triggered], ['idle', false, true]);
    assert.match(resumed.message, /when its schedule or its parents say/);

    cli.child.kill('SIGTERM');
    const exit = await cli.exited;
    assert.equal(exit.code, 1, 'the last round of extract was killed: not a success');
  });
});
