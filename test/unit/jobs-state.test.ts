/**
 * src/runtime/jobs-state.ts: every job's persists combined into one state:
 * entries and tasks per job, deltas kept, jobs only the restored state knows
 * kept until forgotten, the file's digest in the header.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PersistedState, PersistParams } from '../../machines/contract.js';
import { JobsStateCombiner } from '../../src/runtime/jobs-state.js';
import { jobRun } from '../machines/harness.js';

function jobPersist(name: string, tasks: PersistedState['tasks'], extra: Partial<PersistedState> = {}): PersistParams {
  const state: PersistedState = {
    version: 1, frameworkName: name, frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round', tasks,
    jobs: [{ name, round: 1, completedRounds: 0, allFinished: true, phase: 'round', successfulRounds: 0 }], ...extra,
  };
  const { tasks: _tasks, ...header } = state;
  return { state, delta: { header, upsert: tasks, remove: [] } };
}

test('one state of every job: entries in file order, tasks naming their job, deltas tagged, the digest', () => {
  const combiner = new JobsStateCombiner({ frameworkName: 'fw', jobs: [jobRun({ name: 'a' }), jobRun({ name: 'b' })], digest: 'sha256:x' });
  combiner.persist(jobPersist('b', [{ taskId: 'b-r1-t1-abc', round: 1, index: 1, state: 'PENDING_LAUNCH' }]), 1000);
  const change = combiner.persist(jobPersist('a', [{ taskId: 'a-r1-t1-abc', round: 1, index: 1, state: 'PENDING_LAUNCH' }]), 2000);
  assert.deepEqual(change.delta?.upsert.map((t) => [t.taskId, t.job]), [['a-r1-t1-abc', 'a']]);
  assert.deepEqual(change.delta?.header.jobs?.map((j) => j.name), ['a', 'b']);
  assert.equal(change.delta?.header.frameworkName, 'fw');
  assert.equal(change.delta?.header.jobsDigest, 'sha256:x');
  assert.deepEqual(change.state.tasks.map((t) => [t.taskId, t.job]), [['a-r1-t1-abc', 'a'], ['b-r1-t1-abc', 'b']]);
});

test('a job only the restored state knows stays in the state until it is forgotten, with its tasks', () => {
  const restored: PersistedState = {
    version: 1, frameworkName: 'fw', frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
    tasks: [{ taskId: 'old-r1-t1-x', round: 1, index: 1, state: 'TASK_RUNNING', job: 'old' }],
    jobs: [{ name: 'old', round: 1, completedRounds: 0, allFinished: true, phase: 'round' }],
  };
  const combiner = new JobsStateCombiner({ frameworkName: 'fw', jobs: [jobRun({ name: 'a' })], restored });
  const change = combiner.persist(jobPersist('a', []), 1000);
  assert.deepEqual(change.state.jobs?.map((j) => j.name), ['old', 'a']);
  assert.deepEqual(change.state.tasks.map((t) => t.taskId), ['old-r1-t1-x']);
  const forgotten = combiner.forget('old', 2000);
  assert.deepEqual(forgotten.delta?.remove, ['old-r1-t1-x']);
  assert.deepEqual(forgotten.state.jobs?.map((j) => j.name), ['a']);
  assert.deepEqual(forgotten.state.tasks, []);
});

test('a job in its cooldown gets the end of the cooldown stamped, once per round', () => {
  const combiner = new JobsStateCombiner({ frameworkName: 'fw', jobs: [jobRun({ name: 'a', waitSeconds: 60 })] });
  const cooling = (at: number) => combiner.persist(jobPersist('a', [], { phase: 'cooldown', jobs: [{ name: 'a', round: 1, completedRounds: 1, allFinished: true, phase: 'cooldown' }] }), at);
  assert.equal(cooling(1000).state.jobs?.[0]?.cooldownUntil, 61_000);
  assert.equal(cooling(5000).state.jobs?.[0]?.cooldownUntil, 61_000);
});
