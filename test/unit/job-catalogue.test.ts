/** The job catalogue: the jobs outside the machines see, as reloads and forgetting change them, each change one jobsChanged signal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobConfig } from '../../machines/contract.js';
import { JobCatalogue } from '../../src/runtime/job-catalogue.js';
import { Signals } from '../../src/runtime/signals.js';

function job(name: string, maxTasks = 1): Omit<JobConfig, 'runId'> {
  return { name, cmd: 'true', cpus: 0.1, memMb: 32, maxTasks, waitSeconds: 60, rounds: 0, role: '*', graceSeconds: 30, env: {}, uris: [], containerizer: 'mesos', user: 'nobody' };
}

test('a reload adds jobs last and changes jobs in place; a removed job stays until forgotten', () => {
  const signals = new Signals();
  const changes: unknown[] = [];
  signals.on('jobsChanged', (change) => changes.push(change));
  const catalogue = new JobCatalogue([job('a'), job('b')], signals);
  const first = catalogue.list();
  assert.deepEqual(catalogue.names(), ['a', 'b']);
  assert.equal(catalogue.list(), first, 'the list is kept until it changes');

  // The file now has b (changed), c (new) and no a; the supervisor took c and b.
  catalogue.reloaded([job('b', 5), job('c')], { added: ['c'], changed: ['b'] });
  assert.deepEqual(catalogue.names(), ['a', 'b', 'c'], 'a stays until it is forgotten');
  assert.equal(catalogue.get('b')?.maxTasks, 5);
  assert.notEqual(catalogue.list(), first);
  catalogue.forget('a');
  catalogue.forget('a');
  assert.deepEqual(catalogue.names(), ['b', 'c']);

  // Added back after it was forgotten: last. A name the supervisor took that the file lacks is ignored.
  catalogue.reloaded([job('a'), job('b', 5), job('c')], { added: ['a', 'x'], changed: [] });
  assert.deepEqual(catalogue.names(), ['b', 'c', 'a']);
  catalogue.reloaded([job('a')], { added: [], changed: [] });
  assert.deepEqual(changes, [
    { added: ['c'], changed: ['b'], removed: [] },
    { added: [], changed: [], removed: ['a'] },
    { added: ['a'], changed: [], removed: [] },
  ], 'one signal per change, none when nothing changed');
});
