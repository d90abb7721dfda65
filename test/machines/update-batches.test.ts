/**
 * `mesos.updates` (the UPDATEs of one stream chunk as one event) does what the
 * same updates as `mesos.update` events one by one do: the same calls,
 * writes and notifications in the same order for each task, a terminal
 * update's ACK after the write recording it, and the same state after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, jobRun, type Harness, type HarnessOptions, type LogEntry } from './harness.js';
import type { TaskStatus } from '../../src/mesos/types.js';

/** Subscribes and launches a round; returns the harness with an empty log and the tasks launched. */
function launched(options: HarnessOptions, offers: number): { h: Harness; ids: string[] } {
  const h = createHarness(options).start();
  h.subscribed();
  h.offers(...Array.from({ length: offers }, (_, i) => h.offer(`agent-${i + 1}`, 4, 4096)));
  const ids = h.launchedTaskIds();
  h.clearLog();
  return { h, ids };
}

/** A stable description of an entry, and the task it is about (if any). */
function describe(entry: LogEntry): { text: string; taskId?: string } {
  if (entry.kind === 'call') {
    const taskId = entry.call.acknowledge?.task_id.value ?? entry.call.kill?.task_id.value;
    return { text: JSON.stringify(entry), ...(taskId !== undefined ? { taskId } : {}) };
  }
  if (entry.kind === 'persist') {
    const removed = entry.delta?.remove ?? [];
    return { text: JSON.stringify(entry), ...(removed.length === 1 ? { taskId: removed[0]! } : {}) };
  }
  if (entry.kind === 'notify') {
    const note = entry.note as { taskId?: string };
    return { text: JSON.stringify(entry), ...(note.taskId !== undefined ? { taskId: note.taskId } : {}) };
  }
  return { text: JSON.stringify(entry) };
}

function perTask(log: readonly LogEntry[]): Map<string, string[]> {
  const of = new Map<string, string[]>();
  for (const entry of log) {
    const { text, taskId } = describe(entry);
    const key = taskId ?? '';
    of.set(key, [...(of.get(key) ?? []), text]);
  }
  return of;
}

/** Each terminal update's ACK comes after a write that removes its task. */
function assertTerminalAcksAfterTheirWrite(h: Harness): void {
  const written = new Set<string>();
  let terminalAcks = 0;
  for (const entry of h.log) {
    if (entry.kind === 'persist') for (const id of entry.delta?.remove ?? []) written.add(id);
    if (entry.kind === 'call' && entry.call.type === 'ACKNOWLEDGE' && entry.independent !== true) {
      terminalAcks += 1;
      assert.ok(written.has(entry.call.acknowledge!.task_id.value), `terminal ACK of ${entry.call.acknowledge!.task_id.value} after its write`);
    }
  }
  assert.ok(terminalAcks > 0);
}

function statusesFor(h: Harness, script: readonly [string, TaskStatus['state']][]): TaskStatus[] {
  return script.map(([id, state]) => h.status(id, state));
}

