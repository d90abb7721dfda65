/**
 * Random walks (seeded, reproducible) through the real machines with a
 * misbehaving world: failovers at any time, heartbeat loss, offers of random
 * sizes, duplicate / late / unknown / uuid-less updates, framework removal,
 * ACCEPTs that never reached the master.
 * After every step the invariants must hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDeltasAddUp, createHarness, type Harness } from './harness.js';
import { nextRandom, seedState } from '../../machines/policy/prng.js';
import type { TaskState, TaskStatus } from '../../src/mesos/types.js';

const STATES: TaskState[] = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_LOST', 'TASK_KILLED', 'TASK_UNREACHABLE'];

function walk(seed: number, steps: number) {
  let rng = seedState(seed);
  const rand = (): number => { const d = nextRandom(rng); rng = d.state; return d.value; };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const maxTasks = 1 + Math.floor(rand() * 4);
  const h = createHarness({ job: { maxTasks, rounds: 0, waitSeconds: 20, graceSeconds: 5, cpus: pick([0.1, 0.25, 0.5, 1]), memMb: 64 }, seed, timing: { reviveRepeatMs: 15_000 } }).start();
  const offered = new Set<string>();
  const uuidUpdates: string[] = [];
  let subscribed = false;
  let stopped = false;

  const check = (where: string) => {
    const snap = h.actor.getSnapshot();
    assert.deepEqual(h.errors, [], where);
    h.assertOneFrameworkId();
    const launched = h.launchedTaskIds();
    assert.equal(new Set(launched).size, launched.length, `${where}: duplicate launch`);
    const unlaunched = new Set(h.notes('taskUnlaunched').map((n) => n.taskId));
    const perRound = new Map<string, number>();
    for (const id of launched.filter((t) => !unlaunched.has(t))) { const r = /-r(\d+)-/.exec(id)?.[1] ?? '?'; perRound.set(r, (perRound.get(r) ?? 0) + 1); }
    for (const [round, n] of perRound) assert.ok(n <= maxTasks, `${where}: round ${round} launched ${n} > ${maxTasks}`);
    if (snap.status === 'active') {
      const job = h.jobSnapshot();
      assert.ok(job.context.active.size <= maxTasks, `${where}: too many alive`);
      assert.deepEqual(Object.keys(job.children), [], `${where}: tasks are data, no actors`);
      for (const [taskId, task] of job.context.active) {
        assert.equal(task.context.taskId, taskId, `${where}: a task is kept under its own id`);
        assert.equal(task.status, 'active', `${where}: an ended task is dropped in the step that ended it`);
      }
    }
    const answered = h.calls().flatMap((c) => [...(c.accept?.offer_ids ?? []), ...(c.decline?.offer_ids ?? [])].map((o) => o.value));
    assert.equal(new Set(answered).size, answered.length, `${where}: an offer answered twice`);
    assert.deepEqual(new Set(answered), offered, `${where}: every offer answered`);
    const acked = h.calls('ACKNOWLEDGE').map((c) => c.acknowledge?.uuid ?? '');
    assert.deepEqual(acked, uuidUpdates, `${where}: ACKs`);
    const gens = h.subscriptions.map((s) => s.input.generation);
    gens.forEach((g, i) => assert.equal(g, i + 1));
  };

  for (let step = 0; step < steps && h.actor.getSnapshot().status === 'active'; step++) {
    const value = JSON.stringify(h.value());
    subscribed = value.includes('"subscribed"');
    const subscribing = value.includes('"subscribing"');
    const r = rand();
    let what = '';
    if (subscribing && r < 0.5) { what = 'subscribed'; h.subscribed(h.actor.getSnapshot().context.frameworkId ?? `fw-${seed}-${step}`); }
    else if (r < 0.06) { what = 'lost'; h.lost(pick(['STREAM_ENDED', 'MESOS_NOT_LEADER', 'MESOS_NO_LEADER', 'MESOS_UNAVAILABLE'])); }
    else if (r < 0.08) { what = 'call.failed'; h.actor.send({ type: 'call.failed', generation: h.generation, error: { code: 'MESOS_UNSUBSCRIBED', message: '403' } }); }
    else if (r < 0.09 && subscribed) { what = 'stale'; h.actor.send({ type: 'conn.lost', generation: h.generation - 1, error: { code: 'STREAM_ENDED', message: 'old' } }); }
    else if (r < 0.095 && subscribed && !stopped) { what = 'removed'; h.emit({ type: 'mesos.error', message: 'Framework has been removed' }); }
    else if (r < 0.11 && h.calls('ACCEPT').length > 0) { what = 'unsent'; h.send({ type: 'call.unsent', call: pick(h.calls('ACCEPT')), reason: 'not sent' }); }
    else if (r < 0.25) { what = 'time'; h.advance(Math.floor(rand() * 40_000)); }
    else if (r < 0.45 && subscribed) {
      what = 'offers';
      const offers = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => h.offer(pick(['a1', 'a2', 'a3']), pick([0.05, 0.3, 0.5, 1, 2.5]), pick([32, 128, 1024])));
      for (const o of offers) offered.add(o.id.value);
      h.offers(...offers);
    } else if (r < 0.9 && subscribed) {
      what = 'update';
      const known = h.launchedTaskIds();
      const taskId = known.length > 0 && rand() < 0.9 ? pick(known) : `stranger-${Math.floor(rand() * 5)}`;
      const withUuid = rand() < 0.8;
      const status: TaskStatus = h.status(taskId, pick(STATES), { agent_id: { value: 'a1' } }, withUuid);
      const times = rand() < 0.2 ? 2 : 1; // duplicate delivery
      for (let i = 0; i < times; i++) {
        h.update(status);
        if (status.uuid !== undefined) uuidUpdates.push(status.uuid);
      }
    } else if (r < 0.905 && !stopped && step > steps / 2) { what = 'stop'; stopped = true; h.send({ type: 'framework.stop' }); }
    else { what = 'heartbeat'; if (subscribed) h.emit({ type: 'mesos.heartbeat' }); }
    check(`seed ${seed} step ${step} (${what})`);
  }
  assertDeltasAddUp(h);
  return h;
}

const totals = { unlaunched: 0, launched: 0, rounds: 0, failovers: 0, removals: 0, unknown: 0, stopped: 0 };
for (let seed = 1; seed <= 25; seed++) {
  test(`random walk, seed ${seed}: invariants hold at every step`, () => {
    const h: Harness = walk(seed, 500);
    totals.launched += h.launchedTaskIds().length;
    totals.unlaunched += h.notes('taskUnlaunched').length;
    totals.rounds += h.notes('roundFinished').length;
    totals.failovers += h.notes('disconnected').length;
    totals.removals += h.notes('frameworkRemoved').length;
    totals.unknown += h.notes('unknownTask').length;
    totals.stopped += h.actor.getSnapshot().status === 'done' ? 1 : 0;
  });
}

test('the walks exercised what they claim to', () => {
  assert.ok(totals.launched > 100, JSON.stringify(totals));
  assert.ok(totals.rounds > 20, JSON.stringify(totals));
  assert.ok(totals.failovers > 50, JSON.stringify(totals));
  assert.ok(totals.removals > 0, JSON.stringify(totals));
  assert.ok(totals.unknown > 10, JSON.stringify(totals));
  assert.ok(totals.stopped > 0, JSON.stringify(totals));
  assert.ok(totals.unlaunched > 5, JSON.stringify(totals));
});
