/**
 * Rounds, offers, acknowledgements and accounting of the job machine, driven
 * through the real framework machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDeltasAddUp, createHarness, finishAll, type Harness } from './harness.js';
import type { Call } from '../../src/mesos/types.js';
import type { TaskInspection } from '../../machines/contract.js';
import { INSPECTED_TASKS_PER_ROUND } from '../../machines/index.js';

function jobValue(h: Harness): unknown {
  return (h.actor.getSnapshot().children['job']?.getSnapshot() as { value: unknown }).value;
}
function phase(h: Harness): unknown {
  return (jobValue(h) as { active: { phase: unknown } }).active.phase;
}

test('round 1: REVIVE, ACCEPT one LAUNCH per used offer with exact TaskInfos, then SUPPRESS', () => {
  const h = createHarness({ job: { maxTasks: 3, cpus: 0.5, memMb: 128, env: { K: 'v' }, uris: ['http://u/x'], image: 'busybox', containerizer: 'docker' } }).start();
  h.subscribed();
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  h.offers(h.offer('agent-1', 1, 256), h.offer('agent-2', 4, 4096));
  const accepts = h.calls('ACCEPT');
  assert.equal(accepts.length, 2);
  const [a1, a2] = accepts as [Call, Call];
  assert.deepEqual(a1.accept?.offer_ids, [{ value: 'offer-1' }]);
  assert.equal(a1.accept?.operations?.length, 1);
  assert.equal(a1.accept?.operations?.[0]?.type, 'LAUNCH');
  // Every wanted task is placed by this event: what is left of the offers is refused for long.
  assert.deepEqual(a1.accept?.filters, { refuse_seconds: 3600 });
  const t1 = a1.accept?.operations?.[0]?.launch?.task_infos?.[0];
  assert.deepEqual(t1, {
    name: 'etl',
    task_id: { value: 'etl-r1-t1-abc' },
    agent_id: { value: 'agent-1' },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: '*' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: '*' },
    ],
    command: { shell: true, value: 'echo hi', environment: { variables: [{ name: 'K', type: 'VALUE', value: 'v' }] }, uris: [{ value: 'http://u/x' }] },
    container: { type: 'DOCKER', docker: { image: 'busybox', network: 'BRIDGE', force_pull_image: true } },
  });
  assert.deepEqual(h.launchedTaskIds(), ['etl-r1-t1-abc', 'etl-r1-t2-abc', 'etl-r1-t3-abc']);
  assert.equal(a2.accept?.operations?.[0]?.launch?.task_infos?.length, 1, 'only what is wanted');
  assert.deepEqual(h.calls().map((c) => c.type), ['REVIVE', 'ACCEPT', 'ACCEPT', 'SUPPRESS']);
  assert.deepEqual(phase(h), { round: 'running' });
  assert.deepEqual(h.notes('taskLaunched').map((n) => [n.taskId, n.agentId, n.round]), [
    ['etl-r1-t1-abc', 'agent-1', 1], ['etl-r1-t2-abc', 'agent-1', 1], ['etl-r1-t3-abc', 'agent-2', 1],
  ]);
  assert.equal(h.notes('suppressed').length, 1);
  assert.equal(h.notes('revived').length, 1);
});

test('write-ahead: the tasks are persisted as PENDING_LAUNCH before the ACCEPT goes out', () => {
  const h = createHarness({ job: { maxTasks: 2 } }).start();
  h.subscribed();
  h.clearLog();
  h.offers(h.offer('agent-1', 4, 4096));
  const persistIndex = h.log.findIndex((e) => e.kind === 'persist');
  const acceptIndex = h.log.findIndex((e) => e.kind === 'call' && e.call.type === 'ACCEPT');
  assert.ok(persistIndex >= 0 && persistIndex < acceptIndex, `persist at ${persistIndex}, accept at ${acceptIndex}`);
  const state = h.log[persistIndex];
  assert.equal(state?.kind, 'persist');
  if (state?.kind === 'persist') {
    assert.deepEqual(state.state.tasks.map((t) => [t.taskId, t.state, t.agentId, t.round, t.index]), [
      ['etl-r1-t1-abc', 'PENDING_LAUNCH', 'agent-1', 1, 1], ['etl-r1-t2-abc', 'PENDING_LAUNCH', 'agent-1', 1, 2],
    ]);
    assert.equal(state.state.launchedInRound, 2);
    assert.equal(state.state.frameworkId, 'fw-1');
    assert.equal(state.state.phase, 'round');
  }
});

test('the unused offers are declined before the write-ahead persist and the ACCEPTs (a DECLINE waits for no write)', () => {
  const h = createHarness({ job: { maxTasks: 1 } }).start();
  h.subscribed();
  h.clearLog();
  h.offers(h.offer('agent-1', 4, 4096), h.offer('agent-2', 4, 4096));
  const kinds = h.log.flatMap((e) => (e.kind === 'persist' ? ['persist'] : e.kind === 'call' ? [e.call.type ?? '?'] : []));
  assert.deepEqual(kinds.slice(0, 3), ['DECLINE', 'persist', 'ACCEPT']);
  assert.deepEqual(h.calls('DECLINE')[0]?.decline?.offer_ids, [{ value: 'offer-2' }]);
});

test('offers that fit nothing are declined at once with the short filter while tasks are wanted', () => {
  const h = createHarness({ job: { maxTasks: 2, cpus: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('a', 0.5, 4096), h.offer('b', 1, 4096));
  assert.deepEqual(h.calls('ACCEPT').map((c) => [c.accept?.offer_ids, c.accept?.filters]), [[[{ value: 'offer-2' }], { refuse_seconds: 5 }]]);
  assert.deepEqual(h.calls('DECLINE'), [{ type: 'DECLINE', decline: { offer_ids: [{ value: 'offer-1' }], filters: { refuse_seconds: 5 } } }]);
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  h.offers(h.offer('c', 8, 8192), h.offer('d', 8, 8192));
  // The last task placed: the unused rest and the spare offer get the long (idle) filter.
  assert.deepEqual(h.calls('ACCEPT').at(-1)?.accept?.filters, { refuse_seconds: 3600 });
  assert.deepEqual(h.calls('DECLINE').at(-1), { type: 'DECLINE', decline: { offer_ids: [{ value: 'offer-4' }], filters: { refuse_seconds: 3600 } } });
});

test('never more than maxTasks per round: offers while running are declined and SUPPRESS is re-sent', () => {
  const h = createHarness({ job: { maxTasks: 2 } }).start();
  h.subscribed();
  h.offers(h.offer('a', 8, 8192));
  assert.equal(h.launchedTaskIds().length, 2);
  h.offers(h.offer('b', 8, 8192), h.offer('c', 8, 8192));
  assert.equal(h.launchedTaskIds().length, 2);
  assert.deepEqual(h.calls('DECLINE').at(-1), { type: 'DECLINE', decline: { offer_ids: [{ value: 'offer-2' }, { value: 'offer-3' }], filters: { refuse_seconds: 3600 } } });
  assert.equal(h.calls('SUPPRESS').length, 2, 'suppressed on entering running, again on the stray offers');
  h.update(h.status('etl-r1-t1-abc', 'TASK_FINISHED'));
  h.offers(h.offer('d', 8, 8192));
  assert.equal(h.launchedTaskIds().length, 2, 'a finished task does not free a slot in the same round');
});

test('every offer is answered exactly once', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 0, waitSeconds: 1 } }).start();
  h.subscribed();
  const offered: string[] = [];
  for (let i = 0; i < 30; i++) {
    const batch = [h.offer('a', (i % 4) * 0.5, 512), h.offer('b', 1, 64)];
    offered.push(...batch.map((o) => o.id.value));
    h.offers(...batch);
    if (i % 5 === 4) { finishAll(h, 'TASK_FINISHED', h.launchedTaskIds().slice(-3)); h.advance(1000); }
  }
  const answered = h.calls().flatMap((c) => [...(c.accept?.offer_ids ?? []), ...(c.decline?.offer_ids ?? [])].map((o) => o.value));
  assert.deepEqual([...answered].sort(), [...offered].sort());
});

test('no offer for reviveRepeatMs while tasks are wanted: REVIVE again; an offer restarts the wait', () => {
  const h = createHarness({ job: { maxTasks: 2, cpus: 1 }, timing: { reviveRepeatMs: 10_000 } }).start();
  h.subscribed();
  assert.equal(h.calls('REVIVE').length, 1);
  h.advance(9_999);
  assert.equal(h.calls('REVIVE').length, 1);
  h.advance(1);
  assert.equal(h.calls('REVIVE').length, 2);
  h.advance(5_000);
  h.offers(h.offer('a', 1, 512));
  h.advance(9_999);
  assert.equal(h.calls('REVIVE').length, 2, 'the offer reset the timer');
  h.advance(1);
  assert.equal(h.calls('REVIVE').length, 3);
  h.offers(h.offer('b', 1, 512));
  h.advance(100_000);
  assert.equal(h.calls('REVIVE').length, 3, 'no REVIVE once every task is launched');
});

test('every update with a uuid is acknowledged, echoing agent, task and uuid, once per delivery; none without uuid', () => {
  const h = createHarness({ job: { maxTasks: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 512));
  const id = 'etl-r1-t1-abc';
  const running = h.status(id, 'TASK_RUNNING', { uuid: 'dXVpZC0xMjM0NTY3ODkwMTI=' });
  h.update(running);
  h.update(running); // the agent re-sends until ACKed: ACK each delivery
  h.update(h.status(id, 'TASK_RUNNING', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  const acks = h.calls('ACKNOWLEDGE');
  assert.deepEqual(acks, [
    { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'agent-1' }, task_id: { value: id }, uuid: 'dXVpZC0xMjM0NTY3ODkwMTI=' } },
    { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'agent-1' }, task_id: { value: id }, uuid: 'dXVpZC0xMjM0NTY3ODkwMTI=' } },
  ]);
  assert.deepEqual(h.notes('acknowledged'), [{ type: 'acknowledged', taskId: id, state: 'TASK_RUNNING' }, { type: 'acknowledged', taskId: id, state: 'TASK_RUNNING' }]);
  assert.deepEqual(h.notes('taskState').map((n) => n.state), ['TASK_RUNNING'], 'duplicates change nothing');
});

test('a terminal update is persisted before its ACK; a non-terminal one is ACKed at once, marked independent of writes', () => {
  const h = createHarness({ job: { maxTasks: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 512));
  const id = 'etl-r1-t1-abc';
  const effects = () => h.log.filter((e) => e.kind !== 'notify').map((e) => (e.kind === 'call' ? `${e.call.type}${e.independent ? ' (independent)' : ''}` : e.kind));

  h.clearLog();
  h.update(h.status(id, 'TASK_RUNNING'));
  assert.deepEqual(effects(), ['ACKNOWLEDGE (independent)'], 'a restart learns RUNNING by reconciliation: no write needed');

  h.clearLog();
  h.update(h.status(id, 'TASK_FINISHED'));
  // One write records the end (the task leaves, the round's counters move), then the ACK; the round's end follows.
  assert.deepEqual(effects().slice(0, 2), ['persist', 'ACKNOWLEDGE']);
  assert.deepEqual(h.persisted()[0]?.tasks, [], 'the task is counted and forgotten on disk before its ACK');
  assert.equal(h.persisted()[0]?.finishedInRound, 1);
  assert.deepEqual(h.deltas()[0]?.remove, [id]);
  assert.deepEqual(h.deltas()[0]?.upsert, []);
});

test('unknown tasks: reported, ACKed if they carry a uuid, killed if still alive', () => {
  const h = createHarness({ job: { maxTasks: 1 } }).start();
  h.subscribed();
  h.update(h.status('stranger-1', 'TASK_RUNNING', { agent_id: { value: 'agent-7' } }));
  h.update(h.status('stranger-2', 'TASK_FINISHED', { agent_id: { value: 'agent-7' } }));
  h.update(h.status('stranger-3', 'TASK_STAGING', { agent_id: { value: 'agent-8' } }, false));
  assert.deepEqual(h.notes('unknownTask'), [
    { type: 'unknownTask', taskId: 'stranger-1', state: 'TASK_RUNNING' },
    { type: 'unknownTask', taskId: 'stranger-2', state: 'TASK_FINISHED' },
    { type: 'unknownTask', taskId: 'stranger-3', state: 'TASK_STAGING' },
  ]);
  assert.deepEqual(h.calls('KILL'), [
    { type: 'KILL', kill: { task_id: { value: 'stranger-1' }, agent_id: { value: 'agent-7' } } },
    { type: 'KILL', kill: { task_id: { value: 'stranger-3' }, agent_id: { value: 'agent-8' } } },
  ]);
  assert.deepEqual(h.calls('ACKNOWLEDGE').map((c) => c.acknowledge?.task_id.value), ['stranger-1', 'stranger-2']);
});

test('round accounting is exact: FINISHED vs anything else, duplicates and late updates not double counted', () => {
  const h = createHarness({ job: { maxTasks: 4, rounds: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 8, 8192));
  const [a, b, c, d] = h.launchedTaskIds() as [string, string, string, string];
  h.update(h.status(a, 'TASK_STAGING'));
  h.update(h.status(a, 'TASK_STARTING'));
  h.update(h.status(a, 'TASK_RUNNING'));
  h.update(h.status(a, 'TASK_FINISHED'));
  h.update(h.status(a, 'TASK_FINISHED')); // duplicate delivery
  h.update(h.status(b, 'TASK_FAILED', { reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3' }));
  h.update(h.status(c, 'TASK_LOST', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  assert.deepEqual(h.notes('roundFinished'), []);
  h.update(h.status(d, 'TASK_UNREACHABLE', {}, false));
  assert.deepEqual(h.notes('roundFinished'), [], 'unreachable is awaited, not counted');
  h.update(h.status(d, 'TASK_RUNNING'));
  h.update(h.status(d, 'TASK_FINISHED'));
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 1, finished: 2, failed: 2 }]);
  assert.deepEqual(h.notes('taskEnded').map((n) => [n.taskId, n.state, n.ok]), [
    [a, 'TASK_FINISHED', true], [b, 'TASK_FAILED', false], [c, 'TASK_LOST', false], [d, 'TASK_FINISHED', true],
  ]);
  assert.equal(h.notes('taskEnded')[1]?.reason, 'REASON_COMMAND_EXECUTOR_FAILED');
  assert.equal(h.notes('taskEnded')[1]?.message, 'exit 3');
  // All rounds done with failures: TEARDOWN, exit 1.
  assert.equal(h.value(), 'completed');
  assert.equal(h.calls('TEARDOWN').length, 1);
  assert.deepEqual(h.actor.getSnapshot().output, { exitCode: 1, reason: 'completed', message: '1 round(s) completed, some tasks did not finish' });
});

test('cooldown between rounds: SUPPRESSed, no resources held, next round after waitSeconds', () => {
  const h = createHarness({ job: { maxTasks: 1, rounds: 3, waitSeconds: 30 } }).start();
  h.subscribed();
  h.offers(h.offer());
  finishAll(h);
  assert.equal(phase(h), 'cooldown');
  assert.deepEqual(h.notes('cooldown'), [{ type: 'cooldown', round: 1, seconds: 30 }]);
  const cooldownState = h.lastPersisted();
  assert.equal(cooldownState?.phase, 'cooldown');
  assert.equal(cooldownState?.completedRounds, 1);
  assert.deepEqual(cooldownState?.tasks, []);
  h.offers(h.offer('x'));
  assert.deepEqual(h.calls('DECLINE').at(-1)?.decline?.filters, { refuse_seconds: 3600 });
  assert.equal(h.calls('ACCEPT').length, 1);
  h.advance(29_999);
  assert.equal(phase(h), 'cooldown');
  h.advance(1);
  assert.deepEqual(phase(h), { round: { launching: 'awaitingOffers' } });
  assert.deepEqual(h.notes('roundStarted').map((n) => n.round), [1, 2]);
  assert.equal(h.calls().at(-1)?.type, 'REVIVE');
  h.offers(h.offer());
  assert.deepEqual(h.launchedTaskIds(), ['etl-r1-t1-abc', 'etl-r2-t1-abc']);
});

test('all rounds done: TEARDOWN and exit 0 when every task of every round finished', () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 2, waitSeconds: 5 } }).start();
  h.subscribed();
  h.offers(h.offer('a', 4, 4096));
  finishAll(h);
  h.advance(5_000);
  h.offers(h.offer('a', 4, 4096));
  finishAll(h, 'TASK_FINISHED', h.launchedTaskIds().slice(2));
  assert.equal(h.value(), 'completed');
  assert.equal(h.calls().at(-1)?.type, 'TEARDOWN');
  assert.deepEqual(h.actor.getSnapshot().output, { exitCode: 0, reason: 'completed', message: '2 round(s) completed, every task finished' });
  assert.equal(h.lastPersisted()?.completedRounds, 2);
  assert.equal(h.sub.disposed, true);
});

test('rounds = 0 runs forever; memory stays flat: no finished task is kept', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 0, waitSeconds: 1 } }).start();
  h.subscribed();
  for (let round = 1; round <= 150; round++) {
    h.offers(h.offer('a', 8, 8192));
    const ids = h.launchedTaskIds().slice(-3);
    assert.equal(ids.length, 3);
    assert.ok(ids.every((id) => id.includes(`-r${round}-`)));
    finishAll(h, round % 10 === 0 ? 'TASK_FAILED' : 'TASK_FINISHED', ids);
    const job = h.actor.getSnapshot().children['job']?.getSnapshot() as { context: { active: { size: number }; reconcileRemaining: object }; children: object };
    assert.equal(job.context.active.size, 0);
    assert.equal(Object.keys(job.children).length, 0, 'tasks are data: no actors');
    h.advance(1000);
    h.clearLog(); // the test's own log, not the machine's memory
  }
  assert.equal(h.actor.getSnapshot().status, 'active');
  const job = h.actor.getSnapshot().children['job']?.getSnapshot() as { context: { round: number; completedRounds: number; allFinished: boolean } };
  assert.equal(job.context.round, 151);
  assert.equal(job.context.completedRounds, 150);
  assert.equal(job.context.allFinished, false);
});

test('tasks are data: one task machine snapshot per task in flight, dropped in the step that ends it', () => {
  const h = createHarness({ job: { maxTasks: 3 } }).start();
  h.subscribed();
  h.offers(h.offer('a', 8, 8192));
  const tasks = () => h.jobSnapshot().context.active;
  assert.deepEqual([...tasks().keys()], ['etl-r1-t1-abc', 'etl-r1-t2-abc', 'etl-r1-t3-abc']);
  assert.deepEqual([...tasks().values()].map((t) => t.value), [{ alive: 'launched' }, { alive: 'launched' }, { alive: 'launched' }]);
  assert.deepEqual(Object.keys(h.jobSnapshot().children), [], 'no task actors');
  h.update(h.status('etl-r1-t1-abc', 'TASK_RUNNING'));
  assert.deepEqual(tasks().get('etl-r1-t1-abc')?.value, { alive: 'running' });
  h.update(h.status('etl-r1-t2-abc', 'TASK_KILLED'));
  assert.deepEqual([...tasks().keys()], ['etl-r1-t1-abc', 'etl-r1-t3-abc']);
  assert.deepEqual(h.notes('taskEnded').map((n) => [n.taskId, n.state, n.ok]), [['etl-r1-t2-abc', 'TASK_KILLED', false]]);
});

test('every persist carries its delta: launch upserts PENDING_LAUNCH tasks, an end removes its task, rounds and ids touch the header only', () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 2, waitSeconds: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  const launch = h.deltas().find((d) => d.upsert.length > 0);
  assert.deepEqual(launch?.upsert, [
    { taskId: 'etl-r1-t1-abc', round: 1, index: 1, state: 'PENDING_LAUNCH', agentId: 'agent-1' },
    { taskId: 'etl-r1-t2-abc', round: 1, index: 2, state: 'PENDING_LAUNCH', agentId: 'agent-1' },
  ]);
  assert.equal(launch?.header.launchedInRound, 2);
  finishAll(h);
  h.advance(1000);
  h.offers(h.offer('agent-1', 4, 4096));
  finishAll(h, 'TASK_FAILED', h.launchedTaskIds().slice(2));
  const kinds = h.deltas().map((d) => (d.upsert.length > 0 ? `+${d.upsert.length}` : d.remove.length > 0 ? `-${d.remove.join(',')}` : `header(${d.header.phase} ${d.header.round})`));
  assert.deepEqual(kinds, [
    'header(round 0)', 'header(round 1)', '+2', '-etl-r1-t1-abc', '-etl-r1-t2-abc', 'header(cooldown 1)',
    'header(round 2)', '+2', '-etl-r2-t1-abc', '-etl-r2-t2-abc', 'header(cooldown 2)',
  ]);
  assertDeltasAddUp(h);
});

test('an ACCEPT that never reached the master: its tasks leave the round uncounted, and the planner launches as many again under new ids', () => {
  const h = createHarness({ job: { maxTasks: 3, rounds: 1, cpus: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 2, 4096), h.offer('agent-2', 1, 4096));
  assert.deepEqual(jobValue(h), { active: { link: 'online', phase: { round: 'running' }, reconciliation: 'idle', retry: 'idle', sweep: 'watching' } });
  const [first, second] = h.calls('ACCEPT') as [Call, Call];
  assert.deepEqual(h.launchedTaskIds(), ['etl-r1-t1-abc', 'etl-r1-t2-abc', 'etl-r1-t3-abc']);
  h.update(h.status('etl-r1-t3-abc', 'TASK_RUNNING', { agent_id: { value: 'agent-2' } }));
  h.clearLog();

  h.send({ type: 'call.unsent', call: first, reason: 'the subscription ended before it was sent' });
  assert.deepEqual(h.notes('taskUnlaunched'), [
    { type: 'taskUnlaunched', taskId: 'etl-r1-t1-abc', round: 1, reason: 'the subscription ended before it was sent' },
    { type: 'taskUnlaunched', taskId: 'etl-r1-t2-abc', round: 1, reason: 'the subscription ended before it was sent' },
  ]);
  assert.deepEqual(h.notes('taskEnded'), [], 'not failures');
  assert.deepEqual(h.deltas().map((d) => [d.remove, d.header.launchedInRound, d.header.failedInRound]), [[['etl-r1-t1-abc', 'etl-r1-t2-abc'], 1, 0]]);
  assert.deepEqual([...h.jobSnapshot().context.active.keys()], ['etl-r1-t3-abc']);
  assert.deepEqual(jobValue(h), { active: { link: 'online', phase: { round: { launching: 'awaitingOffers' } }, reconciliation: 'idle', retry: 'idle', sweep: 'watching' } });
  assert.deepEqual(h.calls('REVIVE').length, 1, 'back to launching: REVIVE');

  // A task the master did see is not taken back by a later call.unsent for its ACCEPT.
  h.send({ type: 'call.unsent', call: second, reason: '403' });
  assert.deepEqual([...h.jobSnapshot().context.active.keys()], ['etl-r1-t3-abc']);

  h.offers(h.offer('agent-3', 4, 4096));
  assert.deepEqual(h.launchedTaskIds(), ['etl-r1-t4-abc', 'etl-r1-t5-abc'], 'new task ids');
  finishAll(h, 'TASK_FINISHED', ['etl-r1-t3-abc', 'etl-r1-t4-abc', 'etl-r1-t5-abc']);
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 1, finished: 3, failed: 0 }]);
  assert.equal(h.value(), 'completed');
  assert.equal(h.actor.getSnapshot().output?.exitCode, 0, 'a clean job exits 0');
});

test('call.unsent of anything but an ACCEPT, or for tasks already gone, changes nothing', () => {
  const h = createHarness({ job: { maxTasks: 1 } }).start();
  h.subscribed();
  h.offers(h.offer());
  const [accept] = h.calls('ACCEPT') as [Call];
  h.update(h.status('etl-r1-t1-abc', 'TASK_FAILED'));
  h.clearLog();
  h.send({ type: 'call.unsent', call: accept, reason: 'late' });
  h.send({ type: 'call.unsent', call: { type: 'REVIVE', revive: { roles: ['*'] } }, reason: 'no subscription' });
  assert.deepEqual(h.log, []);
});

test('tasks stepped are shown to the inspector, the first INSPECTED_TASKS_PER_ROUND of each round only', () => {
  const seen: TaskInspection[] = [];
  const h = createHarness({ job: { maxTasks: INSPECTED_TASKS_PER_ROUND + 5, cpus: 0.01, memMb: 1 }, inspectTask: (step) => seen.push(step) }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 10, 10_000));
  assert.equal(h.launchedTaskIds().length, INSPECTED_TASKS_PER_ROUND + 5);
  assert.equal(seen.length, INSPECTED_TASKS_PER_ROUND);
  assert.deepEqual(seen[0], {
    taskId: 'etl-r1-t1-abc', round: 1, index: 1, event: { type: 'xstate.init' },
    snapshot: { value: { alive: 'launched' }, status: 'active', context: { taskId: 'etl-r1-t1-abc', round: 1, index: 1, agentId: 'agent-1', state: 'LAUNCHED', sweep: 0 } },
  });
  h.update(h.status('etl-r1-t1-abc', 'TASK_FINISHED'));
  h.update(h.status(`etl-r1-t${INSPECTED_TASKS_PER_ROUND + 1}-abc`, 'TASK_FINISHED'));
  const last = seen.at(-1);
  assert.equal(seen.length, INSPECTED_TASKS_PER_ROUND + 1);
  assert.equal(last?.event.type, 'task.status');
  assert.equal(last?.snapshot.value, 'finished');
  assert.equal(last?.snapshot.status, 'done');
  assert.deepEqual(last?.snapshot.output, { state: 'TASK_FINISHED', ok: true, reached: true });
});

test('no duplicate launch across a failover in the middle of a round\'s launches', () => {
  const h = createHarness({ job: { maxTasks: 3, cpus: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('a', 1, 512));
  h.lost();
  h.advance(500);
  h.subscribed();
  assert.deepEqual(h.calls('REVIVE').length, 2, 'REVIVE again after re-subscribing while launching');
  h.offers(h.offer('b', 8, 8192));
  assert.deepEqual(h.launchedTaskIds(), ['etl-r1-t1-abc', 'etl-r1-t2-abc', 'etl-r1-t3-abc']);
  assert.equal(new Set(h.launchedTaskIds()).size, 3);
});

test('after re-subscribing in cooldown the role is subscribed suppressed', () => {
  const h = createHarness({ job: { maxTasks: 1, role: 'etl' } }).start();
  assert.deepEqual(h.sub.input.suppressedRoles, []);
  h.subscribed();
  h.offers(h.offer());
  finishAll(h);
  h.lost();
  h.advance(500);
  assert.deepEqual(h.sub.input.suppressedRoles, ['etl']);
  assert.deepEqual(h.calls('SUPPRESS').at(-1), { type: 'SUPPRESS', suppress: { roles: ['etl'] } });
  h.subscribed();
  h.advance(60_000);
  assert.deepEqual(h.calls('REVIVE').at(-1), { type: 'REVIVE', revive: { roles: ['etl'] } });
});

test('explicit reconciliation after re-subscribing, retried with truncated exponential backoff until every task is heard of', () => {
  const h = createHarness({ job: { maxTasks: 2 }, timing: { reconcileInitialMs: 1000, reconcileMaxMs: 4000 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  const [a, b] = h.launchedTaskIds() as [string, string];
  assert.equal(h.calls('RECONCILE').length, 0, 'nothing to reconcile on the very first subscription');
  h.update(h.status(a, 'TASK_RUNNING'));
  h.lost();
  h.advance(500);
  h.subscribed();
  const expect = (ids: string[]) => ({ type: 'RECONCILE', reconcile: { tasks: ids.map((id) => ({ task_id: { value: id }, agent_id: { value: 'agent-1' } })) } });
  assert.deepEqual(h.calls('RECONCILE'), [expect([a, b])]);
  h.update(h.status(a, 'TASK_RUNNING', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  h.advance(999);
  assert.equal(h.calls('RECONCILE').length, 1);
  h.advance(1);
  assert.deepEqual(h.calls('RECONCILE').at(-1), expect([b]), 'only the task not heard of');
  h.advance(2000);
  h.advance(4000);
  h.advance(4000);
  assert.equal(h.calls('RECONCILE').length, 5, 'first, then retries after 1 s, 2 s, 4 s, 4 s (capped)');
  assert.deepEqual(h.notes('reconcile').map((n) => [n.tasks, n.attempt, n.implicit]), [[2, 0, false], [1, 1, false], [1, 2, false], [1, 3, false], [1, 4, false]]);
  h.update(h.status(b, 'TASK_STAGING', {}, false));
  h.advance(60_000);
  assert.equal(h.calls('RECONCILE').length, 5, 'done once every task got an update');
});

test('implicit reconciliation every implicitReconcileMs while subscribed', () => {
  const h = createHarness({ job: { maxTasks: 1 }, timing: { implicitReconcileMs: 60_000 } }).start();
  h.subscribed();
  for (let i = 0; i < 3; i++) { h.advance(59_000); h.emit({ type: 'mesos.heartbeat' }); h.advance(1_000); h.emit({ type: 'mesos.heartbeat' }); }
  assert.deepEqual(h.calls('RECONCILE'), [0, 1, 2].map(() => ({ type: 'RECONCILE', reconcile: { tasks: [] } })));
  assert.ok(h.notes('reconcile').every((n) => n.implicit));
});

test('a task the master reports lost during reconciliation is a failure; a running one is kept and awaited', () => {
  const h = createHarness({ job: { maxTasks: 2, rounds: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 4, 4096));
  const [a, b] = h.launchedTaskIds() as [string, string];
  h.lost();
  h.advance(500);
  h.subscribed();
  h.update(h.status(a, 'TASK_GONE', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  h.update(h.status(b, 'TASK_RUNNING', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  assert.equal(h.calls('ACKNOWLEDGE').length, 0, 'master-generated updates are not ACKed');
  assert.deepEqual(h.notes('roundFinished'), []);
  h.update(h.status(b, 'TASK_FINISHED'));
  assert.deepEqual(h.notes('roundFinished'), [{ type: 'roundFinished', round: 1, finished: 1, failed: 1 }]);
  assert.equal(h.calls('KILL').length, 0);
});

test('the sweep: a launch not heard of for a whole sweep period is reconciled (the ACCEPT may have been lost), only that task', () => {
  const h = createHarness({ job: { maxTasks: 2 }, timing: { launchTimeoutMs: 30_000, reconcileInitialMs: 5_000 } }).start();
  h.subscribed();
  h.advance(10_000);
  h.emit({ type: 'mesos.heartbeat' });
  h.offers(h.offer('agent-1', 4, 4096));
  const [a, b] = h.launchedTaskIds() as [string, string];
  h.update(h.status(a, 'TASK_RUNNING'));
  h.advance(20_000);
  h.emit({ type: 'mesos.heartbeat' });
  assert.equal(h.calls('RECONCILE').length, 0, 'first sweep (at 30 s): launched 20 s ago, maybe only just');
  h.advance(29_999);
  h.emit({ type: 'mesos.heartbeat' });
  assert.equal(h.calls('RECONCILE').length, 0);
  h.advance(1);
  const [first] = h.calls('RECONCILE');
  assert.deepEqual(first?.reconcile?.tasks?.map((t) => t.task_id.value), [b], 'second sweep (at 60 s): silent for 50 s, reconciled alone');
  h.update(h.status(b, 'TASK_LOST', { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' }, false));
  assert.deepEqual(h.notes('taskEnded').map((n) => [n.taskId, n.state]), [[b, 'TASK_LOST']]);
  h.advance(30_000);
  h.emit({ type: 'mesos.heartbeat' });
  assert.equal(h.calls('RECONCILE').length, 1, 'every task heard of: no retry, nothing silent');
  assert.deepEqual(h.jobSnapshot().context.sweeps, 3);
});

test('an agent removed (FAILURE without executor): its tasks are reconciled at once', () => {
  const h = createHarness({ job: { maxTasks: 2, cpus: 1 } }).start();
  h.subscribed();
  h.offers(h.offer('agent-1', 1, 4096), h.offer('agent-2', 1, 4096));
  h.emit({ type: 'mesos.failure', agentId: 'agent-2' });
  assert.deepEqual(h.calls('RECONCILE'), [{ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'etl-r1-t2-abc' }, agent_id: { value: 'agent-2' } }] } }]);
  h.emit({ type: 'mesos.failure', agentId: 'agent-1', executorId: 'etl-r1-t1-abc', status: 1 });
  assert.equal(h.calls('RECONCILE').length, 1, 'an executor failure alone changes nothing: its task update follows');
});
