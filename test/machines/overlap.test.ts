/**
 * `concurrency: allow` (`--jobs`): a start while a round runs starts the next
 * round at once, alongside; each round ends on its own (its own outcome and
 * notifications), `after:` children count each successful round, the bound
 * `max-in-flight` skips (and says so), and the state carries every round in
 * flight across a restart. The real framework and supervisor machines with
 * fake effects and xstate's SimulatedClock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import type { JobContext } from '../../machines/job/job.context.js';
import { assertDeltasAddUp, createHarness, finishAll, jobRun, type Harness } from './harness.js';

const every2s = (extra: { maxInFlight?: number } = {}) => ({ kind: 'every' as const, everyMs: 2000, concurrency: 'allow' as const, ...extra });

function launchedOf(h: Harness, job: string, round?: number): string[] {
  return h.launchedTaskIds().filter((id) => id.startsWith(round === undefined ? `${job}-r` : `${job}-r${round}-`));
}

function roundsStarted(h: Harness, job: string): number[] {
  return h.notes('roundStarted').filter((n) => n.job === job).map((n) => n.round);
}

/** The job actor's context and phase under the supervisor. */
function jobOf(h: Harness, name: string): { context: JobContext; phase: unknown } {
  const supervisor = h.actor.getSnapshot().children['job']!;
  const job = (supervisor.getSnapshot() as { children: Record<string, { getSnapshot(): unknown }> }).children[`job:${name}`]!;
  const snapshot = job.getSnapshot() as { context: JobContext; value: { active?: { phase?: unknown } } };
  return { context: snapshot.context, phase: snapshot.value.active?.phase };
}

/** The job's last persisted state (each job persists its own part; the runtime merges them). */
function persistedOf(h: Harness, name: string): PersistedState | undefined {
  return h.persisted().filter((s) => s.jobs?.[0]?.name === name).at(-1);
}

function persistedJob(h: Harness, name: string) {
  return persistedOf(h, name)?.jobs?.[0];
}

test('allow: a start while a round runs starts the next round at once; both run, each ends with its own outcome', () => {
  const h = createHarness({
    now: 0,
    jobs: [
      jobRun({ name: 'tick', maxTasks: 2, rounds: 0, schedule: every2s() }),
      jobRun({ name: 'load', maxTasks: 1, rounds: 0, after: ['tick'] }),
    ],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick'), ['tick-r1-t1-abc', 'tick-r1-t2-abc']);
  for (const id of launchedOf(h, 'tick', 1)) h.update(h.status(id, 'TASK_RUNNING'));

  // The next start comes while round 1 runs: round 2 starts at once, over it.
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  assert.deepEqual(h.notes('roundStarted').find((n) => n.round === 2)?.overlaps, [1]);
  assert.equal(h.notes('startSkipped').length, 0);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick', 2), ['tick-r2-t1-abc', 'tick-r2-t2-abc'], 'round 2 gets its own tasks (maxtasks per round), ids carry the round');
  assert.equal(jobOf(h, 'tick').context.active.size, 4, 'both rounds\' tasks are in flight');

  // The state carries both rounds in flight.
  const during = persistedJob(h, 'tick');
  assert.equal(during?.round, 2);
  assert.equal(during?.phase, 'round');
  assert.deepEqual(during?.earlierRounds, [{ round: 1, maxTasks: 2, launched: 2, finished: 0, failed: 0 }]);
  assert.deepEqual(persistedOf(h, 'tick')?.tasks.map((t) => t.taskId).sort(),
    ['tick-r1-t1-abc', 'tick-r1-t2-abc', 'tick-r2-t1-abc', 'tick-r2-t2-abc']);

  // Round 2 ends first, failed: its own outcome; round 1 still runs, so does the job.
  finishAll(h, 'TASK_FINISHED', ['tick-r2-t1-abc']);
  finishAll(h, 'TASK_FAILED', ['tick-r2-t2-abc']);
  assert.deepEqual(h.notes('roundFinished').filter((n) => n.job === 'tick'), [{ type: 'roundFinished', round: 2, finished: 1, failed: 1, job: 'tick' }]);
  assert.deepEqual(jobOf(h, 'tick').phase, { round: 'running' }, 'round 1 is still in flight');
  assert.deepEqual(roundsStarted(h, 'load'), [], 'a failed round does not count for the child');

  // Round 1 ends, succeeded; the child counts it.
  for (const id of launchedOf(h, 'tick', 1)) h.update(h.status(id, 'TASK_FINISHED'));
  assert.deepEqual(h.notes('roundFinished').filter((n) => n.job === 'tick').map((n) => [n.round, n.finished, n.failed]), [[2, 1, 1], [1, 2, 0]]);
  assert.equal(jobOf(h, 'tick').phase, 'idle');
  assert.equal(jobOf(h, 'tick').context.completedRounds, 2);
  assert.equal(jobOf(h, 'tick').context.successfulRounds, 1);
  assert.deepEqual(roundsStarted(h, 'load'), [1], 'the child runs after the parent\'s successful round');
  assert.equal(persistedJob(h, 'tick')?.earlierRounds, undefined);
  assertDeltasAddUp(h);
});

test('allow: the child runs once per successful round of its parent, also when the parent\'s rounds overlap', () => {
  const h = createHarness({
    now: 0,
    jobs: [
      jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: every2s() }),
      jobRun({ name: 'load', maxTasks: 1, rounds: 0, after: ['tick'] }),
    ],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick'), ['tick-r1-t1-abc', 'tick-r2-t1-abc']);
  finishAll(h, 'TASK_FINISHED', ['tick-r1-t1-abc']);
  assert.deepEqual(roundsStarted(h, 'load'), [1]);
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FINISHED', ['tick-r2-t1-abc']);
  assert.deepEqual(roundsStarted(h, 'load'), [1], 'the child still runs its round');
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'load'));
  assert.deepEqual(roundsStarted(h, 'load'), [1, 2], 'the parent\'s second success starts the child again');
});

