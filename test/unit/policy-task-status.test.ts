import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFailureState, isSuccessState, isTerminalState, TERMINAL_TASK_STATES } from '../../machines/policy/task-status.js';
import { isFailedOverMessage, isFatalConnectionError, isFrameworkRemovedMessage } from '../../machines/policy/master-errors.js';
import type { TaskState } from '../../src/mesos/types.js';

const all: TaskState[] = [
  'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR',
  'TASK_LOST', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN',
];

test('terminal states are Mesos\' own (protobuf_utils.cpp isTerminalState): not UNREACHABLE, not UNKNOWN', () => {
  assert.deepEqual(all.filter(isTerminalState), [
    'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
  ]);
  assert.deepEqual([...TERMINAL_TASK_STATES].sort(), all.filter(isTerminalState).sort());
  assert.equal(isTerminalState('TASK_UNREACHABLE'), false);
  assert.equal(isTerminalState('TASK_UNKNOWN'), false);
});

test('only TASK_FINISHED is success; every other terminal state is a failure', () => {
  assert.deepEqual(all.filter(isSuccessState), ['TASK_FINISHED']);
  assert.deepEqual(all.filter(isFailureState), ['TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);
});

test('master ERROR messages are classified', () => {
  assert.equal(isFrameworkRemovedMessage('Framework has been removed'), true);
  assert.equal(isFrameworkRemovedMessage('framework has been removed'), true);
  assert.equal(isFrameworkRemovedMessage('Framework failed over'), false);
  assert.equal(isFailedOverMessage('Framework failed over'), true);
  assert.equal(isFailedOverMessage('Role "x" is not present in the master\'s --roles'), false);
});

test('connection errors that retrying cannot fix are fatal; the rest are retried', () => {
  for (const code of ['MESOS_UNAUTHORIZED', 'MESOS_FORBIDDEN', 'MESOS_PROTOCOL', 'MESOS_BAD_REQUEST']) assert.equal(isFatalConnectionError(code), true, code);
  for (const code of ['MESOS_NOT_LEADER', 'MESOS_NO_LEADER', 'MESOS_UNAVAILABLE', 'MESOS_UNSUBSCRIBED', 'MESOS_STALE_STREAM', 'STREAM_ENDED', 'HEARTBEAT_TIMEOUT']) {
    assert.equal(isFatalConnectionError(code), false, code);
  }
});
