/**
 * On a cluster (not the embedded master) the API links each task to its
 * sandbox in the Mesos master's UI instead of serving its output.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';
import { requestValid } from './openapi-validator.js';

before(() => ensureBuilt());

describe('task output on a cluster', () => {
  it('links to the task\'s sandbox in the master\'s UI; the output endpoint says it is not served here', async (t) => {
    const cluster = await withCluster(t);
    const master = cluster.masters[0]!.hostPort;
    const cli = runCli(t, ['--master', master, '--name', 'etl', '--cmd', 'sleep 1', '--maxtasks', '1', '--wait', '30', '--rounds', '2', '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');
    const page = await requestValid(base, '/api/jobs/etl/tasks', '/api/jobs/{name}/tasks');
    const task = page.tasks[0];
    const frameworkId = cluster.frameworks()[0]!.id;
    assert.equal(task.output.sandbox, `http://${master}/#/agents/${encodeURIComponent(task.agentId)}/frameworks/${encodeURIComponent(frameworkId)}/executors/${encodeURIComponent(task.taskId)}/browse`);
    const output = await fetch(`${base}/api/jobs/etl/tasks/${task.taskId}/stdout`);
    assert.equal(output.status, 404);
    assert.equal(((await output.json()) as { error: { code: string } }).error.code, 'OUTPUT_NOT_AVAILABLE');
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
});
