/**
 * The public surface of machines/: the framework machine with every effect
 * supplied (`buildFrameworkMachine`), the raw machines (visualization, tests)
 * the pure task steps and the pure policies.
 *
 *   const actor = createActor(buildFrameworkMachine(effects), { input }).start();
 *   actor.send(runtimeEvent);            // RuntimeEvent
 *   const output = await toPromise(actor); // FrameworkOutput
 */
import type { CallbackActorLogic, EventObject } from 'xstate';
import type { Effects, SubscriptionInput, TaskInspection } from './contract.js';
import { frameworkMachine } from './framework/framework.machine.js';
import { jobMachine } from './job/job.machine.js';
import { taskMachine } from './task/task.machine.js';
import { supervisorMachine } from './supervisor/supervisor.machine.js';

/** What src/runtime supplies as `effects.subscription`: `fromCallback<EventObject, SubscriptionInput>(...)`. */
export type SubscriptionLogic = CallbackActorLogic<EventObject, SubscriptionInput>;

export interface BuildOptions {
  /**
   * `--jobs`: the framework invokes the supervisor (one job actor per job of
   * the file) in place of the single job; FrameworkInput.jobs lists them.
   */
  jobs?: boolean;
}

/** The framework machine with the effects plugged into it and into its job (or supervisor) and task machines. */
export function buildFrameworkMachine(effects: Effects<SubscriptionLogic>, options: BuildOptions = {}) {
  const effectActions = {
    sendCall: (_: unknown, params: Parameters<typeof effects.sendCall>[0]) => effects.sendCall(params),
    persist: (_: unknown, params: Parameters<typeof effects.persist>[0]) => effects.persist(params),
    notify: (_: unknown, params: Parameters<typeof effects.notify>[0]) => effects.notify(params),
    inspectTask: (_: unknown, params: TaskInspection) => effects.inspectTask?.(params),
  };
  const single = jobMachine.provide({ actions: effectActions });
  const job = options.jobs === true
    ? supervisorMachine.provide({ actors: { job: single }, actions: { sendCall: effectActions.sendCall, notify: effectActions.notify } }) as unknown as typeof single
    : single;
  return frameworkMachine.provide({
    actors: { subscription: effects.subscription, job },
    actions: { sendCall: effectActions.sendCall, notify: effectActions.notify },
  });
}

export type FrameworkMachine = ReturnType<typeof buildFrameworkMachine>;

export { frameworkMachine, jobMachine, taskMachine, supervisorMachine };
export { clockMachine } from './supervisor/clock.machine.js';
export { subscriptionPlaceholder } from './framework/framework.machine.js';
export type { FrameworkContext, FrameworkEvent } from './framework/framework.context.js';
export type { JobContext, JobEvent, JobInput, JobOutput } from './job/job.context.js';
export type { TaskContext, TaskEvent, TaskInput, TaskOutcome } from './task/task.machine.js';
export { INSPECTED_TASKS_PER_ROUND, startTask, stepTask, type TaskSnapshot, type TaskStep } from './task/task.steps.js';
export { toPersistedState, initialJobContext } from './job/job.context.js';

export * from './policy/backoff.js';
export * from './policy/calls.js';
export * from './policy/exit-codes.js';
export * from './policy/master-errors.js';
export * from './policy/offer-plan.js';
export * from './policy/prng.js';
export * from './policy/task-info.js';
export * from './policy/task-status.js';
export * from './policy/timing.js';
