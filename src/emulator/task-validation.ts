/**
 * ACCEPT validation as src/master/validation.cpp does it: offers first (all
 * must exist, be the caller's, be distinct and be on one agent), then each
 * task of a LAUNCH (id, uniqueness, agent, kill policy, resources, command).
 * Error texts follow the master's so schedulers log the same messages.
 */
import type { OfferID, TaskInfo } from '../mesos/types.js';
import type { FrameworkRecord, OfferRecord } from './model.js';
import { containsBag, formatBag, resourcesToBag, ResourceError, type ResourceBag } from './resources.js';

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

/** Validates one task against what is left of the offers; returns its resources or the error text. */
export function validateTask(
  task: TaskInfo,
  fw: FrameworkRecord,
  agentId: string,
  available: ResourceBag,
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
  let bag: ResourceBag;
  try {
    bag = resourcesToBag(task.resources);
  } catch (err) {
    if (err instanceof ResourceError) return { error: `Task uses invalid resources: ${err.message}` };
    throw err;
  }
  if ((task.command === undefined) === (task.executor === undefined)) {
    return { error: 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present' };
  }
  if (!containsBag(available, bag)) {
    return { error: `Total resources ${formatBag(bag)} required by task and its executor is more than available ${formatBag(available)}` };
  }
  return { ok: bag };
}
