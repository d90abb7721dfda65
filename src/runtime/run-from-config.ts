/**
 * Everything `mesos-http-scheduler` does after its flags are valid: with
 * `--ha`, wait to be elected leader; pick the leader source (static list,
 * ZooKeeper, or the embedded master) and the state store; run the scheduler.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LeaderSource } from '../client/leader-source.js';
import type { Config } from '../config/run-config.js';
import { historyStoreFor, keepHistory, type KeptHistory, type RecordedJob, type RunHistory } from '../history/index.js';
import { LeaderElection } from '../zk/leader-election.js';
import { clusterIdentity } from './cluster-identity.js';
import { JobCatalogue } from './job-catalogue.js';
import { leaderSourceFor } from './leader-source-for.js';
import { startLocalMaster, type LocalMaster } from './local-master.js';
import { runScheduler, type RunDeps } from './scheduler.js';
import { Signals } from './signals.js';
import { initialStatus, type SchedulerStatus } from './status.js';
import { stateStoreFor } from './state-store-for.js';
import { handleStopSignals } from './stop-signals.js';

/** Stands by until elected; resolves false when a signal ended the wait. */
async function becomeLeader(election: LeaderElection, log: Logger): Promise<boolean> {
  const waiting = new AbortController();
  const remove = handleStopSignals({ stop: () => waiting.abort(), stopNow: () => waiting.abort() }, log, undefined);
  log.info({ ha: election.description }, `standing by for leadership in ${election.description}`);
  try {
    await election.waitForLeadership(waiting.signal);
    log.info({ ha: election.description }, 'elected leader; starting the framework');
    return true;
  } catch (err) {
    if (waiting.signal.aborted) return false;
    throw err;
  } finally {
    remove();
  }
}

export interface RunOptions {
  /** Where metrics, the status endpoint and the progress line listen (src/observability). */
  signals?: Signals;
  status?: SchedulerStatus;
  /** The Stately inspector's observer (`--inspect`). */
  inspect?: RunDeps['inspect'];
  /** The inspector's view of tasks (`--inspect`). */
  inspectTask?: RunDeps['inspectTask'];
  /** Gets the framework actor once it exists (machine states for /state). */
  onActor?: RunDeps['onActor'];
  /** The run history to load, record and store beside the state (the API and dashboard read it). */
  history?: RunHistory;
  /** Gets the embedded master once it runs (`--master local`): the dashboard serves task output from its sandboxes. */
  onLocalMaster?: (local: LocalMaster) => void;
  /** The jobs as the API and metrics see them (a reload changes them); default: those of `config`. */
  catalogue?: JobCatalogue;
}

/** What the run history records of each job of the catalogue. */
function recordedJobs(config: Config, catalogue: JobCatalogue): RecordedJob[] {
  if (config.jobs === undefined) return [{ name: config.job.name, tasksPerRound: config.job.maxTasks }];
  const names = (): readonly string[] => catalogue.names();
  return catalogue.list().map((job) => ({ name: job.name, tasksPerRound: job.maxTasks, jobsOfFile: names }));
}

export async function runFromConfig(config: Config, log: Logger, options: RunOptions = {}): Promise<number> {
  const signals = options.signals ?? new Signals();
  const status = options.status ?? initialStatus();
  const catalogue = options.catalogue ?? new JobCatalogue(config.jobs ?? [config.job], signals);
  let election: LeaderElection | undefined;
  if (config.ha !== undefined) {
    election = new LeaderElection(config.ha, { logger: log });
    if (!(await becomeLeader(election, log))) {
      await election.close();
      return 0;
    }
    signals.emit('leadership', { leader: true, ha: election.description });
  }
  let local: LocalMaster | undefined;
  let source: LeaderSource;
  if (config.master.kind === 'local') {
    local = await startLocalMaster(config, log);
    options.onLocalMaster?.(local);
    source = local.source;
    const where = local;
    signals.on('taskEnded', ({ taskId }) => {
      const sandbox = where.sandboxOf(taskId);
      if (sandbox) log.info({ taskId, sandbox }, `output of task ${taskId} is in ${sandbox}`);
    });
  } else {
    source = leaderSourceFor(config.master, log);
  }
  let kept: KeptHistory | undefined;
  let stopFollowing = (): void => {};
  let exitCode: number | undefined;
  try {
    const cluster = clusterIdentity(config.master);
    // The embedded master's state lives and dies with it: a file in its own temporary directory.
    const stateConfig = local ? { ...config, stateFile: join(local.workDir, 'state.json') } : config;
    const store = stateStoreFor(stateConfig, log, election, cluster);
    if (options.history) {
      // Beside --state-file even with the embedded master: the job's history outlives the cluster it ran on.
      const history = await keepHistory(options.history, signals, recordedJobs(config, catalogue),
        historyStoreFor(config, election), log);
      kept = history;
      const follow = (): void => history.follow(recordedJobs(config, catalogue));
      signals.on('jobsChanged', follow);
      stopFollowing = () => signals.off('jobsChanged', follow);
    }
    exitCode = await runScheduler(stateConfig, {
      log, source, store, signals, status, catalogue,
      ...(cluster !== undefined ? { cluster } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
      ...(options.inspectTask ? { inspectTask: options.inspectTask } : {}),
      ...(options.onActor ? { onActor: options.onActor } : {}),
      ...(election ? {
        stopMode: 'handover' as const,
        onStarted: (send) => election.onLeadershipLost((lost) => {
          log.error({ reason: lost.reason }, `lost leadership (${lost.message}); handing over`);
          signals.emit('leadership', { leader: false, ha: election.description, message: lost.message });
          send({ type: 'framework.handover' });
        }),
      } : {}),
    });
    return exitCode;
  } finally {
    // Without --ha nobody carries an open round on once the scheduler ends: its state is reset or it exits.
    stopFollowing();
    await kept?.stop({ interrupted: election === undefined && exitCode !== undefined });
    await local?.stop();
    await election?.resign();
  }
}
