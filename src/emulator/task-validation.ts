/**
 * ACCEPT validation as src/master/validation.cpp does it: offers first (all
 * must exist, be the caller's, be distinct and be on one agent), then each
 * task of a LAUNCH (id, uniqueness, agent, kill policy, resources, command).
 * Error texts follow the master's so schedulers log the same messages.
 */
import type { ExecutorInfo, OfferID, TaskGroupInfo, TaskInfo } from '../mesos/types.js';
import type { FrameworkRecord, OfferRecord } from './model.js';
import { addBags, containsBag, emptyBag, formatBag, resourcesToBag, ResourceError, scalarTotals, type ResourceBag } from './resources.js';

/** Mesos' smallest executor (src/master/constants.hpp MIN_CPUS, MIN_MEM). */
const MIN_EXECUTOR_CPUS = 0.01;
const MIN_EXECUTOR_MEM = 32;

/** common/validation.cpp validateID. */
export function validateId(id: string): string | undefined {
  if (id.length === 0) return 'ID must not be empty';
  if (id.length > 255) return `ID must not be greater than 255 characters`;
  if (id === '.' || id === '..') return `'${id}' is disallowed`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/\\]/.test(id)) return `'${id}' contains invalid characters`;
  return undefined;
}

export function validateOffers(
  offerIds: readonly OfferID[],
  offers: ReadonlyMap<string, OfferRecord>,
  fw: FrameworkRecord,
): string | undefined {
  if (offerIds.length === 0) return 'No offers specified';
  const seen = new Set<string>();
  for (const { value } of offerIds) {
    if (seen.has(value)) return `Duplicate offer ${value} in offer list`;
    seen.add(value);
  }
  for (const { value } of offerIds) {
    const offer = offers.get(value);
    if (!offer) return `Offer ${value} is no longer valid`;
    if (offer.frameworkId !== fw.id) {
      return `Offer ${value} has invalid framework ${offer.frameworkId} while framework ${fw.id} is expected`;
    }
  }
  const first = offers.get(offerIds[0]!.value)!;
  for (const { value } of offerIds) {
    const offer = offers.get(value)!;
    if (offer.role !== first.role) {
      return `Aggregated offers must be allocated to the same role. Offer ${value} uses role ${offer.role} and offer ${first.id} uses role ${first.role}`;
    }
    if (offer.agentId !== first.agentId) {
      return `Aggregated offers must belong to one single agent. Offer ${value} uses agent ${offer.agentId} and offer ${first.id} uses agent ${first.agentId}`;
    }
  }
  return undefined;
}

