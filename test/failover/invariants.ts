/**
 * The invariants every failover test and the chaos run check once the
 * scheduler is done, computed from what the emulated masters saw (calls,
 * tasks, frameworks, status updates) and what the scheduler logged:
 *
 *  - one framework id (or as many as the test removed on purpose): the ids the
 *    scheduler learned ("subscribed with framework id X"), every SUBSCRIBE with
 *    an id and every other call carry one of them;
 *  - no duplicate launch: no task id in two LAUNCH operations, no (round,
 *    index) launched twice (task ids are `<name>-r<round>-t<index>-<runId>`);
 *  - round accounting exact: each complete round launched exactly tasks
 *    1..maxTasks, logged "round N done: F finished, X failed" with F + X =
 *    maxTasks and F = its tasks the masters saw finish;
 *  - every task launched ended (terminal at the masters and in the log);
 *  - never more than maxTasks tasks non-terminal at once;
 *  - every status update an agent sent (those carry a uuid) was acknowledged;
 *  - no offer held at the end.
 */
import type { EventEmitter } from 'node:events';
import type { Cluster } from '../../src/emulator/index.js';
import type { TaskStatus } from '../../src/mesos/types.js';
import type { LogLine } from './scheduler-process.js';
import { isTerminalState } from '../../machines/policy/task-status.js';

/** Terminal task states: the scheduler's one list (Mesos' own). */
export const isTerminal = isTerminalState;

/** Agent status updates (with uuid) as the masters passed them on, per task. */
export interface UpdateWatch {
  updates: Array<{ frameworkId: string; taskId: string; uuid: string; state: string }>;
  stop(): void;
}

/**
 * Records every agent status update the master handles. The Cluster API has
 * no view of unacknowledged updates (the agents' StatusUpdateManager.pending()
 * is private), so this listens to the master core's 'taskState' event, which
 * fires for each update an agent delivers (src/emulator/master.ts statusUpdate).
 */
export function watchUpdates(cluster: Cluster): UpdateWatch {
  const core = (cluster as unknown as { core: EventEmitter }).core;
  const updates: UpdateWatch['updates'] = [];
  const seen = new Set<string>();
  const listener = (task: { frameworkId: string; taskId: string; latestStatus?: TaskStatus }): void => {
    const status = task.latestStatus;
    if (!status?.uuid) return;
    const key = `${task.frameworkId}/${task.taskId}/${status.uuid}`;
    if (seen.has(key)) return;
    seen.add(key);
    updates.push({ frameworkId: task.frameworkId, taskId: task.taskId, uuid: status.uuid, state: status.state });
  };
  core.on('taskState', listener);
  return { updates, stop: () => core.off('taskState', listener) };
}

export interface LaunchRecord { taskId: string; round: number; index: number; at: number }

export function launches(cluster: Cluster): LaunchRecord[] {
  const out: LaunchRecord[] = [];
  for (const r of cluster.received) {
    if (r.call.type !== 'ACCEPT') continue;
    for (const op of r.call.accept?.operations ?? []) {
      for (const t of op.launch?.task_infos ?? []) {
        const m = /-r(\d+)-t(\d+)-[^-]+$/.exec(t.task_id.value);
        out.push({ taskId: t.task_id.value, round: m ? Number(m[1]) : -1, index: m ? Number(m[2]) : -1, at: r.at });
      }
    }
  }
  return out;
}

export interface InvariantOptions {
  /** Framework name (--name). */
  name: string;
  maxTasks: number;
  /** Rounds that must be complete (tasks 1..maxTasks each launched once or accounted for as lost, logged done). */
  completeRounds: number;
  /**
   * The round after them, interrupted by a stop (SIGTERM): it may have launched
   * fewer than maxTasks tasks; those it launched must have ended, once each,
   * and if it logged done its counts must match the masters.
   */
  partialRound?: number;
  /** Framework ids the scheduler may have used (1, or more after a failover timeout removed one). */
  expectedFrameworks: number;
  /** Log lines of every run of the scheduler. */
  lines: readonly LogLine[];
}

export interface InvariantReport {
  violations: string[];
  frameworkIds: string[];
  launched: number;
  finished: number;
  failed: number;
  roundsDone: Map<number, { finished: number; failed: number }>;
  /** Tasks written ahead but never ACCEPTed (a SIGKILL in between), which the scheduler counted as lost. */
  neverSent: string[];
  acknowledged: number;
  maxConcurrent: number;
}

