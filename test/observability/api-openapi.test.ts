/**
 * The status port's JSON API, held to its OpenAPI document: a real CLI run on
 * the embedded master (one task of the first round fails), every answer
 * validated with ajv against the schema the document gives for its path and
 * status; then a second process on the same state file finds the first's runs
 * (the history survives the process and the reset of the job's state).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { openApiDocument } from '../../src/observability/api/openapi.js';
import { ensureBuilt, runCli, type CliRun } from '../integration/cli-harness.js';
import { requestValid } from './openapi-validator.js';

before(() => ensureBuilt());

const getValid = (base: string, path: string, template: string, status = 200): Promise<any> => requestValid(base, path, template, status);

async function statusBase(cli: CliRun): Promise<string> {
  return String((await cli.waitFor((l) => typeof l.status === 'string', 'the status endpoint line')).status);
}

describe('the status port API against its OpenAPI document', () => {
  it('answers as documented in a real run; the history survives the process and the reset of the job state', async (t) => {
    const scratch = mkdtempSync(join(tmpdir(), 'api-'));
    const stateFile = join(scratch, 'etl.json');
    // The first task to take the lock fails with a message on stderr; every other one finishes.
    const cmd = `echo "out of $MESOS_TASK_ID"; if mkdir ${scratch}/lock 2>/dev/null; then echo "disk full" >&2; exit 3; fi`;
    const args = ['--master', 'local', '--name', 'etl', '--cmd', cmd, '--maxtasks', '3', '--wait', '3', '--rounds', '2', '--http-port', '0', '--state-file', stateFile];
    const cli = runCli(t, args, { stateFile: false });
    const base = await statusBase(cli);
    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');

    const list = await getValid(base, '/api/jobs', '/api/jobs');
    assert.deepEqual(list.jobs.map((j: { name: string }) => j.name), ['etl']);
    const job = await getValid(base, '/api/jobs/etl', '/api/jobs/{name}');
    assert.equal(job.definition.maxTasks, 3);
    const runs = await getValid(base, '/api/jobs/etl/runs', '/api/jobs/{name}/runs');
    const first = runs.runs.at(-1);
    assert.deepEqual([first.run, first.round, first.outcome, first.finished, first.failed], [1, 1, 'failed', 2, 1]);
    const failure = first.failures[0];
    assert.equal(failure.state, 'TASK_FAILED');
    assert.match(failure.message, /exited with status 3/);
    assert.ok(failure.agentId, 'the failed task\'s agent');
    assert.deepEqual(await getValid(base, '/api/jobs/etl/runs/1', '/api/jobs/{name}/runs/{run}'), first);

    const page = await getValid(base, '/api/jobs/etl/tasks?limit=2', '/api/jobs/{name}/tasks');
    assert.ok(page.total >= 2 && page.tasks.length === 2);
    const failed = await getValid(base, '/api/jobs/etl/tasks?filter=failed', '/api/jobs/{name}/tasks');
    if (failed.round === 1) {
      const task = failed.tasks[0];
      const stderr = await fetch(`${base}${task.output.stderr}`);
      assert.equal(stderr.status, 200);
      assert.equal(await stderr.text(), 'disk full\n');
      assert.match(await (await fetch(`${base}${task.output.stdout}`)).text(), new RegExp(`out of ${task.taskId}`));
    }

    const errors: Array<[string, string, number, string]> = [
      ['/api/jobs/nope', '/api/jobs/{name}', 404, 'JOB_NOT_FOUND'],
      ['/api/jobs/etl/runs/999', '/api/jobs/{name}/runs/{run}', 404, 'RUN_NOT_FOUND'],
      ['/api/jobs/etl/tasks?limit=abc', '/api/jobs/{name}/tasks', 400, 'BAD_REQUEST'],
      ['/api/jobs/etl/tasks?filter=odd', '/api/jobs/{name}/tasks', 400, 'BAD_REQUEST'],
    ];
    for (const [path, template, status, code] of errors) {
      assert.equal((await getValid(base, path, template, status)).error.code, code, path);
    }
    const post = await fetch(`${base}/api/jobs`, { method: 'DELETE' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as any).error.code, 'METHOD_NOT_ALLOWED');
    const served = (await (await fetch(`${base}/api/openapi.json`)).json()) as any;
    assert.equal(served.openapi, '3.1.0');
    assert.deepEqual(served, JSON.parse(JSON.stringify(openApiDocument)));
    assert.equal((await cli.exited).code, 1, 'a task failed');

    // The next process on the same state file: the job's state was reset, the history was not.
    const again = runCli(t, args, { stateFile: false });
    const base2 = await statusBase(again);
    await again.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 of the second process done');
    const later = await getValid(base2, '/api/jobs/etl/runs', '/api/jobs/{name}/runs');
    assert.deepEqual(later.runs.map((r: { run: number; round: number }) => [r.run, r.round]).slice(-3), [[3, 1], [2, 2], [1, 1]]);
    assert.equal((await again.exited).code, 0);
  });
});
