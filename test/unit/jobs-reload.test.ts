/** What a reload sees: the digest of the loaded jobs and the diff between two loads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJobsFile } from '../../src/jobs/load.js';
import { jobsDigest } from '../../src/jobs/digest.js';
import { diffJobs, sameData } from '../../machines/policy/jobs-diff.js';
import type { JobDefinition } from '../../machines/contract.js';

function load(text: string): readonly JobDefinition[] {
  const result = parseJobsFile('jobs.yaml', text, { username: 'etl' });
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  return result.jobs;
}

const base = 'jobs:\n  - name: a\n    cmd: ./a.sh\n  - name: b\n    after: [a]\n';

test('the digest ignores comments, layout, key order and job order, and sees every field', () => {
  const digest = jobsDigest(load(base));
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(jobsDigest(load('# same jobs\njobs:\n  - { name: b, after: [a] }\n  - cmd: ./a.sh\n    name: a\n')), digest);
  assert.equal(jobsDigest(load('jobs:\n  - name: a\n    cmd: ./a.sh\n    cpu: 0.1\n  - name: b\n    after: [a]\n')), digest, 'a default written out');
  assert.notEqual(jobsDigest(load(base.replace('./a.sh', './a2.sh'))), digest);
  assert.notEqual(jobsDigest(load(`${base}    priority: 1\n`)), digest);
});

test('YAML merge keys share fields between jobs; x- keys hold the anchors', () => {
  const jobs = load('x-defaults: &d\n  cpu: 0.5\n  role: etl\njobs:\n  - <<: *d\n    name: a\n  - <<: *d\n    name: b\n    cpu: 1\n');
  assert.deepEqual(jobs.map((j) => [j.name, j.cpus, j.role]), [['a', 0.5, 'etl'], ['b', 1, 'etl']]);
});

test('diffJobs: added, removed, changed and unchanged jobs by name', () => {
  const before = load('jobs:\n  - name: keep\n  - name: edit\n    maxtasks: 2\n  - name: drop\n');
  const after = load('jobs:\n  - name: edit\n    maxtasks: 3\n  - name: keep\n  - name: new\n');
  const diff = diffJobs(before, after);
  assert.deepEqual(diff.added.map((j) => j.name), ['new']);
  assert.deepEqual(diff.removed.map((j) => j.name), ['drop']);
  assert.deepEqual(diff.changed.map((c) => [c.before.maxTasks, c.after.maxTasks]), [[2, 3]]);
  assert.deepEqual(diff.unchanged.map((j) => j.name), ['keep']);
});

test('sameData compares plain data by value', () => {
  assert.equal(sameData({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }), true);
  assert.equal(sameData({ a: [1, 2] }, { a: [2, 1] }), false);
  assert.equal(sameData({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(sameData({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(sameData([], {}), false);
  assert.equal(sameData(null, {}), false);
});
