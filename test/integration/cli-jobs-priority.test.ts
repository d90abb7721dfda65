/**
 * `priority` in a jobs file through the real CLI against the emulated
 * master, with less room than the jobs want: jobs of equal priority share
 * the first offers (one task each in turn, so none starves), and a job of
 * higher priority is served first.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import type { Cluster } from '../../src/emulator/index.js';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

function jobsFile(t: Pick<TestContext, 'after'>, lines: string[]): string {
  const dir = tempDir(t, 'cli-jobs-priority-');
  const file = join(dir, 'jobs.yaml');
  writeFileSync(file, ['jobs:', ...lines, ''].join('\n'));
  return file;
}

/** The jobs (task names) launched by each ACCEPT, in the order the master received them. */
function acceptedJobs(cluster: Cluster): string[][] {
  return cluster.received.filter((r) => r.call.type === 'ACCEPT')
    .map((r) => (r.call.accept?.operations ?? []).flatMap((op) => (op.launch?.task_infos ?? []).map((task) => task.name)))
    .filter((names) => names.length > 0);
}

describe('--jobs priority', () => {
  it('two jobs of equal priority that together want more than the cluster holds both launch from the first offers', async (t) => {
    // One agent with room for two tasks; the jobs want six.
    const cluster = await withCluster(t, { agents: 1, cpusPerAgent: 2, memPerAgent: 1024 });
    const file = jobsFile(t, [
      '  - { name: left, cmd: "sleep 0.3", cpu: 1, mem: 64, maxtasks: 3, rounds: 1 }',
      '  - { name: right, cmd: "sleep 0.3", cpu: 1, mem: 64, maxtasks: 3, rounds: 1 }',
    ]);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
    const accepts = acceptedJobs(cluster);
    assert.deepEqual([...accepts[0]!].sort(), ['left', 'right'], `the first offer serves one task of each: ${JSON.stringify(accepts)}`);
    const all = accepts.flat();
    assert.equal(all.filter((job) => job === 'left').length, 3);
    assert.equal(all.filter((job) => job === 'right').length, 3);
  });

  it('a job of higher priority is served first', async (t) => {
    const cluster = await withCluster(t, { agents: 1, cpusPerAgent: 2, memPerAgent: 1024 });
    // The low job comes first in the file: the order of the file does not decide.
    const file = jobsFile(t, [
      '  - { name: low, cmd: "sleep 0.3", cpu: 1, mem: 64, maxtasks: 2, rounds: 1 }',
      '  - { name: high, cmd: "sleep 0.3", cpu: 1, mem: 64, maxtasks: 2, rounds: 1, priority: 10 }',
    ]);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--jobs', file]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n') + cli.stderr());
    const accepts = acceptedJobs(cluster);
    assert.deepEqual(accepts[0], ['high', 'high'], `the whole first offer goes to the high job: ${JSON.stringify(accepts)}`);
    assert.deepEqual(accepts.flat().slice(2), ['low', 'low'], 'the low job gets the room once the high one is done');
  });
});
