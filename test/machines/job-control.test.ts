/**
 * The control API's events (machines/contract.ts JobControlEvent), through the
 * real framework machine: run now ends a cooldown; pause holds the job between
 * rounds until resume or run now; kill ends the round's tasks with a kill
 * policy of the grace and launches no more of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, finishAll, type Harness } from './harness.js';

function phase(h: Harness): unknown {
  return (h.jobSnapshot().value as { active: { phase: unknown } }).active.phase;
}

/** Subscribed, round 1 launched on one offer and finished: in the cooldown. */
function inCooldown(wait = 60): Harness {
  const h = createHarness({ job: { maxTasks: 2, waitSeconds: wait, rounds: 0 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h);
  assert.equal(phase(h), 'cooldown');
  return h;
}

test('job.runNow in the cooldown starts the next round at once; in a round it changes nothing', () => {
  const h = inCooldown();
  h.send({ type: 'job.runNow' });
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  assert.deepEqual(h.notes('roundStarted').map((n) => n.round), [1, 2]);
  h.clearLog();
  h.send({ type: 'job.runNow' });
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  assert.equal(h.log.length, 0, 'nothing happened');
});

test('job.pause: the cooldown becomes paused (no round starts however long it waits); job.resume goes back to a cooldown', () => {
  const h = inCooldown(5);
  h.send({ type: 'job.pause' });
  assert.equal(phase(h), 'paused');
  h.advance(3_600_000);
  assert.equal(phase(h), 'paused');
  assert.equal(h.notes('roundStarted').length, 1);
  h.send({ type: 'job.resume' });
  assert.equal(phase(h), 'cooldown');
  h.advance(5_000);
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
});

test('job.pause during a round lets it finish, then holds; job.runNow while paused runs one round and pauses again', () => {
  const h = inCooldown();
  h.send({ type: 'job.runNow' });
  h.send({ type: 'job.pause' });
  h.offers(h.offer('agent-1', 4, 4096));
  assert.deepEqual(phase(h), { round: 'running' });
  finishAll(h, 'TASK_FINISHED', h.launchedTaskIds().slice(-2));
  assert.equal(phase(h), 'paused');
  assert.deepEqual(h.notes('roundFinished').map((n) => n.round), [1, 2]);
  assert.equal(h.calls('SUPPRESS').length >= 2, true, 'holds no offers while paused');
  h.send({ type: 'job.runNow' });
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FINISHED', h.launchedTaskIds().slice(-2));
  assert.equal(phase(h), 'paused', 'still paused after the round run by hand');
  h.send({ type: 'job.resume' });
  assert.equal(phase(h), 'cooldown');
});

test('job.kill KILLs the round\'s tasks with a kill policy of the grace, launches no more, and the round ends failed', () => {
  const h = createHarness({ job: { maxTasks: 3, graceSeconds: 7, waitSeconds: 60 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 4096)); // room for 2 of the 3 tasks
  const launched = h.launchedTaskIds();
  assert.equal(launched.length, 2);
  for (const id of launched) h.update(h.status(id, 'TASK_RUNNING'));
  h.clearLog();
  h.send({ type: 'job.kill' });
  const kills = h.calls('KILL');
  assert.deepEqual(kills.map((c) => c.kill?.task_id.value), launched);
  for (const call of kills) assert.deepEqual(call.kill?.kill_policy, { grace_period: { nanoseconds: 7e9 } });
  h.offers(h.offer('agent-2', 4, 4096));
  assert.equal(h.calls('ACCEPT').length, 0, 'no more tasks of the killed round are launched');
  for (const id of launched) h.update(h.status(id, 'TASK_KILLED', { source: 'SOURCE_EXECUTOR' }));
  assert.equal(phase(h), 'cooldown');
  assert.deepEqual(h.notes('roundFinished').map((n) => [n.round, n.finished, n.failed]), [[1, 0, 2]]);
});

test('job.kill outside a round, and job.resume when not paused, change nothing', () => {
  const h = inCooldown();
  h.clearLog();
  h.send({ type: 'job.kill' });
  h.send({ type: 'job.resume' });
  assert.equal(phase(h), 'cooldown');
  assert.equal(h.calls().length, 0);
  assert.equal(h.jobSnapshot().context.paused, false);
});
