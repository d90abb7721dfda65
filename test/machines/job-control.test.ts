/**
 * The control API's events (machines/contract.ts JobControlEvent), through the
 * real framework machine: run now ends a cooldown; pause holds the job between
 * rounds until resume or run now; kill ends the round's tasks with a kill
 * policy of the grace and launches no more of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDeltasAddUp, createHarness, finishAll, type Harness } from './harness.js';
import type { PersistedState } from '../../machines/contract.js';

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

test('job.pause and job.resume are written to the state at once (the header\'s paused flag), each once', () => {
  const h = inCooldown();
  h.clearLog();
  h.send({ type: 'job.pause' });
  h.send({ type: 'job.pause' });
  assert.equal(h.persisted().length, 1, 'a second pause writes nothing');
  assert.equal(h.lastPersisted()?.paused, true);
  assert.equal(h.deltas().at(-1)?.header.paused, true);
  h.send({ type: 'job.resume' });
  assert.equal(h.persisted().length, 2);
  assert.equal('paused' in h.lastPersisted()!, false, 'written only while paused');
  assertDeltasAddUp(h);
});

/** Written in the cooldown after round 2, paused. */
const pausedInCooldown: PersistedState = {
  version: 1, frameworkName: 'etl', frameworkId: 'fw-old', round: 2, completedRounds: 2, allFinished: true, phase: 'cooldown',
  launchedInRound: 2, finishedInRound: 2, failedInRound: 0, tasks: [], paused: true,
};

test('restored paused in the cooldown: paused once subscribed, no round however long it waits, until job.resume', () => {
  const h = createHarness({ job: { maxTasks: 2, waitSeconds: 5, rounds: 0 }, restored: pausedInCooldown, now: 0 }).start();
  h.subscribed('fw-old');
  assert.equal(phase(h), 'paused');
  h.advance(3_600_000);
  h.offers(h.offer('agent-1', 4, 4096));
  assert.equal(phase(h), 'paused');
  assert.equal(h.notes('roundStarted').length, 0);
  assert.equal(h.calls('ACCEPT').length, 0);
  h.send({ type: 'job.resume' });
  assert.equal(phase(h), 'cooldown');
  h.advance(5_000);
  assert.deepEqual(h.notes('roundStarted').map((n) => n.round), [3]);
});

test('restored paused mid-round: the round carries on and ends in paused; paused before the first round: no round starts', () => {
  const midRound: PersistedState = {
    ...pausedInCooldown, round: 3, phase: 'round', launchedInRound: 2, finishedInRound: 1,
    tasks: [{ taskId: 'etl-r3-t2-old', agentId: 'agent-1', round: 3, index: 2, state: 'TASK_RUNNING' }],
  };
  const h = createHarness({ job: { maxTasks: 2, waitSeconds: 5, rounds: 0 }, restored: midRound }).start();
  h.subscribed('fw-old');
  h.update(h.status('etl-r3-t2-old', 'TASK_FINISHED'));
  assert.equal(phase(h), 'paused');
  assert.equal(h.lastPersisted()?.paused, true, 'the end of the round keeps the flag');

  const fresh = createHarness({ job: { maxTasks: 2, waitSeconds: 5, rounds: 0 }, restored: { ...pausedInCooldown, round: 0, completedRounds: 0, phase: 'round' } }).start();
  fresh.subscribed('fw-old');
  assert.equal(phase(fresh), 'paused');
  assert.equal(fresh.notes('roundStarted').length, 0);
  fresh.send({ type: 'job.runNow' });
  assert.deepEqual(fresh.notes('roundStarted').map((n) => n.round), [1]);
});
