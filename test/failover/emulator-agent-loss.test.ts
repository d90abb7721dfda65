/**
 * An emulator fidelity check the failover invariants depend on: when an agent
 * is lost, a task on it that has already ENDED (its terminal update delivered
 * but not yet acknowledged) keeps its terminal state at the master. Mesos'
 * Master::updateTask does not overwrite a terminal state ("If the task has
 * already transitioned to a terminal state, do not update its state"); the
 * master still forwards the TASK_LOST to the framework, which must ignore it.
 *
 * Found by the chaos run (seed 1, 20 s): the scheduler counted a round's tasks
 * finished while cluster.tasks() said TASK_LOST for two of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, acknowledge, commandTask, launch, subscribeCall, updateOf } from '../emulator/wire-client.js';

test('losing an agent keeps the terminal state of a task that ended there (update not yet acknowledged)', async (t) => {
  const c = await withCluster(t, { agents: 1, mode: 'simulated', simulatedTaskMs: 100 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('fw', { failover_timeout: 60 }));
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  const offer = (await sub.next('OFFERS')).offers!.offers![0]!;
  await launch(url, sub, [offer], [commandTask('t1', offer, 'true')]);
  // Acknowledge STARTING and RUNNING (the agent sends the next update only after that), not FINISHED.
  for (const state of ['TASK_STARTING', 'TASK_RUNNING']) {
    const u = (await updateOf(sub, 't1', state)).update!.status;
    await acknowledge(url, sub, u);
  }
  const finished = (await updateOf(sub, 't1', 'TASK_FINISHED')).update!.status;
  assert.ok(finished.uuid, 'agent update with uuid');
  assert.equal(c.tasks().find((x) => x.taskId === 't1')?.state, 'TASK_FINISHED');

  // TASK_FINISHED delivered, not acknowledged; now the agent is lost.
  c.faults.loseAgent(offer.agent_id.value);
  assert.equal(c.tasks().find((x) => x.taskId === 't1')?.state, 'TASK_FINISHED', 'a task that ended stays ended');
});
