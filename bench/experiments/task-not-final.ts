/**
 * Experiment behind the memory-growth finding. Every task actor ends in a
 * *final* state, so its parent (the job) receives an event whose type is
 * unique per task, `xstate.done.actor.<taskId>`. xstate memoises transition
 * candidates per event type on every state node (StateNode.transition →
 * memo(this, `candidates-${eventType}`)) and never evicts them, so each task
 * lifecycle leaves a few arrays and strings behind for good (heap snapshot
 * diff: `candidates-xstate.done.actor.<taskId>` strings and ~9 Arrays per
 * lifecycle).
 *
 * Proposed fix in machines/task/task.machine.ts (not a bench file): make
 * `finished` and `failed` plain (non-final) states — they already report
 * `task.ended` on entry and the job stops the actor on that report, so
 * nothing waits for the task's done event. This module builds that variant
 * from the machine's own config, without touching machines/, to measure it.
 */
import { createMachine, type AnyStateMachine } from 'xstate';
import type { Effects } from '../../machines/contract.js';
import { buildFrameworkMachine, frameworkMachine, jobMachine, taskMachine, type SubscriptionLogic } from '../../machines/index.js';

export const TASK_NOT_FINAL_DIFF = `--- machines/task/task.machine.ts
-    finished: { type: 'final', entry: 'reportEnded' },
-    failed: { type: 'final', entry: 'reportEnded' },
+    // Not final: the job stops this actor on task.ended; a final state would send the job
+    // xstate.done.actor.<taskId>, an event type unique per task that xstate memoises forever.
+    finished: { entry: 'reportEnded' },
+    failed: { entry: 'reportEnded' },`;

/** True while machines/task/task.machine.ts still ends tasks in final states (the fix not applied yet). */
export function taskEndStatesAreFinal(): boolean {
  const states = (taskMachine.config as { states?: Record<string, { type?: string }> }).states ?? {};
  return states['finished']?.type === 'final' || states['failed']?.type === 'final';
}

export function buildWithNonFinalTasks(effects: Effects<SubscriptionLogic>): ReturnType<typeof buildFrameworkMachine> {
  const config = taskMachine.config as { states?: Record<string, Record<string, unknown>> };
  const states = { ...config.states };
  for (const name of ['finished', 'failed']) {
    const { type: _final, ...rest } = states[name] ?? {};
    states[name] = rest;
  }
  const { output: _output, ...withoutOutput } = taskMachine.config as Record<string, unknown>;
  const patchedTask = createMachine({ ...withoutOutput, states } as never, taskMachine.implementations as never) as AnyStateMachine;
  const act = {
    sendCall: (_: unknown, params: Parameters<typeof effects.sendCall>[0]) => effects.sendCall(params),
    persist: (_: unknown, params: Parameters<typeof effects.persist>[0]) => effects.persist(params),
    notify: (_: unknown, params: Parameters<typeof effects.notify>[0]) => effects.notify(params),
  };
  const task = patchedTask.provide({ actions: { sendCall: act.sendCall, notify: act.notify } } as never);
  const job = jobMachine.provide({ actors: { task: task as never }, actions: act });
  return frameworkMachine.provide({
    actors: { subscription: effects.subscription, job },
    actions: { sendCall: act.sendCall, notify: act.notify },
  }) as ReturnType<typeof buildFrameworkMachine>;
}
