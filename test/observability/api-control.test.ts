/**
 * The control API against the real CLI on the embedded master: run now ends
 * the cooldown and refuses during a round (409), kill ends the round's tasks
 * with the grace, pause holds the job between rounds (run now still runs one
 * round), resume carries on; every call is logged with what was done, every
 * answer matches the OpenAPI document, and a call from another site is refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';
import { requestValid } from './openapi-validator.js';

before(() => ensureBuilt());

describe('control API', () => {
  it('run, kill, pause, resume on a running job', async (t) => {
    const cli = runCli(t, ['--master', 'local', '--name', 'etl', '--cmd', 'sleep 3', '--maxtasks', '2', '--wait', '600', '--grace', '1', '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const post = (action: string, status = 200, headers: Record<string, string> = {}) =>
      requestValid(base, `/api/jobs/etl/${action}`, `/api/jobs/{name}/${action}`, status, { method: 'POST', headers });
    const job = () => requestValid(base, '/api/jobs/etl', '/api/jobs/{name}');
    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');
    assert.equal((await job()).state, 'cooldown');

    const evil = await post('run', 403, { origin: 'http://evil.example' });
    assert.equal(evil.error.code, 'FORBIDDEN');
    assert.equal((await job()).state, 'cooldown', 'a call from another site changes nothing');

    const run = await post('run');
    assert.deepEqual([run.action, run.changed, run.state.phase, run.state.round], ['run', true, 'round', 2]);
    await cli.waitFor((l) => /^round 2: launching/.test(String(l.msg)), 'round 2 started at once');
    assert.equal((await post('run', 409)).error.code, 'ROUND_IN_PROGRESS');
    await cli.waitFor((l) => l.taskId !== undefined && /-r2-/.test(String(l.taskId)) && /TASK_RUNNING/.test(String(l.msg)), 'a task of round 2 runs');

    const kill = await post('kill');
    assert.match(kill.message, /killing the \d running tasks? of round 2 \(grace 1s\)/);
    await cli.waitFor((l) => /^round 2 done: 0 finished, 2 failed/.test(String(l.msg)), 'round 2 ends with its tasks killed');
    const killed = await requestValid(base, '/api/jobs/etl/runs/2', '/api/jobs/{name}/runs/{run}');
    assert.equal(killed.outcome, 'killed', 'a round we killed is not a success');
    assert.deepEqual(killed.failures.map((f: { state: string }) => f.state), ['TASK_KILLED', 'TASK_KILLED']);
    assert.equal((await post('kill', 409)).error.code, 'NOT_RUNNING');

    const pause = await post('pause');
    assert.deepEqual([pause.changed, pause.state.phase, pause.state.paused], [true, 'paused', true]);
    assert.equal((await job()).state, 'paused');
    assert.equal((await post('pause')).changed, false, 'pausing twice is no change');
    await post('run');
    await cli.waitFor((l) => /^round 3 done/.test(String(l.msg)), 'round 3, run by hand while paused');
    const after = await job();
    assert.deepEqual([after.state, after.paused], ['paused', true], 'still paused after the round run by hand');
    const resume = await post('resume');
    assert.deepEqual([resume.changed, resume.state.phase, resume.state.paused], [true, 'cooldown', false]);
    // The log line reaches the test through the CLI's stdout, after the answer.
    await cli.waitFor((l) => /^control: resume job etl /.test(String(l.msg)), 'the resume logged');

    const logged = cli.messages().filter((m) => m.startsWith('control: '));
    assert.ok(logged.some((m) => /^control: run job etl \(from 127\.0\.0\.1\): started round 2 now$/.test(m)), logged.join('\n'));
    assert.ok(logged.some((m) => /^control: run job etl \(from 127\.0\.0\.1\) refused: round 2 of job 'etl' is still running/.test(m)), logged.join('\n'));
    assert.ok(logged.some((m) => /^control: kill job etl .*: killing the/.test(m)));
    assert.ok(logged.some((m) => /^control: pause job etl .*: paused/.test(m)));
    assert.ok(logged.some((m) => /^control: resume job etl .*: resumed/.test(m)));
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
});
