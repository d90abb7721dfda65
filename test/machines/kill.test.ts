/**
 * Rounds ended by us end `killed`, never a success (issue 11): POST kill
 * (job.kill) before any task launched and after some finished, for the
 * newest round and for earlier overlapping ones (`concurrency: allow`); the
 * kill after a stop's grace (SIGTERM); a job removed by a reload, or unknown
 * to the file after a takeover. The killed flag is written at once, so a
 * restart mid-kill keeps it; `after:` children never run on a killed round;
 * relaunches (`retries`) of a killed round are dropped. And a start the job
 * can no longer take (paused after the supervisor decided to start it) is
 * kept for when it is idle again. The real framework and supervisor machines
 * with fake effects and xstate's SimulatedClock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPromise } from 'xstate';
import type { FrameworkOutput, PersistedState } from '../../machines/contract.js';
import type { JobContext } from '../../machines/job/job.context.js';
import type { SupervisorContext } from '../../machines/supervisor/supervisor.context.js';
import { assertDeltasAddUp, createHarness, finishAll, jobRun, type Harness } from './harness.js';

function launchedOf(h: Harness, job: string, round?: number): string[] {
  return h.launchedTaskIds().filter((id) => id.startsWith(round === undefined ? `${job}-r` : `${job}-r${round}-`));
}

function finished(h: Harness, job?: string): [number, number, number, boolean][] {
  return h.notes('roundFinished').filter((n) => n.job === job).map((n) => [n.round, n.finished, n.failed, n.killed === true]);
}

function roundsStarted(h: Harness, job: string): number[] {
  return h.notes('roundStarted').filter((n) => n.job === job).map((n) => n.round);
}

function supervisor(h: Harness): { context: SupervisorContext; children: Record<string, { getSnapshot(): unknown; send(e: unknown): void }> } {
  return h.actor.getSnapshot().children['job']!.getSnapshot() as never;
}

function jobOf(h: Harness, name: string): { context: JobContext; phase: unknown; send(e: unknown): void } {
  const ref = supervisor(h).children[`job:${name}`]!;
  const snapshot = ref.getSnapshot() as { context: JobContext; value: { active?: { phase?: unknown } } };
  return { context: snapshot.context, phase: snapshot.value.active?.phase, send: (e) => ref.send(e) };
}

function persistedJob(h: Harness, name: string) {
  return h.persisted().filter((s) => s.jobs?.[0]?.name === name).at(-1)?.jobs?.[0];
}

test('kill before any task launched: the round ends killed (0 finished, 0 failed), not a success; the exit status says so', async () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 1 } }).start();
  h.subscribed();
  h.send({ type: 'job.kill' });
  assert.deepEqual(finished(h), [[1, 0, 0, true]]);
  h.offers(h.offer());
  assert.deepEqual(h.launchedTaskIds(), [], 'nothing of the killed round is launched');
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 1, output.message);
  assert.equal(h.jobSnapshot().context.lastRoundOk, false);
  assertDeltasAddUp(h);
});

test('kill after a task finished: killed, written at once; a restart mid-kill kills again, relaunches nothing and still ends killed', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 0 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 256));
  const [first, second] = h.launchedTaskIds();
  finishAll(h, 'TASK_FINISHED', [first!]);
  h.update(h.status(second!, 'TASK_RUNNING'));
  h.send({ type: 'job.kill' });
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), [second]);
  const written = h.lastPersisted()!;
  assert.equal(written.roundKilled, true, 'the kill is written at once');
  assert.equal(written.launchedInRound, 3, 'the round counts as fully launched');
  assert.equal(written.allFinished, false);
  assert.deepEqual(finished(h), [], 'its task is still being killed');

  // The scheduler restarts before the task's end is heard of.
  const again = createHarness({ job: { maxTasks: 3, rounds: 0 }, restored: written }).start();
  again.subscribed();
  assert.deepEqual(again.calls('KILL').map((c) => c.kill?.task_id.value), [second], 'killed again');
  again.offers(again.offer());
  assert.deepEqual(again.launchedTaskIds(), [], 'nothing relaunched');
  again.update(again.status(second!, 'TASK_KILLED'));
  assert.deepEqual(finished(again), [[1, 1, 1, true]]);
  assert.equal(again.jobSnapshot().context.lastRoundOk, false);
  assert.equal(again.lastPersisted()?.roundKilled, undefined, 'cleared once the round ended');

  // A state written before the flag existed loads as a round not killed.
  const { roundKilled: _flag, ...old } = written;
  const older = createHarness({ job: { maxTasks: 3, rounds: 0 }, restored: old }).start();
  older.subscribed();
  assert.equal(older.jobSnapshot().context.roundKilled, false);
});

test('--jobs: a killed parent round does not start its after: child; the next successful one does', () => {
  const h = createHarness({
    jobs: [jobRun({ name: 'parent', maxTasks: 1, rounds: 0, waitSeconds: 5 }), jobRun({ name: 'child', maxTasks: 1, rounds: 0, after: ['parent'] })],
  }).start();
  h.subscribed();
  h.send({ type: 'job.kill', job: 'parent' });
  assert.deepEqual(finished(h, 'parent'), [[1, 0, 0, true]]);
  assert.deepEqual(roundsStarted(h, 'child'), [], 'no child on a killed round');
  assert.equal(jobOf(h, 'parent').context.successfulRounds, 0);
  assert.equal(supervisor(h).context.slots['parent']!.lastRoundOk, false);
  h.advance(5000);
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'parent'));
  assert.deepEqual(roundsStarted(h, 'child'), [1], 'the parent\'s next, successful round starts the child');
});

test('allow: kill with an earlier round in flight and a relaunch waiting: both rounds end killed, the relaunch is dropped (its task counted failed)', () => {
  const h = createHarness({
    now: 0,
    jobs: [
      jobRun({
        name: 'tick', maxTasks: 2, rounds: 0, schedule: { kind: 'every', everyMs: 60_000, concurrency: 'allow' },
        retries: { max: 2, backoffMs: 10_000, backoffMaxMs: 10_000 },
      }),
      jobRun({ name: 'load', maxTasks: 1, rounds: 0, after: ['tick'] }),
    ],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FINISHED', ['tick-r1-t1-abc']);
  h.send({ type: 'job.runNow', job: 'tick' });
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FAILED', ['tick-r2-t1-abc']);
  assert.equal(h.notes('taskRetry').length, 1, 'round 2 waits for a relaunch');
  h.send({ type: 'job.kill', job: 'tick' });
  const job = persistedJob(h, 'tick')!;
  assert.equal(job.roundKilled, true);
  assert.deepEqual(job.earlierRounds, [{ round: 1, maxTasks: 2, launched: 2, finished: 1, failed: 0, killed: true }]);
  assert.equal(job.pendingRetries, undefined, 'the relaunch is dropped');
  h.advance(10_000);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick'), ['tick-r1-t1-abc', 'tick-r1-t2-abc', 'tick-r2-t1-abc', 'tick-r2-t2-abc'], 'nothing relaunched');
  for (const id of ['tick-r1-t2-abc', 'tick-r2-t2-abc']) h.update(h.status(id, 'TASK_KILLED'));
  assert.equal(h.notes('taskRetry').length, 1, 'tasks of a killed round are never retried');
  assert.deepEqual(finished(h, 'tick').sort(), [[1, 1, 1, true], [2, 0, 2, true]]);
  assert.deepEqual(roundsStarted(h, 'load'), [], 'no child on either killed round');
  assert.equal(jobOf(h, 'tick').phase, 'idle');
  assert.equal(jobOf(h, 'tick').context.successfulRounds, 0);
  assertDeltasAddUp(h);
});

test('stop (SIGTERM): the round cut short ends killed after the grace; the exit status still follows the tasks', async () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 0, graceSeconds: 2 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 256));
  const [first, second] = h.launchedTaskIds();
  finishAll(h, 'TASK_FINISHED', [first!]);
  h.update(h.status(second!, 'TASK_RUNNING'));
  h.send({ type: 'framework.stop' });
  h.advance(2000);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), [second]);
  assert.equal(h.lastPersisted()?.roundKilled, true, 'the stop\'s kill is written');
  h.update(h.status(second!, 'TASK_KILLED'));
  assert.deepEqual(finished(h), [[1, 1, 1, true]]);
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 1, 'a task did not finish');

  // Stopped before any task launched: the round ends killed; no task failed, so exit 0 (README's table).
  const early = createHarness({ job: { maxTasks: 2, rounds: 0 } }).start();
  early.subscribed();
  early.send({ type: 'framework.stop' });
  assert.deepEqual(finished(early), [[1, 0, 0, true]]);
  assert.equal(((await toPromise(early.actor)) as FrameworkOutput).exitCode, 0);

  // Every task ended finished within the grace: the round was complete, it succeeded.
  const clean = createHarness({ job: { maxTasks: 1, rounds: 0, graceSeconds: 5 } }).start();
  clean.subscribed();
  clean.offers(clean.offer());
  clean.send({ type: 'framework.stop' });
  finishAll(clean);
  assert.deepEqual(finished(clean), [[1, 1, 0, false]]);
  assert.equal(((await toPromise(clean.actor)) as FrameworkOutput).exitCode, 0);
});

test('stop now (second signal): the rounds in flight end killed', () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 0 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  h.send({ type: 'framework.stop' });
  h.send({ type: 'framework.stopNow' });
  assert.deepEqual(finished(h), [[1, 0, 0, true]]);
});

test('--jobs stop with rounds overlapping: the earlier and the newest round both end killed', () => {
  const h = createHarness({
    now: 0,
    jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, graceSeconds: 1, schedule: { kind: 'every', everyMs: 2000, concurrency: 'allow' } })],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  h.offers(h.offer('agent-1', 4, 4096));
  h.send({ type: 'framework.stop' });
  h.advance(1000);
  for (const id of launchedOf(h, 'tick')) h.update(h.status(id, 'TASK_KILLED'));
  assert.deepEqual(finished(h, 'tick').sort(), [[1, 0, 1, true], [2, 0, 1, true]]);
});

test('a job removed by a reload: its round ends killed after the grace, then the job is forgotten', () => {
  const h = createHarness({ jobs: [jobRun({ name: 'stay', maxTasks: 1, rounds: 0 }), jobRun({ name: 'gone', maxTasks: 2, rounds: 0, graceSeconds: 2 })] }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 256), h.offer('agent-2', 1, 256));
  const gone = launchedOf(h, 'gone');
  h.send({ type: 'jobs.reload', jobs: [jobRun({ name: 'stay', maxTasks: 1, rounds: 0 })] });
  h.advance(2000);
  for (const id of gone) h.update(h.status(id, 'TASK_KILLED'));
  assert.deepEqual(finished(h, 'gone'), [[1, 0, gone.length, true]]);
  assert.deepEqual(h.notes('jobRemoved').map((n) => n.job), ['gone']);
});

test('a takeover with another jobs file: the restored round of a job the file does not list ends killed', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
    tasks: [{ taskId: 'old-r1-t1-x', agentId: 'agent-1', round: 1, index: 1, state: 'TASK_RUNNING', job: 'old' }],
    jobs: [{ name: 'old', round: 1, completedRounds: 0, allFinished: true, phase: 'round', launchedInRound: 1, finishedInRound: 0, failedInRound: 0 }],
    jobsDigest: 'another',
  };
  const h = createHarness({ restored, job: { graceSeconds: 3 }, jobs: [jobRun({ name: 'fresh', maxTasks: 1, rounds: 0 })] }).start();
  h.subscribed();
  h.advance(3000);
  h.update(h.status('old-r1-t1-x', 'TASK_KILLED'));
  assert.deepEqual(finished(h, 'old'), [[1, 0, 1, true]]);
  assert.deepEqual(h.notes('jobRemoved').map((n) => n.job), ['old']);
});

test('paused after the supervisor decided to start the job: the start is kept and runs once the job is resumed', () => {
  const schedule = { kind: 'every' as const, everyMs: 60_000, concurrency: 'allow' as const };
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer());
  assert.deepEqual(roundsStarted(h, 'tick'), [1]);
  // The supervisor decided to start an overlapping round; the pause reached the job first.
  h.send({ type: 'job.pause', job: 'tick' });
  jobOf(h, 'tick').send({ type: 'job.start', at: 1000 });
  assert.deepEqual(roundsStarted(h, 'tick'), [1], 'no round starts while paused');
  assert.deepEqual(supervisor(h).context.slots['tick']!.pendingStart, { at: 1000 }, 'the start is kept, not lost');
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'tick'));
  assert.equal(jobOf(h, 'tick').phase, 'paused');
  h.send({ type: 'job.resume', job: 'tick' });
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2], 'resumed: the kept start runs at once');
  assert.equal(persistedJob(h, 'tick')?.lastStartAt, 1000);
});

test('a scheduled job paused while idle waits in paused: its schedule\'s starts are kept (one) until resumed', () => {
  const schedule = { kind: 'every' as const, everyMs: 2000, concurrency: 'forbid' as const };
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer());
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'tick'));
  assert.equal(jobOf(h, 'tick').phase, 'idle');
  h.send({ type: 'job.pause', job: 'tick' });
  assert.equal(jobOf(h, 'tick').phase, 'paused');
  // Idle when the supervisor decided, paused when the start arrived: kept as well.
  jobOf(h, 'tick').send({ type: 'job.start', at: 1500 });
  h.advance(4000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1], 'no round while paused');
  assert.equal(h.notes('startSkipped').length, 0);
  h.send({ type: 'job.resume', job: 'tick' });
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2], 'one kept start runs on resume');
  h.offers(h.offer());
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'tick', 2));
  assert.equal(jobOf(h, 'tick').phase, 'idle', 'back on its schedule');
});

test('a start refused because the job started a round meanwhile (concurrency forbid) is skipped and counted', () => {
  const schedule = { kind: 'every' as const, everyMs: 60_000, concurrency: 'forbid' as const };
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule })] }).start();
  h.subscribed();
  h.advance(0);
  jobOf(h, 'tick').send({ type: 'job.start', at: 500 });
  assert.deepEqual(roundsStarted(h, 'tick'), [1]);
  assert.deepEqual(h.notes('startSkipped'), [{ type: 'startSkipped', job: 'tick', at: 500 }]);
  assert.equal(supervisor(h).context.slots['tick']!.pendingStart, undefined);
});
