/**
 * What `--notify-url` receives, one JSON object per POST:
 *   round.failed       a round ended with failed tasks (the run, with its first 20 failures)
 *   job.recovered      a job's first successful round after failed ones
 *   (a round we killed, `killed`, sends neither and counts neither way for job.recovered)
 *   framework.error    the master removed the framework, or the scheduler gave up (fatal)
 *   leadership.gained  with --ha: this instance was elected and starts the framework
 *   leadership.lost    with --ha: this instance no longer leads (it hands over)
 * Every event has `seq` (1, 2, ... per process, in the order sent), `at`, `framework` (the framework's
 * name) and `host`; job events have `job` and `run`.
 */
import { hostname } from 'node:os';
import type { HistoryChange, RunHistory, RunRecord } from '../history/index.js';
import type { Signals } from '../runtime/signals.js';
import type { Notifier } from './notifier.js';

export type NotifyEvent = {
  seq: number;
  at: string;
  framework: string;
  host: string;
} & (
  | { type: 'round.failed' | 'job.recovered'; job: string; run: RunRecord }
  | { type: 'framework.error'; message: string }
  | { type: 'leadership.gained' | 'leadership.lost'; ha: string; message?: string }
);

/** Sends the events above from the runtime's signals and the run history; returns a function that stops it. */
export function notifyFrom(signals: Signals, history: RunHistory, notifier: Notifier, framework: string): () => void {
  const base = { framework, host: hostname() };
  const onChange = (change: HistoryChange): void => {
    if (change.kind !== 'run' || change.what !== 'finished') return;
    const { job, run } = change;
    if (run.outcome === 'failed') {
      notifier.send({ ...base, type: 'round.failed', job, run });
    } else if (run.outcome === 'succeeded') {
      const before = history.runs(job).filter((r) => r.run < run.run && (r.outcome === 'succeeded' || r.outcome === 'failed')).at(-1);
      if (before?.outcome === 'failed') notifier.send({ ...base, type: 'job.recovered', job, run });
    }
  };
  const onFatal = ({ message }: { message: string }): void => notifier.send({ ...base, type: 'framework.error', message });
  const onRemoved = ({ frameworkId, message }: { frameworkId: string; message: string }): void =>
    notifier.send({ ...base, type: 'framework.error', message: `framework ${frameworkId} was removed by the master: ${message}` });
  const onLeadership = ({ leader, ha, message }: { leader: boolean; ha: string; message?: string }): void =>
    notifier.send({ ...base, type: leader ? 'leadership.gained' : 'leadership.lost', ha, ...(message !== undefined ? { message } : {}) });
  const stopHistory = history.onChange(onChange);
  signals.on('fatal', onFatal);
  signals.on('frameworkRemoved', onRemoved);
  signals.on('leadership', onLeadership);
  return () => {
    stopHistory();
    signals.off('fatal', onFatal);
    signals.off('frameworkRemoved', onRemoved);
    signals.off('leadership', onLeadership);
  };
}
