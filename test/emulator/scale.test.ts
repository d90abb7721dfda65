/**
 * Scale mode: thousands of simulated agents, offers batched into one OFFERS
 * event, many short simulated tasks that end on their own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, autoAcknowledge, commandTask, eventually, post, subscribeCall } from './wire-client.js';

test('2000 simulated agents are offered in one event; 300 simulated tasks finish', async (t) => {
  const c = await withCluster(t, { agents: 2000, mode: 'simulated', simulatedTaskMs: 50, cpusPerAgent: 1, memPerAgent: 1024 });
  const url = c.leaderUrl()!;
  const sub = await Subscription.open(url, subscribeCall('bench', { failover_timeout: 60 }), { format: 'protobuf' });
  t.after(() => sub.close());
  autoAcknowledge(url, sub);
  const first = await sub.next('OFFERS', { timeoutMs: 15_000 });
  const offers = first.offers!.offers!;
  assert.equal(offers.length, 2000);
  const fw = { value: sub.frameworkId };
  // One ACCEPT per offer for the first 300; decline the rest in one call.
  await Promise.all(offers.slice(0, 300).map((o, i) => post(url, {
    type: 'ACCEPT', framework_id: fw,
    accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [commandTask(`t${i}`, o, 'true', {}, 1, 128)] } }] },
  }, { streamId: sub.streamId, format: 'protobuf' })));
  const declined = await post(url, { type: 'DECLINE', framework_id: fw, decline: { offer_ids: offers.slice(300).map((o) => o.id), filters: { refuse_seconds: 3600 } } }, { streamId: sub.streamId });
  assert.equal(declined.status, 202);
  await eventually(() => {
    const tasks = c.tasks();
    return tasks.length === 300 && tasks.every((x) => x.state === 'TASK_FINISHED') ? true : undefined;
  }, 30_000, 'all simulated tasks to finish');
  assert.ok(c.tasks().every((x) => x.endedAt !== undefined));
});