test('allow: at most max-in-flight rounds at once; a start beyond is skipped, said and counted', () => {
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: every2s({ maxInFlight: 2 }) })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  assert.deepEqual(h.notes('startSkipped'), [{ type: 'startSkipped', job: 'tick', at: 4000, reason: 'max-in-flight', inFlight: 2 }]);
  finishAll(h, 'TASK_FINISHED', ['tick-r1-t1-abc']);
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2, 3], 'below the bound again: the next start overlaps round 2');
});

test('forbid still skips a start while the round runs, and counts it', () => {
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: { kind: 'every', everyMs: 2000, concurrency: 'forbid' } })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer());
  h.advance(2000);
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1]);
  assert.deepEqual(h.notes('startSkipped').map((n) => [n.at, n.reason]), [[2000, undefined], [4000, undefined]]);
});

test('allow: run now while a round runs starts an overlapping round; rounds given by `rounds` are not exceeded', () => {
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 2, schedule: { kind: 'every', everyMs: 60_000, concurrency: 'allow' } })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer());
  h.send({ type: 'job.runNow', job: 'tick' });
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  h.send({ type: 'job.runNow', job: 'tick' });
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2], 'two rounds is all the job runs');
  h.offers(h.offer());
  finishAll(h);
  assert.equal(h.actor.getSnapshot().status, 'done');
});

