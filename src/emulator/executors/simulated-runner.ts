/**
 * Tasks without processes, for benchmarks and scale tests: STARTING and
 * RUNNING at once, then FINISHED (or what `exit` says) after `durationMs`
 * (FAILED with REASON_MAX_COMPLETION_TIME_REACHED if max_completion_time is shorter).
 * One timer per task; nothing scans all tasks.
 */
import type { TaskInfo } from '../../mesos/types.js';
import type { RunningTask, TaskRunContext, TaskRunner } from './types.js';

export interface SimulatedRunnerOptions {
  durationMs: number;
  exit?: (task: TaskInfo) => 'TASK_FINISHED' | 'TASK_FAILED';
}

export class SimulatedRunner implements TaskRunner {
  private readonly live = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SimulatedRunnerOptions) {}

  launch(ctx: TaskRunContext): RunningTask {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      done = true;
      if (timer) { clearTimeout(timer); this.live.delete(timer); }
    };
    ctx.report({ state: 'TASK_STARTING', source: 'SOURCE_EXECUTOR' });
    ctx.report({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
    const maxNs = ctx.task.max_completion_time?.nanoseconds;
    const maxMs = maxNs === undefined ? undefined : Number(maxNs) / 1e6;
    if (maxMs !== undefined && maxMs < this.opts.durationMs) {
      // The executor kills a task that outlives max_completion_time.
      timer = setTimeout(() => {
        finish();
        ctx.report({ state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message: 'Command terminated with signal Terminated' });
      }, maxMs);
    } else {
      timer = setTimeout(() => {
        finish();
        const state = this.opts.exit?.(ctx.task) ?? 'TASK_FINISHED';
        ctx.report({ state, source: 'SOURCE_EXECUTOR', message: state === 'TASK_FINISHED' ? 'Command exited with status 0' : 'Command exited with status 1' });
      }, this.opts.durationMs);
    }
    timer.unref();
    this.live.add(timer);
    return {
      kill: (_grace, sendKilling) => {
        if (done) return;
        finish();
        if (sendKilling) ctx.report({ state: 'TASK_KILLING', source: 'SOURCE_EXECUTOR' });
        ctx.report({ state: 'TASK_KILLED', source: 'SOURCE_EXECUTOR', message: 'Command terminated with signal Terminated' });
      },
      destroy: finish,
    };
  }

  async stopAll(): Promise<void> {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}
