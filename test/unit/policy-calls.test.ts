import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptCall, acknowledgeCall, declineCall, killCall, launchOperation, reconcileCall, reviveCall, subscribeCall, suppressCall, teardownCall,
} from '../../machines/policy/calls.js';
import { buildTaskInfo, commandFor, containerFor, taskIdFor } from '../../machines/policy/task-info.js';
import type { JobConfig } from '../../machines/contract.js';

const info = { user: 'u', name: 'etl', failover_timeout: 3600, role: '*' };

test('SUBSCRIBE of a new framework carries no id anywhere', () => {
  assert.deepEqual(subscribeCall({ frameworkInfo: info, suppressedRoles: [] }), { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
});

test('re-SUBSCRIBE sets the same id in framework_info and Call.framework_id, with suppressed roles', () => {
  assert.deepEqual(subscribeCall({ frameworkInfo: { ...info, id: { value: 'stale' } }, frameworkId: 'fw-1', suppressedRoles: ['*'] }), {
    type: 'SUBSCRIBE',
    framework_id: { value: 'fw-1' },
    subscribe: { framework_info: { ...info, id: { value: 'fw-1' } }, suppressed_roles: ['*'] },
  });
});

test('ACCEPT / DECLINE / REVIVE / SUPPRESS shapes', () => {
  const op = launchOperation([]);
  assert.deepEqual(op, { type: 'LAUNCH', launch: { task_infos: [] } });
  assert.deepEqual(acceptCall(['o1'], [op], 5), { type: 'ACCEPT', accept: { offer_ids: [{ value: 'o1' }], operations: [op], filters: { refuse_seconds: 5 } } });
  assert.deepEqual(acceptCall(['o1'], [op]), { type: 'ACCEPT', accept: { offer_ids: [{ value: 'o1' }], operations: [op] } });
  assert.deepEqual(declineCall(['o1', 'o2'], 3600), { type: 'DECLINE', decline: { offer_ids: [{ value: 'o1' }, { value: 'o2' }], filters: { refuse_seconds: 3600 } } });
  assert.deepEqual(reviveCall(['*']), { type: 'REVIVE', revive: { roles: ['*'] } });
  assert.deepEqual(reviveCall([]), { type: 'REVIVE', revive: {} });
  assert.deepEqual(suppressCall(['etl']), { type: 'SUPPRESS', suppress: { roles: ['etl'] } });
});

test('ACKNOWLEDGE echoes agent, task and uuid exactly', () => {
  assert.deepEqual(acknowledgeCall('a1', 't1', 'AAECAwQFBgcICQoLDA0ODw=='), {
    type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a1' }, task_id: { value: 't1' }, uuid: 'AAECAwQFBgcICQoLDA0ODw==' },
  });
});

test('RECONCILE explicit (agent optional) and implicit; KILL; TEARDOWN', () => {
  assert.deepEqual(reconcileCall([{ taskId: 't1', agentId: 'a1' }, { taskId: 't2' }]), {
    type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: 'a1' } }, { task_id: { value: 't2' } }] },
  });
  assert.deepEqual(reconcileCall([]), { type: 'RECONCILE', reconcile: { tasks: [] } });
  assert.deepEqual(killCall('t1', 'a1'), { type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: { value: 'a1' } } });
  assert.deepEqual(killCall('t1'), { type: 'KILL', kill: { task_id: { value: 't1' } } });
  assert.deepEqual(teardownCall(), { type: 'TEARDOWN' });
});

const job: JobConfig = {
  name: 'nightly etl', cmd: 'run.sh --all', cpus: 0.5, memMb: 64, maxTasks: 3, waitSeconds: 1, rounds: 1, role: '*', graceSeconds: 1,
  env: { A: '1', B: 'two' }, uris: ['http://x/a.tgz'], containerizer: 'docker', user: 'nobody', runId: 'r1d',
};

test('task ids are readable, unique per round/index/run and use only safe characters', () => {
  assert.equal(taskIdFor(job, 3, 2), 'nightly_etl-r3-t2-r1d');
  assert.match(taskIdFor({ name: 'a/b c', runId: 'x y' }, 1, 1), /^[A-Za-z0-9._-]+$/);
  assert.notEqual(taskIdFor(job, 1, 2), taskIdFor(job, 2, 1));
});

test('command: shell, value, environment variables and uris', () => {
  assert.deepEqual(commandFor(job), {
    shell: true, value: 'run.sh --all',
    environment: { variables: [{ name: 'A', type: 'VALUE', value: '1' }, { name: 'B', type: 'VALUE', value: 'two' }] },
    uris: [{ value: 'http://x/a.tgz' }],
  });
  assert.deepEqual(commandFor({ cmd: 'x', env: {}, uris: [] }), { shell: true, value: 'x' });
});

test('containers: docker and mesos containerizers, none without image', () => {
  assert.deepEqual(containerFor({ image: 'busybox:1', containerizer: 'docker' }), { type: 'DOCKER', docker: { image: 'busybox:1', network: 'BRIDGE', force_pull_image: true } });
  assert.deepEqual(containerFor({ image: 'busybox:1', containerizer: 'mesos' }), { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'busybox:1' } } } });
  assert.equal(containerFor({ containerizer: 'docker' }), undefined);
});

test('TaskInfo puts it together', () => {
  const resources = [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.5 } }];
  const t = buildTaskInfo({ ...job, image: 'img' }, 1, 1, 'agent-9', resources);
  assert.equal(t.name, 'nightly etl');
  assert.deepEqual(t.task_id, { value: 'nightly_etl-r1-t1-r1d' });
  assert.deepEqual(t.agent_id, { value: 'agent-9' });
  assert.deepEqual(t.resources, resources);
  assert.equal(t.command?.value, 'run.sh --all');
  assert.equal(t.container?.type, 'DOCKER');
  assert.equal(buildTaskInfo(job, 1, 1, 'a', []).container, undefined);
  assert.equal(buildTaskInfo(job, 1, 1, 'a', []).max_completion_time, undefined);
});

test('TaskInfo carries --task-timeout as max_completion_time in nanoseconds', () => {
  assert.deepEqual(buildTaskInfo({ ...job, taskTimeoutSeconds: 1.5 }, 1, 1, 'a', []).max_completion_time, { nanoseconds: 1_500_000_000 });
  assert.equal(buildTaskInfo({ ...job, taskTimeoutSeconds: 0 }, 1, 1, 'a', []).max_completion_time, undefined);
});
