/**
 * Pure builders of scheduler Calls in the Mesos JSON mapping. They leave
 * `framework_id` out (except SUBSCRIBE, where it decides new vs. re-subscribe):
 * the runtime stamps the current framework id on every call it sends.
 */
import type { Call, Filters, FrameworkInfo, Operation, TaskInfo } from '../../src/mesos/types.js';
import type { SubscriptionInput } from '../contract.js';

/** SUBSCRIBE: new framework without id; re-subscribe with the same id in both places. */
export function subscribeCall(input: Pick<SubscriptionInput, 'frameworkInfo' | 'frameworkId' | 'suppressedRoles'>): Call {
  const { id: _ignored, ...info } = input.frameworkInfo;
  const frameworkInfo = input.frameworkId === undefined ? info : { ...info, id: { value: input.frameworkId } };
  const call: Call = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo } };
  if (input.suppressedRoles.length > 0) call.subscribe = { framework_info: frameworkInfo, suppressed_roles: [...input.suppressedRoles] };
  if (input.frameworkId !== undefined) call.framework_id = { value: input.frameworkId };
  return call;
}

/**
 * UPDATE_FRAMEWORK (Mesos 1.9+): the whole new FrameworkInfo, with the
 * framework's own id (the master checks it against the call's framework_id),
 * and the roles to keep suppressed (a subset of the new roles; the others get
 * offers, with their filters cleared if they were suppressed).
 */
export function updateFrameworkCall(frameworkInfo: FrameworkInfo, frameworkId: string, suppressedRoles: readonly string[]): Call {
  const update: NonNullable<Call['update_framework']> = { framework_info: { ...frameworkInfo, id: { value: frameworkId } } };
  if (suppressedRoles.length > 0) update.suppressed_roles = [...suppressedRoles];
  return { type: 'UPDATE_FRAMEWORK', update_framework: update };
}

function filters(refuseSeconds: number | undefined): Filters | undefined {
  return refuseSeconds === undefined ? undefined : { refuse_seconds: refuseSeconds };
}

export function launchOperation(taskInfos: TaskInfo[]): Operation {
  return { type: 'LAUNCH', launch: { task_infos: taskInfos } };
}

/** ACCEPT of one offer with its operations; unused resources are refused for `refuseSeconds`. */
export function acceptCall(offerIds: string[], operations: Operation[], refuseSeconds?: number): Call {
  const f = filters(refuseSeconds);
  return {
    type: 'ACCEPT',
    accept: { offer_ids: offerIds.map((value) => ({ value })), operations, ...(f ? { filters: f } : {}) },
  };
}

export function declineCall(offerIds: string[], refuseSeconds?: number): Call {
  const f = filters(refuseSeconds);
  return { type: 'DECLINE', decline: { offer_ids: offerIds.map((value) => ({ value })), ...(f ? { filters: f } : {}) } };
}

/** REVIVE the roles (all subscribed roles when empty); also clears refuse filters. */
export function reviveCall(roles: string[]): Call {
  return { type: 'REVIVE', revive: roles.length > 0 ? { roles: [...roles] } : {} };
}

export function suppressCall(roles: string[]): Call {
  return { type: 'SUPPRESS', suppress: roles.length > 0 ? { roles: [...roles] } : {} };
}

/** ACKNOWLEDGE echoes agent id, task id and uuid (base64) of the update exactly. */
export function acknowledgeCall(agentId: string, taskId: string, uuid: string): Call {
  return { type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: taskId }, uuid } };
}

/** RECONCILE: explicit for the listed tasks, implicit (every task the master knows) when empty. */
export function reconcileCall(tasks: { taskId: string; agentId?: string | undefined }[]): Call {
  return {
    type: 'RECONCILE',
    reconcile: {
      tasks: tasks.map((t) => (t.agentId === undefined
        ? { task_id: { value: t.taskId } }
        : { task_id: { value: t.taskId }, agent_id: { value: t.agentId } })),
    },
  };
}

/** KILL; with `graceSeconds`, a kill policy: Mesos asks the task to stop and kills it once the grace has passed. */
export function killCall(taskId: string, agentId?: string, graceSeconds?: number): Call {
  return {
    type: 'KILL',
    kill: {
      task_id: { value: taskId },
      ...(agentId === undefined ? {} : { agent_id: { value: agentId } }),
      ...(graceSeconds === undefined ? {} : { kill_policy: { grace_period: { nanoseconds: Math.round(graceSeconds * 1e9) } } }),
    },
  };
}

/** TEARDOWN: Mesos kills every task and forgets the framework id for good. */
export function teardownCall(): Call {
  return { type: 'TEARDOWN' };
}