test('one job: a chunk of updates gives the calls, writes and notifications of the same updates one by one, in the same order', () => {
  const options: HarnessOptions = { job: { maxTasks: 3, rounds: 2, retries: { max: 1, backoffMs: 10_000, backoffMaxMs: 10_000 } } };
  const { h: one, ids } = launched(options, 1);
  const { h: batch, ids: same } = launched(options, 1);
  const [t1, t2, t3] = ids as [string, string, string];
  assert.deepEqual(same, ids);
  const chunks: [string, TaskStatus['state']][][] = [
    [[t1, 'TASK_STARTING'], [t1, 'TASK_RUNNING'], [t2, 'TASK_RUNNING'], ['etl-r9-t9-abc', 'TASK_RUNNING'], [t3, 'TASK_RUNNING']],
    [[t1, 'TASK_FINISHED'], [t2, 'TASK_FAILED'], [t1, 'TASK_FINISHED'], [t3, 'TASK_FINISHED']],
  ];
  for (const chunk of chunks) {
    const statuses = statusesFor(one, chunk);
    for (const status of statuses) one.update(status);
    // The same uuids for the batched run, so that the logs compare byte for byte.
    batch.emit({ type: 'mesos.updates', statuses: statuses.map((s) => structuredClone(s)) });
  }
  assert.deepEqual(batch.log.map((e) => describe(e).text), one.log.map((e) => describe(e).text));
  assert.ok(batch.calls('ACKNOWLEDGE').length === 9);
  assertTerminalAcksAfterTheirWrite(batch);
  assert.deepEqual(batch.jobSnapshot().value, one.jobSnapshot().value);
  const { context: a } = one.jobSnapshot();
  const { context: b } = batch.jobSnapshot();
  assert.deepEqual([...b.active.keys()], [...a.active.keys()]);
  assert.deepEqual({ ...b, active: undefined }, { ...a, active: undefined });
});

test('one job: the last task of a round ending inside a chunk finishes the round as it would alone', () => {
  const options: HarnessOptions = { job: { maxTasks: 2, rounds: 1 } };
  const { h: one, ids } = launched(options, 1);
  const { h: batch } = launched(options, 1);
  const [t1, t2] = ids as [string, string];
  const statuses = statusesFor(one, [[t1, 'TASK_RUNNING'], [t2, 'TASK_RUNNING'], [t1, 'TASK_FINISHED'], [t2, 'TASK_FINISHED']]);
  for (const status of statuses) one.update(status);
  batch.emit({ type: 'mesos.updates', statuses: statuses.map((s) => structuredClone(s)) });
  assert.deepEqual(batch.log.map((e) => describe(e).text), one.log.map((e) => describe(e).text));
  assert.deepEqual(batch.value(), one.value());
  assert.equal(batch.calls('TEARDOWN').length, 1);
});

test('--jobs: the supervisor routes a chunk to each job once, and each task sees what it would one by one', () => {
  const options: HarnessOptions = {
    jobs: [jobRun({ name: 'a', maxTasks: 2, rounds: 1 }), jobRun({ name: 'b', maxTasks: 2, rounds: 1 })],
  };
  const { h: one, ids } = launched(options, 2);
  const { h: batch, ids: same } = launched(options, 2);
  assert.equal(ids.length, 4);
  assert.deepEqual(same, ids);
  const a = ids.filter((id) => id.startsWith('a-'));
  const b = ids.filter((id) => id.startsWith('b-'));
  const script: [string, TaskStatus['state']][] = [
    [a[0]!, 'TASK_RUNNING'], [b[0]!, 'TASK_RUNNING'], ['nobody-r1-t1-abc', 'TASK_RUNNING'], [a[1]!, 'TASK_RUNNING'], [b[1]!, 'TASK_RUNNING'],
    [b[0]!, 'TASK_FINISHED'], [a[0]!, 'TASK_FINISHED'], [a[1]!, 'TASK_FINISHED'], [b[1]!, 'TASK_FINISHED'],
  ];
  const statuses = statusesFor(one, script);
  for (const status of statuses) one.update(status);
  batch.emit({ type: 'mesos.updates', statuses: statuses.map((s) => structuredClone(s)) });
  // Across jobs the order may differ (each job takes its updates at once); per task it does not.
  const before = perTask(one.log);
  const after = perTask(batch.log);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [taskId, entries] of before) {
    if (taskId === '') assert.deepEqual([...after.get(taskId)!].sort(), [...entries].sort());
    else assert.deepEqual(after.get(taskId), entries, taskId);
  }
  assert.equal(batch.calls('ACKNOWLEDGE').length, 9);
  assertTerminalAcksAfterTheirWrite(batch);
  assert.deepEqual(batch.value(), one.value());
  assert.equal(batch.calls('TEARDOWN').length, 1);
});
