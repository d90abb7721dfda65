/**
 * The supervisor (`--jobs`) inside the real framework machine, with fake
 * effects and xstate's SimulatedClock: shared offers, per-role REVIVE and
 * SUPPRESS, dependencies (Chronos's rule), schedules (every, cron in a time
 * zone across a daylight-saving change, waits longer than a timer holds),
 * concurrency, restore, and the exit status.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPromise } from 'xstate';
import type { FrameworkOutput, PersistedState } from '../../machines/contract.js';
import { MAX_TIMER_MS } from '../../machines/policy/schedule.js';
import { createHarness, finishAll, jobRun, type Harness } from './harness.js';

function launchedOf(h: Harness, job: string): string[] {
  return h.launchedTaskIds().filter((id) => id.startsWith(`${job}-r`));
}

function roundsStarted(h: Harness, job: string): number[] {
  return h.notes('roundStarted').filter((n) => n.job === job).map((n) => n.round);
}

test('a child runs after both parents succeed; one OFFERS event serves two jobs in one ACCEPT', async () => {
  const h = createHarness({
    jobs: [
      jobRun({ name: 'extract', maxTasks: 2, rounds: 1 }),
      jobRun({ name: 'fetch', maxTasks: 1, rounds: 1 }),
      jobRun({ name: 'load', maxTasks: 1, rounds: 1, after: ['extract', 'fetch'] }),
    ],
  }).start();
  h.subscribed();
  assert.deepEqual(roundsStarted(h, 'load'), [], 'the child waits for its parents');
  assert.ok(h.calls('REVIVE').length > 0);

  // One offer with room for everything: both parents launch from it, in one ACCEPT.
  h.offers(h.offer('agent-1', 4, 4096));
  const accepts = h.calls('ACCEPT');
  assert.equal(accepts.length, 1);
  assert.deepEqual(h.launchedTaskIds().map((id) => id.replace(/-abc$/, '')).sort(), ['extract-r1-t1', 'extract-r1-t2', 'fetch-r1-t1']);
  // Write-ahead: the tasks were persisted before the ACCEPT, each naming its job.
  const acceptAt = h.log.findIndex((e) => e.kind === 'call' && e.call.type === 'ACCEPT');
  const before = h.log.slice(0, acceptAt).flatMap((e) => (e.kind === 'persist' ? [e.state] : []));
  const written = new Set(before.flatMap((s) => s.jobs?.flatMap(() => s.tasks.map((t) => t.taskId)) ?? s.tasks.map((t) => t.taskId)));
  for (const id of h.launchedTaskIds()) assert.ok(written.has(id), `${id} written before the ACCEPT`);

  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'extract'));
  assert.deepEqual(roundsStarted(h, 'load'), [], 'one parent is not enough');
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'fetch'));
  assert.deepEqual(roundsStarted(h, 'load'), [1], 'both parents succeeded: the child starts');

  h.offers(h.offer('agent-1', 4, 4096));
  assert.equal(launchedOf(h, 'load').length, 1);
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'load'));
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 0, output.message);
  assert.equal(output.reason, 'completed');
  assert.equal(h.calls('TEARDOWN').length, 1);
});

test('a failed parent round does not start the child, and the exit status is 1 when a last round failed', async () => {
  const h = createHarness({
    jobs: [jobRun({ name: 'a', maxTasks: 1, rounds: 1 }), jobRun({ name: 'b', maxTasks: 1, rounds: 1, after: ['a'] })],
  }).start();
  h.subscribed();
  h.offers(h.offer());
  finishAll(h, 'TASK_FAILED', launchedOf(h, 'a'));
  assert.deepEqual(roundsStarted(h, 'b'), []);
  h.send({ type: 'framework.stop' });
  h.advance(20_000);
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 1, output.message);
});

test('every: 2s starts at once, then on the grid; a start while the round runs is skipped (forbid)', () => {
  const h = createHarness({
    now: 1_000_000,
    jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: { kind: 'every', everyMs: 2000, concurrency: 'forbid' } })],
  }).start();
  h.subscribed();
  h.advance(0);
  assert.deepEqual(roundsStarted(h, 'tick'), [1]);
  h.offers(h.offer());
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'tick'));
  assert.deepEqual(roundsStarted(h, 'tick'), [1], 'no round before the next start');
  h.advance(1999);
  assert.deepEqual(roundsStarted(h, 'tick'), [1]);
  h.advance(1);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  // Round 2 still runs at the next start: skipped, said, not queued.
  h.offers(h.offer());
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  assert.deepEqual(h.notes('startSkipped').map((n) => [n.job, n.at]), [['tick', 1_004_000]]);
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'tick').slice(1));
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2], 'the skipped start does not run later');
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2, 3]);
  // The persisted position: the grid's anchor and the last start.
  const entry = h.lastPersisted()?.jobs?.find((j) => j.name === 'tick');
  assert.equal(entry?.anchorAt, 1_000_000);
  assert.equal(entry?.lastStartAt, 1_006_000);
});

test('concurrency allow: a start while the round runs starts the next round at once (more in overlap.test.ts)', () => {
  const h = createHarness({
    now: 0,
    jobs: [jobRun({ name: 'tick', maxTasks: 1, rounds: 0, schedule: { kind: 'every', everyMs: 2000, concurrency: 'allow' } })],
  }).start();
  h.subscribed();
  h.advance(0);
  h.offers(h.offer());
  h.advance(2000);
  assert.deepEqual(roundsStarted(h, 'tick'), [1, 2]);
  assert.equal(h.notes('startSkipped').length, 0);
  h.offers(h.offer());
  finishAll(h);
  assert.deepEqual(h.notes('roundFinished').map((n) => n.round), [1, 2]);
});

test('cron in a time zone: 02:30 Europe/Berlin on the spring-forward day runs once at 03:00 CEST', () => {
  const now = Date.UTC(2026, 2, 28, 12, 0, 0); // Saturday before the change (29 March 2026)
  const h = createHarness({
    now,
    timing: { missedHeartbeats: 100_000 }, // the test sends no heartbeats through the night
    jobs: [jobRun({ name: 'nightly', maxTasks: 1, rounds: 0, schedule: { kind: 'cron', cron: '30 2 * * *', timezone: 'Europe/Berlin', concurrency: 'forbid' } })],
  }).start();
  h.subscribed();
  assert.deepEqual(roundsStarted(h, 'nightly'), [], 'a cron job waits for its time');
  const due = Date.UTC(2026, 2, 29, 1, 0, 0); // 03:00 CEST, the first valid time after the gap
  h.advance(due - now - 1);
  assert.deepEqual(roundsStarted(h, 'nightly'), []);
  h.advance(1);
  assert.deepEqual(roundsStarted(h, 'nightly'), [1]);
  h.offers(h.offer());
  finishAll(h);
  // The next day at 02:30 CEST (00:30 UTC).
  h.advance(Date.UTC(2026, 2, 30, 0, 30, 0) - due - 1);
  assert.deepEqual(roundsStarted(h, 'nightly'), [1]);
  h.advance(1);
  assert.deepEqual(roundsStarted(h, 'nightly'), [1, 2]);
});

test('a wait longer than a timer holds is chained, never fired at once', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 1);
  const h = createHarness({
    now,
    jobs: [jobRun({ name: 'yearly', maxTasks: 1, rounds: 0, schedule: { kind: 'cron', cron: '0 0 1 1 *', timezone: 'UTC', concurrency: 'forbid' } })],
  }).start();
  h.subscribed();
  const due = Date.UTC(2027, 0, 1);
  let left = due - now;
  assert.ok(left > 10 * MAX_TIMER_MS);
  // Each timer holds at most MAX_TIMER_MS: the wait is taken piece by piece.
  while (left > MAX_TIMER_MS) {
    h.advance(MAX_TIMER_MS);
    left -= MAX_TIMER_MS;
    assert.deepEqual(roundsStarted(h, 'yearly'), [], `${left} ms before the start`);
  }
  h.advance(left - 1);
  assert.deepEqual(roundsStarted(h, 'yearly'), []);
  h.advance(1);
  assert.deepEqual(roundsStarted(h, 'yearly'), [1]);
});

test('REVIVE and SUPPRESS per role: a role is suppressed only when no job of it wants offers', () => {
  const h = createHarness({
    jobs: [
      jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 1 }),
      jobRun({ name: 'b', role: 'batch', maxTasks: 1, rounds: 1 }),
      jobRun({ name: 'c', role: 'batch', maxTasks: 1, rounds: 1 }),
    ],
  }).start();
  h.subscribed();
  const roles = (type: 'REVIVE' | 'SUPPRESS') => h.calls(type).map((c) => (type === 'REVIVE' ? c.revive?.roles : c.suppress?.roles)?.join(','));
  assert.deepEqual(new Set(roles('REVIVE')), new Set(['etl', 'batch']));
  const etl = { ...h.offer('agent-1', 1, 256), allocation_info: { role: 'etl' } };
  h.offers(etl);
  assert.deepEqual(launchedOf(h, 'a').length, 1);
  assert.deepEqual(roles('SUPPRESS'), ['etl'], 'every etl task launched: etl suppressed, batch not');
  const batch = { ...h.offer('agent-1', 1, 256), allocation_info: { role: 'batch' } };
  h.offers(batch);
  assert.equal(launchedOf(h, 'b').length + launchedOf(h, 'c').length, 2);
  assert.deepEqual(roles('SUPPRESS'), ['etl', 'batch']);
  // Re-subscribing after a failover keeps both roles suppressed.
  h.lost();
  h.advance(60_000);
  assert.deepEqual(h.sub.input.suppressedRoles.sort(), ['batch', 'etl']);
});

test('an update of a task no job has is acknowledged and the task killed', () => {
  const h = createHarness({ jobs: [jobRun({ name: 'a', maxTasks: 1, rounds: 1 })] }).start();
  h.subscribed();
  h.update(h.status('gone-r1-t1-abc', 'TASK_RUNNING'));
  assert.equal(h.calls('ACKNOWLEDGE').length, 1);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), ['gone-r1-t1-abc']);
});

test('restored mid-graph: the running child keeps its task and consumed counts, nothing is relaunched', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-1', round: 1, completedRounds: 2, allFinished: true, phase: 'round',
    tasks: [{ taskId: 'c-r1-t1-old', agentId: 'agent-1', round: 1, index: 1, state: 'TASK_RUNNING', job: 'c' }],
    jobs: [
      { name: 'a', round: 1, completedRounds: 1, allFinished: true, phase: 'cooldown', successfulRounds: 1, lastRoundOk: true },
      { name: 'b', round: 1, completedRounds: 1, allFinished: true, phase: 'cooldown', successfulRounds: 1, lastRoundOk: true },
      { name: 'c', round: 1, completedRounds: 0, allFinished: true, phase: 'round', launchedInRound: 1, consumed: { a: 1, b: 1 } },
    ],
  };
  const h = createHarness({
    restored,
    jobs: [
      jobRun({ name: 'a', maxTasks: 1, rounds: 1 }),
      jobRun({ name: 'b', maxTasks: 1, rounds: 1 }),
      jobRun({ name: 'c', maxTasks: 1, rounds: 1, after: ['a', 'b'] }),
    ],
  }).start();
  h.subscribed();
  assert.deepEqual(h.calls('RECONCILE').flatMap((c) => c.reconcile?.tasks?.map((t) => t.task_id.value) ?? []), ['c-r1-t1-old']);
  h.offers(h.offer());
  assert.deepEqual(h.launchedTaskIds(), [], 'nothing relaunched: a and b are done, c has its task');
  h.update(h.status('c-r1-t1-old', 'TASK_FINISHED'));
  assert.equal(h.actor.getSnapshot().status, 'done');
  assert.equal((h.actor.getSnapshot().output as FrameworkOutput).exitCode, 0);
});

test('retries: a failed task is relaunched under a new id after its backoff; the round fails only when the retries are spent', async () => {
  const h = createHarness({
    jobs: [jobRun({ name: 'r', maxTasks: 1, rounds: 2, waitSeconds: 0, retries: { max: 2, backoffMs: 10_000, backoffMaxMs: 15_000 } })],
  }).start();
  h.subscribed();
  h.offers(h.offer());
  finishAll(h, 'TASK_FAILED', launchedOf(h, 'r'));
  const first = h.notes('taskRetry');
  assert.equal(first.length, 1);
  assert.equal(first[0]!.retry, 1);
  assert.ok(first[0]!.delayMs >= 8000 && first[0]!.delayMs <= 10_000, `backoff ${first[0]!.delayMs} ms (10 s less up to 20 % jitter)`);
  assert.equal(h.notes('taskEnded').length, 0, 'a task with retries left has not failed');
  h.offers(h.offer());
  assert.equal(launchedOf(h, 'r').length, 1, 'no relaunch before the backoff');
  h.advance(first[0]!.delayMs);
  h.offers(h.offer());
  assert.deepEqual(launchedOf(h, 'r').map((id) => id.replace(/-abc$/, '')), ['r-r1-t1', 'r-r1-t2'], 'relaunched under a new id');
  // Second failure: retry 2 of 2, the backoff doubles (capped at 15 s).
  finishAll(h, 'TASK_FAILED', launchedOf(h, 'r').slice(1));
  const second = h.notes('taskRetry')[1]!;
  assert.equal(second.retry, 2);
  assert.ok(second.delayMs >= 12_000 && second.delayMs <= 15_000, `backoff ${second.delayMs} ms`);
  h.advance(second.delayMs);
  h.offers(h.offer());
  assert.equal(launchedOf(h, 'r').length, 3);
  // The third failure spends the retries: the round fails.
  finishAll(h, 'TASK_FAILED', launchedOf(h, 'r').slice(2));
  assert.equal(h.notes('taskRetry').length, 2);
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 0, 1]]);
  // Round 2 succeeds on the second try: a success, the job's last round is fine.
  h.advance(0);
  h.offers(h.offer());
  finishAll(h, 'TASK_FAILED', launchedOf(h, 'r').slice(3));
  h.advance(h.notes('taskRetry')[2]!.delayMs);
  h.offers(h.offer());
  finishAll(h, 'TASK_FINISHED', launchedOf(h, 'r').slice(4));
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 0, 1], [2, 1, 0]]);
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 0, output.message);
});

test('retries: a task we kill on stop is never retried', async () => {
  const h = createHarness({
    jobs: [jobRun({ name: 'r', maxTasks: 1, rounds: 0, graceSeconds: 1, retries: { max: 3, backoffMs: 1000, backoffMaxMs: 1000 } })],
  }).start();
  h.subscribed();
  h.offers(h.offer());
  const [id] = launchedOf(h, 'r');
  h.update(h.status(id!, 'TASK_RUNNING'));
  h.send({ type: 'framework.stop' });
  h.advance(1000);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), [id]);
  h.update(h.status(id!, 'TASK_KILLED'));
  assert.equal(h.notes('taskRetry').length, 0);
  const output = (await toPromise(h.actor)) as FrameworkOutput;
  assert.equal(output.exitCode, 1, 'a round ended by our stop is not a success');
});

test('reload: an added job starts, a changed one takes the change from its next round, a removed one drains and is forgotten', () => {
  const h = createHarness({
    jobs: [
      jobRun({ name: 'stay', maxTasks: 1, rounds: 0, waitSeconds: 5 }),
      jobRun({ name: 'gone', maxTasks: 1, rounds: 0, graceSeconds: 2 }),
    ],
  }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  const [stayTask] = launchedOf(h, 'stay');
  const [goneTask] = launchedOf(h, 'gone');
  h.update(h.status(goneTask!, 'TASK_RUNNING'));
  h.send({ type: 'jobs.reload', jobs: [jobRun({ name: 'stay', maxTasks: 2, rounds: 0, waitSeconds: 5 }), jobRun({ name: 'new', maxTasks: 1, rounds: 1 })] });
  assert.deepEqual(h.notes('jobsReloaded').map(({ added, changed, removed }) => ({ added, changed, removed })), [{ added: ['new'], changed: ['stay'], removed: ['gone'] }]);
  assert.deepEqual(roundsStarted(h, 'new'), [1], 'the added job starts at once (subscribed)');
  // The removed job's task gets its grace, then is killed; then the job is forgotten.
  assert.equal(h.calls('KILL').length, 0);
  h.advance(2000);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), [goneTask]);
  h.update(h.status(goneTask!, 'TASK_KILLED'));
  assert.deepEqual(h.notes('jobRemoved').map((n) => n.job), ['gone']);
  assert.equal(h.notes('taskRetry').length, 0);
  // The changed job: its round in progress keeps 1 task; the next round has 2.
  finishAll(h, 'TASK_FINISHED', [stayTask!]);
  h.advance(5000);
  assert.deepEqual(roundsStarted(h, 'stay'), [1, 2]);
  assert.deepEqual(h.notes('roundStarted').filter((n) => n.job === 'stay').map((n) => n.tasks), [1, 2]);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.equal(launchedOf(h, 'stay').length, 3);
});

test('restored jobs the file no longer lists drain (grace, then kill) and are forgotten; the others carry on', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'etl', frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
    tasks: [{ taskId: 'old-r1-t1-x', agentId: 'agent-1', round: 1, index: 1, state: 'TASK_RUNNING', job: 'old' }],
    jobs: [{ name: 'old', round: 1, completedRounds: 0, allFinished: true, phase: 'round', launchedInRound: 1 }],
    jobsDigest: 'another',
  };
  const h = createHarness({ restored, job: { graceSeconds: 3 }, jobs: [jobRun({ name: 'fresh', maxTasks: 1, rounds: 1 })] }).start();
  h.subscribed();
  assert.deepEqual(roundsStarted(h, 'fresh'), [1]);
  assert.deepEqual(launchedOf(h, 'old'), []);
  h.advance(3000);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), ['old-r1-t1-x'], 'killed after the grace, not at once');
  h.update(h.status('old-r1-t1-x', 'TASK_KILLED'));
  assert.deepEqual(h.notes('jobRemoved').map((n) => n.job), ['old']);
});