export function checkInvariants(cluster: Cluster, watch: UpdateWatch, opts: InvariantOptions): InvariantReport {
  const v: string[] = [];
  const msgs = opts.lines.map((l) => String(l.msg ?? ''));

  // --- framework ids
  const learned = new Set<string>();
  for (const m of msgs) {
    const hit = /^(?:re-)?subscribed with framework id (\S+)/.exec(m);
    if (hit) learned.add(hit[1]!);
  }
  const frameworkIds = [...learned];
  if (learned.size !== opts.expectedFrameworks) {
    v.push(`expected ${opts.expectedFrameworks} framework id(s), the scheduler subscribed with ${learned.size}: ${frameworkIds.join(', ')}`);
  }
  for (const r of cluster.received) {
    const id = r.call.type === 'SUBSCRIBE' ? r.call.subscribe?.framework_info.id?.value : r.call.framework_id?.value;
    if (id !== undefined && !learned.has(id)) v.push(`${r.call.type} call with framework id ${id}, which the scheduler never subscribed with`);
  }
  const taskOwners = new Set(cluster.tasks().map((t) => t.frameworkId));
  for (const id of taskOwners) if (!learned.has(id)) v.push(`framework ${id} owns tasks but the scheduler never subscribed with it`);

  // --- launches
  const launched = launches(cluster);
  const byId = new Map<string, number>();
  const bySlot = new Map<string, string[]>();
  for (const l of launched) {
    byId.set(l.taskId, (byId.get(l.taskId) ?? 0) + 1);
    const slot = `r${l.round}-t${l.index}`;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), l.taskId]);
    if (l.round < 1 || l.index < 1 || l.index > opts.maxTasks) v.push(`task id ${l.taskId} is not <name>-r<round>-t<1..${opts.maxTasks}>-<run>`);
  }
  for (const [id, n] of byId) if (n > 1) v.push(`task ${id} launched ${n} times`);
  for (const [slot, ids] of bySlot) if (ids.length > 1) v.push(`${slot} launched ${ids.length} times: ${ids.join(', ')}`);

  // --- every launched task ended, at the masters and in the scheduler's log
  const tasks = new Map(cluster.tasks().map((t) => [t.taskId, t]));
  for (const t of tasks.values()) if (!isTerminal(t.state)) v.push(`task ${t.taskId} is still ${t.state}`);
  const endedInLog = new Set<string>();
  for (const m of msgs) {
    const hit = /^(?:finished task (\S+)$|task (\S+) failed: )/.exec(m);
    if (hit) endedInLog.add((hit[1] ?? hit[2])!);
  }
  for (const l of launched) {
    if (!endedInLog.has(l.taskId)) v.push(`task ${l.taskId} was launched but the scheduler never logged it as finished or failed`);
  }

  // --- round accounting
  const roundsDone = new Map<number, { finished: number; failed: number }>();
  for (const m of msgs) {
    const hit = /^round (\d+) done: (\d+) finished, (\d+) failed$/.exec(m);
    if (!hit) continue;
    const round = Number(hit[1]);
    const counts = { finished: Number(hit[2]), failed: Number(hit[3]) };
    const prev = roundsDone.get(round);
    if (prev && (prev.finished !== counts.finished || prev.failed !== counts.failed)) {
      v.push(`round ${round} logged done twice with different counts: ${JSON.stringify(prev)} and ${JSON.stringify(counts)}`);
    }
    roundsDone.set(round, counts);
  }
  // Task ids the scheduler logged as ended, by round and index (a task written ahead of an ACCEPT that never
  // went out, because the scheduler was killed in between, ends as lost in the log without reaching a master).
  const endedSlots = new Map<string, string>();
  for (const id of endedInLog) {
    const m = /-r(\d+)-t(\d+)-[^-]+$/.exec(id);
    if (m) endedSlots.set(`r${m[1]}-t${m[2]}`, id);
  }
  // Finished = the master says TASK_FINISHED, or its agent reported TASK_FINISHED (with a uuid). The second
  // covers an emulator inaccuracy: losing an agent turns its tasks that already ended (terminal update not yet
  // acknowledged) from TASK_FINISHED into TASK_LOST at the master, where Mesos keeps the terminal state.
  const agentFinished = new Set(watch.updates.filter((u) => u.state === 'TASK_FINISHED').map((u) => u.taskId));
  const acked = new Set<string>();
  for (const r of cluster.received) {
    if (r.call.type === 'ACKNOWLEDGE' && r.call.acknowledge) acked.add(`${r.call.acknowledge.task_id.value}/${r.call.acknowledge.uuid}`);
  }
  // A framework id the scheduler later replaced was removed behind its back (failover timeout): its last updates were never delivered.
  const removedByTimeout = new Set<string>([...learned].slice(0, -1));
  // A task that finished while its framework was away and then removed: the scheduler never heard of it and,
  // told the framework was removed, counts it lost. Only a TASK_FINISHED it acknowledged counts as finished there.
  const finishedAndAcked = new Set(watch.updates.filter((u) => u.state === 'TASK_FINISHED' && acked.has(`${u.taskId}/${u.uuid}`)).map((u) => u.taskId));
  const finishedTask = (taskId: string): boolean => {
    const owner = tasks.get(taskId)?.frameworkId;
    if (owner !== undefined && removedByTimeout.has(owner)) return finishedAndAcked.has(taskId);
    return tasks.get(taskId)?.state === 'TASK_FINISHED' || agentFinished.has(taskId);
  };
  const neverSent: string[] = [];
  const checkRound = (round: number, partial: boolean): void => {
    const inRound = launched.filter((l) => l.round === round);
    const done = roundsDone.get(round);
    if (!partial) {
      for (let index = 1; index <= opts.maxTasks; index++) {
        const slot = `r${round}-t${index}`;
        if (!bySlot.has(slot) && !endedSlots.has(slot)) v.push(`round ${round} never launched task ${index} (nor accounted for it as lost)`);
        else if (!bySlot.has(slot)) neverSent.push(endedSlots.get(slot)!);
      }
      if (!done) { v.push(`round ${round} never logged done`); return; }
      if (done.finished + done.failed !== opts.maxTasks) v.push(`round ${round}: ${done.finished} finished + ${done.failed} failed != ${opts.maxTasks}`);
    } else if (done && done.finished + done.failed > opts.maxTasks) {
      v.push(`round ${round} (stopped): ${done.finished} finished + ${done.failed} failed > ${opts.maxTasks}`);
    }
    if (!done) return;
    const finishedAtMaster = inRound.filter((l) => finishedTask(l.taskId)).length;
    if (finishedAtMaster !== done.finished) v.push(`round ${round}: scheduler counted ${done.finished} finished, the masters saw ${finishedAtMaster}`);
  };
  for (let round = 1; round <= opts.completeRounds; round++) checkRound(round, false);
  if (opts.partialRound !== undefined) checkRound(opts.partialRound, true);
  const lastAllowed = opts.partialRound ?? opts.completeRounds;
  for (const round of roundsDone.keys()) {
    if (round > lastAllowed) v.push(`round ${round} logged done, more than the ${lastAllowed} expected`);
  }
  for (const l of launched) if (l.round > lastAllowed) v.push(`task ${l.taskId} launched in round ${l.round}, after the last expected round ${lastAllowed}`);

  // --- concurrency: at most maxTasks non-terminal tasks at any time (ends before starts at equal times)
  const edges: Array<[number, number]> = [];
  for (const t of tasks.values()) {
    edges.push([t.launchedAt, 1]);
    // A task killed by a framework removal has no endedAt; it ended no later than the removal, before any relaunch.
    if (t.endedAt !== undefined) edges.push([t.endedAt, -1]);
    else if (isTerminal(t.state)) edges.push([t.launchedAt, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let maxConcurrent = 0;
  for (const [, d] of edges) { now += d; maxConcurrent = Math.max(maxConcurrent, now); }
  if (maxConcurrent > opts.maxTasks) v.push(`${maxConcurrent} tasks were non-terminal at once, more than maxtasks ${opts.maxTasks}`);

  // --- acknowledgements: every agent update (uuid) of a framework that was not removed by a failover timeout
  let acknowledged = 0;
  for (const u of watch.updates) {
    if (acked.has(`${u.taskId}/${u.uuid}`)) { acknowledged++; continue; }
    if (removedByTimeout.has(u.frameworkId)) continue;
    v.push(`update ${u.state} (uuid ${u.uuid}) of task ${u.taskId} was never acknowledged`);
  }

  // --- offers
  for (const fw of cluster.frameworks()) {
    if (fw.outstandingOffers > 0) v.push(`framework ${fw.id} still holds ${fw.outstandingOffers} offer(s)`);
  }

  const finished = launched.filter((l) => finishedTask(l.taskId)).length;
  return {
    violations: v, frameworkIds, launched: launched.length, finished, failed: launched.length - finished,
    roundsDone, acknowledged, maxConcurrent, neverSent,
  };
}
