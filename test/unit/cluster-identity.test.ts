import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { PersistedState } from '../../machines/contract.js';
import { createLogger } from '../../src/observability/logger.js';
import { clusterIdentity, stateForCluster } from '../../src/runtime/cluster-identity.js';
import { StateStoreError } from '../../src/state/store.js';

const state: PersistedState = {
  version: 1, frameworkName: 'etl', frameworkId: 'fw-1', round: 1, completedRounds: 0, allFinished: true, phase: 'round',
  tasks: [{ taskId: 'etl-r1-t0', round: 1, index: 0, state: 'TASK_RUNNING' }, { taskId: 'etl-r1-t1', round: 1, index: 1, state: 'PENDING_LAUNCH' }],
};

function sink(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const log = createLogger({ format: 'json', destination: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) });
  return { log, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('cluster identity', () => {
  it('is the set of masters in any order, or the ZooKeeper ensemble and path; none for the embedded master', () => {
    const a = clusterIdentity({ kind: 'static', urls: ['http://10.0.0.2:5050', 'https://M1.example:5050'], text: '', isDefault: false });
    const b = clusterIdentity({ kind: 'static', urls: ['http://m1.example:5050', 'http://10.0.0.2:5050', 'http://10.0.0.2:5050'], text: '', isDefault: false });
    assert.equal(a, 'masters 10.0.0.2:5050,m1.example:5050');
    assert.equal(a, b);
    assert.notEqual(a, clusterIdentity({ kind: 'static', urls: ['http://10.0.0.2:5050'], text: '', isDefault: false }));
    assert.equal(clusterIdentity({ kind: 'zk', url: 'zk://u:pw@z2:2181,z1:2181/mesos' }), 'zk z1:2181,z2:2181/mesos');
    assert.notEqual(clusterIdentity({ kind: 'zk', url: 'zk://z1:2181/mesos' }), clusterIdentity({ kind: 'zk', url: 'zk://z1:2181/mesos2' }));
    assert.equal(clusterIdentity({ kind: 'local' }), undefined);
  });

  it('carries on from a state of the same cluster or of none; refuses another unless reset, which logs the tasks it forgets', () => {
    const s = sink();
    const opts = { cluster: 'masters m1:5050', reset: false, where: 'state file /x.json', log: s.log };
    assert.equal(stateForCluster(undefined, opts), undefined);
    assert.equal(stateForCluster({ state, cluster: 'masters m1:5050' }, opts), state);
    assert.equal(stateForCluster({ state }, opts), state, 'a state that names no cluster is adopted');
    assert.throws(() => stateForCluster({ state, cluster: 'masters m2:5050' }, opts), (err: unknown) =>
      err instanceof StateStoreError && err.code === 'STATE_OTHER_CLUSTER' && !err.message.includes('\n') &&
      err.message.includes('state file /x.json') && err.message.includes("'masters m2:5050'") && err.message.includes("'masters m1:5050'"));
    assert.equal(s.lines().length, 0);
    assert.equal(stateForCluster({ state, cluster: 'masters m2:5050' }, { ...opts, reset: true }), undefined);
    const [line] = s.lines();
    assert.deepEqual(line?.['taskIds'], ['etl-r1-t0', 'etl-r1-t1']);
    assert.match(String(line?.['msg']), /forgetting state file \/x\.json of cluster 'masters m2:5050'.*etl-r1-t0, etl-r1-t1/);
    assert.equal(stateForCluster({ state, cluster: 'masters m1:5050' }, { ...opts, reset: true }), undefined, 'reset forgets a state of this cluster too');
    assert.equal(s.lines().length, 2);
  });
});
