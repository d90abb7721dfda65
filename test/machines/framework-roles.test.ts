/**
 * `--jobs` (MULTI_ROLE): the framework's roles follow its jobs. A reload that
 * adds a job of a new role sends UPDATE_FRAMEWORK (the whole FrameworkInfo,
 * the same id, every role, the suppressed ones) before the new job's REVIVE;
 * a reload while not subscribed leaves it to the next SUBSCRIBE, and one
 * while a SUBSCRIBE is on its way sends UPDATE_FRAMEWORK once subscribed; a
 * role leaves once its last job is forgotten.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Call } from '../../src/mesos/types.js';
import { createHarness, jobRun, type Harness } from './harness.js';

function updates(h: Harness): NonNullable<Call['update_framework']>[] {
  return h.calls('UPDATE_FRAMEWORK').map((c) => c.update_framework!);
}

function callIndex(h: Harness, match: (call: Call) => boolean): number {
  return h.log.findIndex((e) => e.kind === 'call' && match(e.call));
}

test('a reload adding a job of a new role sends UPDATE_FRAMEWORK with every role before the new job revives; a failover re-subscribes with them', () => {
  const h = createHarness({ jobs: [jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 0, waitSeconds: 600 })] }).start();
  h.subscribed('fw-1');
  h.offers({ ...h.offer('agent-1', 1, 256), allocation_info: { role: 'etl' } });
  assert.equal(h.launchedTaskIds().length, 1);
  assert.deepEqual(h.calls('SUPPRESS').map((c) => c.suppress?.roles), [['etl']], 'etl has every task it wants');
  assert.deepEqual(updates(h), []);

  h.send({ type: 'jobs.reload', jobs: [jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 0, waitSeconds: 600 }), jobRun({ name: 'b', role: 'batch', maxTasks: 1, rounds: 1 })] });
  const [update] = updates(h);
  assert.ok(update, 'UPDATE_FRAMEWORK sent');
  assert.equal(update.framework_info.id?.value, 'fw-1');
  assert.deepEqual(update.framework_info.roles, ['etl', 'batch']);
  assert.equal(update.framework_info.role, undefined);
  assert.deepEqual(update.framework_info.capabilities, [{ type: 'MULTI_ROLE' }]);
  assert.deepEqual([update.framework_info.user, update.framework_info.name, update.framework_info.checkpoint], ['nobody', 'etl', true], 'the rest of FrameworkInfo as subscribed');
  assert.deepEqual(update.suppressed_roles, ['etl'], 'etl stays suppressed; batch gets offers');
  const updateAt = callIndex(h, (c) => c.type === 'UPDATE_FRAMEWORK');
  const reviveAt = callIndex(h, (c) => c.type === 'REVIVE' && c.revive?.roles?.includes('batch') === true);
  assert.ok(reviveAt > updateAt, 'the new role is revived after the master knows it');
  assert.deepEqual(h.notes('rolesUpdated'), [{ type: 'rolesUpdated', roles: ['etl', 'batch'], added: ['batch'], removed: [], sent: true }]);

  h.offers({ ...h.offer('agent-1', 1, 256), allocation_info: { role: 'batch' } });
  assert.equal(h.launchedTaskIds().filter((id) => id.startsWith('b-r1-')).length, 1, 'the new job launches from its role\'s offer');
  assert.equal(updates(h).length, 1, 'the supervisor agrees: no second UPDATE_FRAMEWORK');

  h.lost();
  h.advance(60_000);
  assert.deepEqual(h.sub.input.frameworkInfo.roles, ['etl', 'batch'], 'the SUBSCRIBE after a failover carries the new roles');
  assert.equal(h.sub.input.frameworkId, 'fw-1');
  h.subscribed('fw-1');
  assert.equal(updates(h).length, 1, 'nothing to update after that SUBSCRIBE');
});

test('a reload while not subscribed changes the next SUBSCRIBE; one while a SUBSCRIBE is on its way is sent once subscribed', () => {
  const jobs = [jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 0 })];
  const h = createHarness({ jobs }).start();
  h.subscribed('fw-1');
  h.lost();
  // Failover: waiting to re-subscribe.
  h.send({ type: 'jobs.reload', jobs: [...jobs, jobRun({ name: 'b', role: 'batch', maxTasks: 1, rounds: 1 })] });
  assert.deepEqual(updates(h), [], 'not subscribed: nothing sent');
  assert.deepEqual(h.notes('rolesUpdated').map((n) => n.sent), [false]);
  h.advance(60_000);
  assert.deepEqual(h.sub.input.frameworkInfo.roles, ['etl', 'batch']);
  h.subscribed('fw-1');
  assert.deepEqual(updates(h), [], 'the SUBSCRIBE said it all');

  // Lost again; the SUBSCRIBE goes out with etl and batch; a reload adds ops before it is answered.
  h.lost();
  h.advance(60_000);
  assert.deepEqual(h.sub.input.frameworkInfo.roles, ['etl', 'batch']);
  h.send({ type: 'jobs.reload', jobs: [...jobs, jobRun({ name: 'b', role: 'batch', maxTasks: 1, rounds: 1 }), jobRun({ name: 'c', role: 'ops', maxTasks: 1, rounds: 1 })] });
  assert.deepEqual(updates(h), []);
  h.subscribed('fw-1');
  assert.deepEqual(updates(h).map((u) => [u.framework_info.id?.value, u.framework_info.roles]), [['fw-1', ['etl', 'batch', 'ops']]]);
});

test('a role leaves the framework once its last job is forgotten, not while the job drains', () => {
  const h = createHarness({
    jobs: [jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 0 }), jobRun({ name: 'b', role: 'batch', maxTasks: 1, rounds: 0, graceSeconds: 2 })],
  }).start();
  h.subscribed('fw-1');
  h.offers({ ...h.offer('agent-1', 1, 256), allocation_info: { role: 'batch' } });
  const [task] = h.launchedTaskIds().filter((id) => id.startsWith('b-r1-'));
  assert.ok(task);
  h.update(h.status(task, 'TASK_RUNNING'));
  h.send({ type: 'jobs.reload', jobs: [jobRun({ name: 'a', role: 'etl', maxTasks: 1, rounds: 0 })] });
  assert.deepEqual(updates(h), [], 'the removed job drains under its role');
  h.advance(2000);
  assert.deepEqual(h.calls('KILL').map((c) => c.kill?.task_id.value), [task]);
  h.update(h.status(task, 'TASK_KILLED'));
  assert.deepEqual(h.notes('jobRemoved').map((n) => n.job), ['b']);
  const [update] = updates(h);
  assert.deepEqual(update?.framework_info.roles, ['etl']);
  assert.ok(!(update?.suppressed_roles ?? []).includes('batch'), 'no suppressed role outside the roles');
  assert.deepEqual(h.notes('rolesUpdated').at(-1), { type: 'rolesUpdated', roles: ['etl'], added: [], removed: ['batch'], sent: true });
  h.lost();
  h.advance(60_000);
  assert.deepEqual(h.sub.input.frameworkInfo.roles, ['etl']);
  assert.ok(h.sub.input.suppressedRoles.every((role) => role === 'etl'));
});
