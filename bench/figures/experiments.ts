/**
 * Before/after of the fix the status-update profile points to (see
 * experiments/): the same status-update trial with the runtime as it is, with
 * group commit of state writes, and with group commit plus a state file
 * written off the event loop. ratio = after / before (speed-up).
 */
import { AsyncFileStateStore } from '../experiments/async-state-store.js';
import { GROUP_COMMIT_DIFF, loadGroupCommitScheduler } from '../experiments/group-commit.js';
import { envInt, type BenchOptions } from '../lib/options.js';
import { figure, notMeasured, type Figure, type FigureOutput } from '../lib/results.js';
import { schedulerUpdateTrial } from './updates.js';

export async function runExperiments(opts: BenchOptions): Promise<FigureOutput> {
  const tasks = envInt('BENCH_EXPERIMENT_TASKS', opts.quick ? 100 : 200);
  opts.log(`experiments: status updates with ${tasks} tasks, before/after group commit`);
  const patched = await loadGroupCommitScheduler();
  if (typeof patched === 'string') {
    return { figures: [notMeasured('experiment.group-commit', 'Status updates/s with group commit', 'updates/s', patched)] };
  }
  const before = await schedulerUpdateTrial(tasks);
  const group = await schedulerUpdateTrial(tasks, 'protobuf', { run: patched });
  const both = await schedulerUpdateTrial(tasks, 'protobuf', { run: patched, store: (f) => new AsyncFileStateStore(f) });
  const before2 = await schedulerUpdateTrial(tasks);
  const base = (before.rate + before2.rate) / 2;
  const figures: Figure[] = [
    figure({
      id: 'experiment.before', name: `Status updates/s, ${tasks} tasks, runtime as is (before)`, value: base, unit: 'updates/s',
      detail: { runs: [before, before2] },
      notes: 'state writes and their time are in detail (writes, writeMs)',
    }),
    figure({
      id: 'experiment.group-commit', name: `Status updates/s, ${tasks} tasks, with group commit (after)`, value: group.rate, unit: 'updates/s',
      limit: base, limitName: 'before (runtime as is), same run', detail: { run: group },
      notes: 'runtime patched as in bench/experiments/group-commit.ts (copy in bench/.work/patched); ratio = speed-up',
    }),
    figure({
      id: 'experiment.group-commit-async', name: `Status updates/s, ${tasks} tasks, group commit + state file written off the event loop (after)`,
      value: both.rate, unit: 'updates/s', limit: base, limitName: 'before (runtime as is), same run', detail: { run: both },
      notes: 'plus bench/experiments/async-state-store.ts (fs.promises, same atomic steps); ratio = speed-up',
    }),
  ];
  return { figures, method: [`Experiment (status updates before/after): the proposed change to src/runtime/scheduler.ts, measured on a generated copy:\n\n\`\`\`diff\n${GROUP_COMMIT_DIFF}\n\`\`\``] };
}