test('allow: a restart carries on every round in flight; an older state with one round still loads', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'jobs', frameworkId: 'fw-1', round: 2, completedRounds: 3, allFinished: true, phase: 'round',
    tasks: [
      { taskId: 'tick-r1-t1-old', agentId: 'agent-1', round: 1, index: 1, state: 'TASK_RUNNING', job: 'tick' },
      { taskId: 'tick-r2-t1-old', agentId: 'agent-1', round: 2, index: 1, state: 'TASK_RUNNING', job: 'tick' },
    ],
    jobs: [{
      name: 'tick', round: 2, completedRounds: 3, allFinished: true, phase: 'round', launchedInRound: 1, finishedInRound: 0, failedInRound: 0,
      earlierRounds: [{ round: 1, maxTasks: 2, launched: 2, finished: 1, failed: 0 }], lastStartAt: 0, anchorAt: 0,
    }],
  };
  const h = createHarness({ now: 1000, restored, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: every2s() })] }).start();
  h.subscribed();
  assert.deepEqual(h.calls('RECONCILE')[0]?.reconcile?.tasks?.map((t) => t.task_id.value).sort(), ['tick-r1-t1-old', 'tick-r2-t1-old']);
  assert.deepEqual(roundsStarted(h, 'tick'), [], 'both rounds resumed, none restarted');
  h.offers(h.offer());
  assert.deepEqual(h.launchedTaskIds(), [], 'nothing relaunched');
  h.update(h.status('tick-r1-t1-old', 'TASK_FINISHED'));
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 2, 0]]);
  h.update(h.status('tick-r2-t1-old', 'TASK_FAILED'));
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 2, 0], [2, 0, 1]]);
  assert.equal(jobOf(h, 'tick').phase, 'idle');
  assert.equal(jobOf(h, 'tick').context.completedRounds, 5);

  // A state written before rounds could overlap (no earlierRounds): its one round resumes as before.
  const old: PersistedState = {
    ...restored, tasks: [restored.tasks[1]!],
    jobs: [{ name: 'tick', round: 2, completedRounds: 3, allFinished: true, phase: 'round', launchedInRound: 1 }],
  };
  const h2 = createHarness({ now: 1000, restored: old, jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: every2s() })] }).start();
  h2.subscribed();
  h2.update(h2.status('tick-r2-t1-old', 'TASK_FINISHED'));
  assert.deepEqual(h2.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[2, 1, 0]]);
});

test('allow: a task of an earlier round is retried in its own round (new id, same round), which then ends on its own', () => {
  const h = createHarness({
    now: 0,
    jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: every2s(), retries: { max: 1, backoffMs: 10_000, backoffMaxMs: 10_000 } })],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick'), ['tick-r1-t1-abc', 'tick-r2-t1-abc']);
  // Round 1's task fails while round 2 runs: it is relaunched in round 1.
  finishAll(h, 'TASK_FAILED', ['tick-r1-t1-abc']);
  const retry = h.notes('taskRetry')[0]!;
  assert.equal(retry.round, 1);
  assert.deepEqual(persistedJob(h, 'tick')?.pendingRetryRounds, [1], 'the relaunch waits with its round in the state');
  assert.deepEqual(h.notes('roundFinished'), [], 'round 1 waits for its relaunch');
  h.advance(retry.delayMs);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(launchedOf(h, 'tick', 1), ['tick-r1-t1-abc', 'tick-r1-t2-abc'], 'relaunched under round 1\'s next index');
  assert.equal(jobOf(h, 'tick').context.taskRetries['tick-r1-t2-abc'], 1, 'the relaunch carries its chain\'s retries');
  finishAll(h, 'TASK_FINISHED', ['tick-r1-t2-abc']);
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 1, 0]]);
  assert.deepEqual(jobOf(h, 'tick').phase, { round: 'running' }, 'round 2 still runs');
});

test('allow: job.kill kills the tasks of every round in flight; each round ends failed', () => {
  const h = createHarness({ now: 0, jobs: [jobRun({ name: 'tick', maxTasks: 2, rounds: 0, schedule: every2s() })] }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer('agent-1', 4, 4096));
  h.advance(2000);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.equal(launchedOf(h, 'tick').length, 4);
  h.send({ type: 'job.kill', job: 'tick' });
  const killed = h.calls('KILL').map((c) => c.kill?.task_id.value);
  assert.deepEqual(killed.sort(), ['tick-r1-t1-abc', 'tick-r1-t2-abc', 'tick-r2-t1-abc', 'tick-r2-t2-abc']);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.equal(launchedOf(h, 'tick').length, 4, 'no more tasks of the killed rounds');
  for (const id of killed) h.update(h.status(id!, 'TASK_KILLED'));
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 0, 2], [2, 0, 2]]);
  assert.equal(jobOf(h, 'tick').phase, 'idle');
});