/** The checks every task passes, alone or in a group (validation::task::internal::validateTask). */
function validateTaskCommon(
  task: TaskInfo,
  fw: FrameworkRecord,
  agentId: string,
  launchedNow: ReadonlySet<string>,
): { ok: ResourceBag } | { error: string } {
  const idError = validateId(task.task_id.value);
  if (idError) return { error: `Task has an invalid TaskID: ${idError}` };
  if (fw.tasks.has(task.task_id.value) || launchedNow.has(task.task_id.value)) {
    return { error: `Task has duplicate ID: ${task.task_id.value}` };
  }
  if (fw.unreachableTaskIds.has(task.task_id.value)) {
    return { error: `Task reuses the ID of an unreachable task: ${task.task_id.value}` };
  }
  if (task.agent_id.value !== agentId) {
    return { error: `Task uses invalid agent ${task.agent_id.value} while agent ${agentId} is expected` };
  }
  const grace = task.kill_policy?.grace_period?.nanoseconds;
  if (grace !== undefined && Number(grace) < 0) return { error: "Task's 'kill_policy.grace_period' must be non-negative" };
  const maxTime = task.max_completion_time?.nanoseconds;
  if (maxTime !== undefined && Number(maxTime) < 0) return { error: "Task's `max_completion_time` must be non-negative" };
  if (!task.resources || task.resources.length === 0) return { error: 'Task uses no resources' };
  try {
    return { ok: resourcesToBag(task.resources) };
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Task uses invalid resources: ${err.message}` };
    throw err;
  }
}

function sameExecutor(a: ExecutorInfo, b: ExecutorInfo): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * LAUNCH_GROUP validation (validation::task::group::validate): every task,
 * then the executor (type DEFAULT, its framework id, no command, no image,
 * at least 0.01 cpus, 32 MB mem and some disk unless it already runs), then
 * whether the group and executor fit what is left of the offers. Returns the
 * tasks' and the executor's resources, or the first error (for every task).
 */
export function validateTaskGroup(
  group: TaskGroupInfo,
  executor: ExecutorInfo,
  fw: FrameworkRecord,
  agentId: string,
  available: ResourceBag,
  launchedNow: ReadonlySet<string>,
  executorRunning: ExecutorInfo | undefined,
): { tasks: ResourceBag[]; executor: ResourceBag } | { error: string } {
  const tasks: ResourceBag[] = [];
  const inGroup = new Set(launchedNow);
  for (const task of group.tasks ?? []) {
    const r = validateTaskCommon(task, fw, agentId, inGroup);
    const invalid = (error: string): { error: string } => ({ error: `Task '${task.task_id.value}' is invalid: ${error}` });
    if ('error' in r) return invalid(r.error);
    if (task.container?.type === 'DOCKER') return invalid('Docker ContainerInfo is not supported on the task');
    inGroup.add(task.task_id.value);
    tasks.push(r.ok);
  }
  const executorId = executor.executor_id.value;
  const idError = validateId(executorId);
  // executor::validate, then executor::internal::validate
  if (executor.type === 'DEFAULT') {
    if (executor.command) return { error: "'ExecutorInfo.command' must not be set for 'DEFAULT' executor" };
    if (executor.container && executor.container.type !== 'MESOS') return { error: "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor" };
    if (executor.container?.mesos?.image) return { error: "'ExecutorInfo.container.mesos.image' must not be set for 'DEFAULT' executor" };
  } else if (executor.type === 'CUSTOM' && !executor.command) {
    return { error: "'ExecutorInfo.command' must be set for 'CUSTOM' executor" };
  }
  if (idError) return { error: `Executor has an invalid ExecutorID: ${idError}` };
  if (!executor.framework_id) return { error: "'ExecutorInfo.framework_id' must be set" };
  if (executor.framework_id.value !== fw.id) {
    return { error: `ExecutorInfo has an invalid FrameworkID (Actual: ${executor.framework_id.value} vs Expected: ${fw.id})` };
  }
  let executorBag: ResourceBag;
  try {
    executorBag = resourcesToBag(executor.resources);
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Executor uses invalid resources: ${err.message}` };
    throw err;
  }
  if (executorRunning && !sameExecutor(executorRunning, executor)) {
    return { error: 'ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID' };
  }
  // group::internal::validateExecutor
  if (executor.type === undefined) return { error: "'ExecutorInfo.type' must be set" };
  if (executor.type === 'UNKNOWN') return { error: 'Unknown executor type' };
  if (executor.container?.type === 'DOCKER') return { error: 'Docker ContainerInfo is not supported on the executor' };
  for (const task of group.tasks ?? []) {
    if (task.executor && !sameExecutor(task.executor, executor)) {
      return { error: `The \`ExecutorInfo\` of task '${task.task_id.value}' is different from executor '${executorId}'` };
    }
  }
  const has = (name: string): boolean => (executor.resources ?? []).some((r) => r.name === name);
  // Reserved and unreserved count alike.
  const executorScalars = scalarTotals(executorBag);
  if (!has('cpus') || executorScalars.cpus < MIN_EXECUTOR_CPUS) {
    return { error: `Executor '${executorId}' uses less CPUs (${has('cpus') ? executorScalars.cpus : 'None'}) than the minimum required (${MIN_EXECUTOR_CPUS})` };
  }
  if (!has('mem') || executorScalars.mem < MIN_EXECUTOR_MEM) {
    return { error: `Executor '${executorId}' uses less memory (${has('mem') ? `${executorScalars.mem}MB` : 'None'}) than the minimum required (${MIN_EXECUTOR_MEM}MB)` };
  }
  if (!has('disk')) return { error: `Executor '${executorId}' uses no disk` };
  let total = tasks.reduce((acc, b) => addBags(acc, b), emptyBag());
  if (!executorRunning) total = addBags(total, executorBag);
  if (!containsBag(available, total)) {
    return { error: `Total resources ${formatBag(total)} required by task group and its executor are more than available ${formatBag(available)}` };
  }
  return { tasks, executor: executorRunning ? emptyBag() : executorBag };
}

/** Validates one task against what is left of the offers; returns its resources or the error text. */
export function validateTask(
  task: TaskInfo,
  fw: FrameworkRecord,
  agentId: string,
  available: ResourceBag,
  launchedNow: ReadonlySet<string>,
): { ok: ResourceBag } | { error: string } {
  const common = validateTaskCommon(task, fw, agentId, launchedNow);
  if ('error' in common) return common;
  const bag = common.ok;
  if ((task.command === undefined) === (task.executor === undefined)) {
    return { error: 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present' };
  }
  // validation::task::internal::validateExecutor: LAUNCH takes only custom executors.
  if (task.executor?.type !== undefined && task.executor.type !== 'CUSTOM') return { error: "'ExecutorInfo.type' must be 'CUSTOM'" };
  if (!containsBag(available, bag)) {
    return { error: `Total resources ${formatBag(bag)} required by task and its executor is more than available ${formatBag(available)}` };
  }
  return { ok: bag };
}
