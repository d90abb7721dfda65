/**
 * `concurrency: allow` through the real CLI against the embedded master
 * (`--master local`): with `every: 2s` and tasks that sleep (until the test
 * lets them end, by a marker file, so nothing hangs on timing), round 2
 * starts while round 1 runs; both rounds' tasks run at the same time, the API
 * shows both rounds in flight (its answers held to the OpenAPI document), and
 * each run ends with its own outcome; a start (or run now) while
 * `max-in-flight` rounds run is skipped and said. Killed while two rounds
 * run and started again on the same state file, it carries both on.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { readStateFile } from '../../src/state/state-file.js';
import { withCluster } from '../helpers/emulator.js';
import { requestValid } from '../observability/openapi-validator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

describe('--jobs with concurrency: allow', () => {
  it('runs two rounds of a job at the same time, each with its own run and outcome', async (t) => {
    const dir = tempDir(t, 'cli-jobs-overlap-');
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - name: tick',
      `    cmd: "for i in $(seq 200); do [ -e ${join(dir, 'go')} ] && exit 0; sleep 0.1; done; exit 1"`,
      '    cpu: 0.1',
      '    mem: 32',
      '    maxtasks: 1',
      '    schedule: { every: 2s, concurrency: allow, max-in-flight: 2 }',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', 'local', '--local-cpus', '2', '--local-mem', '1024', '--jobs', file, '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const get = async (path: string) => {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return await res.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    await cli.waitFor((l) => l.msg === 'job tick: round 2: launching 1 task alongside round 1, still running (concurrency allow)', 'round 2 over round 1');
    // Both rounds' tasks run at once.
    let tasks: { taskId: string; round: number; state: string }[] = [];
    for (let i = 0; i < 100; i++) {
      tasks = (await get('/api/jobs/tick/tasks')).tasks;
      if (tasks.length === 2 && tasks.every((task) => task.state === 'TASK_RUNNING')) break;
      await sleep(100);
    }
    assert.deepEqual(tasks.map((task) => [task.taskId.replace(/-[^-]+$/, ''), task.round, task.state]),
      [['tick-r1-t1', 1, 'TASK_RUNNING'], ['tick-r2-t1', 2, 'TASK_RUNNING']], JSON.stringify(tasks));
    const job = await requestValid(base, '/api/jobs/tick', '/api/jobs/{name}');
    assert.equal(job.state, 'running');
    assert.deepEqual(job.roundsInFlight.map((r: { round: number; outcome: string }) => [r.round, r.outcome]), [[1, 'running'], [2, 'running']]);
    assert.deepEqual((await requestValid(base, '/api/jobs/tick/tasks', '/api/jobs/{name}/tasks')).rounds, [1, 2]);
    await requestValid(base, '/api/jobs', '/api/jobs');
    // Run now while two rounds run: two is the job's max-in-flight.
    const refused = await requestValid(base, '/api/jobs/tick/run', '/api/jobs/{name}/run', 409, { method: 'POST' });
    assert.equal(refused.error.code, 'ROUND_IN_PROGRESS');
    assert.match(refused.error.message, /already runs 2 rounds \(1, 2\), its max-in-flight/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^mesos_scheduler_rounds_overlapped_total\{job="tick"\} 1$/m);

    // The start at 4 s comes while rounds 1 and 2 run: two is the job's max-in-flight.
    await cli.waitFor((l) => l.reason === 'max-in-flight', 'a start skipped');
    writeFileSync(join(dir, 'go'), '');
    await cli.waitFor((l) => l.msg === 'job tick: round 1 done: 1 finished, 0 failed', 'round 1 done');
    await cli.waitFor((l) => l.msg === 'job tick: round 2 done: 1 finished, 0 failed', 'round 2 done');
    const { runs } = await get('/api/jobs/tick/runs');
    assert.deepEqual(runs.filter((r: { round: number }) => r.round <= 2).map((r: { round: number; outcome: string; finished: number }) => [r.round, r.outcome, r.finished]),
      [[2, 'succeeded', 1], [1, 'succeeded', 1]]);
    assert.ok(cli.lines.some((l) => l.reason === 'max-in-flight' && /^job tick: skipped the start due at .*: 2 rounds still run, its max-in-flight \(concurrency allow\)$/.test(String(l.msg))), cli.messages().join('\n'));
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^mesos_scheduler_starts_skipped_total\{job="tick",reason="max-in-flight"\} [1-9]/m);
  });

  it('carries every round in flight on after SIGKILL and restart, launching nothing twice', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-jobs-overlap-restart-');
    const file = join(dir, 'jobs.yaml');
    const stateFile = join(dir, 'state.json');
    writeFileSync(file, [
      'jobs:',
      '  - name: tick',
      `    cmd: "for i in $(seq 300); do [ -e ${join(dir, 'go')} ] && exit 0; sleep 0.1; done; exit 1"`,
      '    cpu: 0.1',
      '    mem: 32',
      '    maxtasks: 1',
      '    rounds: 2',
      '    schedule: { every: 2s, concurrency: allow }',
      '',
    ].join('\n'));
    const args = ['--master', cluster.masters[0]!.hostPort, '--jobs', file, '--state-file', stateFile];

    const first = runCli(t, args, { stateFile: false });
    await first.waitFor((l) => String(l.msg).startsWith('job tick: round 2: launching 1 task alongside round 1'), 'round 2 over round 1');
    // Both rounds written ahead with their tasks: then kill.
    let saved;
    for (let i = 0; ; i++) {
      saved = (await readStateFile(stateFile, 'mesos-http-scheduler'))?.state;
      const tick = saved?.jobs?.find((j) => j.name === 'tick');
      if (tick?.round === 2 && tick.earlierRounds?.length === 1 && saved!.tasks.length === 2) break;
      assert.ok(i < 200, `both rounds in the state file: ${JSON.stringify(saved)}`);
      await sleep(50);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    assert.deepEqual(saved!.jobs?.find((j) => j.name === 'tick')?.earlierRounds, [{ round: 1, maxTasks: 1, launched: 1, finished: 0, failed: 0 }]);

    const second = runCli(t, args, { stateFile: false });
    await second.waitFor((l) => String(l.msg).startsWith('carrying on from'), 'the restart');
    writeFileSync(join(dir, 'go'), '');
    const { code } = await second.exited;
    assert.equal(code, 0, second.messages().join('\n'));
    for (const round of [1, 2]) {
      assert.ok(second.messages().includes(`job tick: round ${round} done: 1 finished, 0 failed`), second.messages().join('\n'));
    }
    assert.ok(!second.messages().some((m) => m.startsWith('job tick: round') && m.includes('launching')), 'no round started again');
    const launched = cluster.received.filter((r) => r.call.type === 'ACCEPT')
      .flatMap((r) => r.call.accept!.operations!.flatMap((op) => op.launch?.task_infos?.map((info) => info.task_id.value) ?? []));
    assert.deepEqual(launched.map((id) => id.replace(/-[^-]+$/, '')), ['tick-r1-t1', 'tick-r2-t1'], 'no task launched twice');
  });
});
