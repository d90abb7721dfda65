/**
 * Everything `mesos-http-scheduler` does after its flags are valid: with
 * `--ha`, wait to be elected leader; pick the leader source (static list,
 * ZooKeeper, or the embedded master) and the state store; run the scheduler.
 */
import type { Logger } from 'pino';
import type { LeaderSource } from '../client/leader-source.js';
import type { Config } from '../cli/config.js';
import { LeaderElection } from '../zk/leader-election.js';
import { leaderSourceFor } from './leader-source-for.js';
import { startLocalMaster, type LocalMaster } from './local-master.js';
import { runScheduler } from './scheduler.js';
import { Signals } from './signals.js';
import { initialStatus } from './status.js';
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

/**
 * `signals` and `status` are where metrics, a status endpoint or a progress
 * line attach (src/observability); they are created here when not given.
 */
export async function runFromConfig(config: Config, log: Logger, signals = new Signals(), status = initialStatus()): Promise<number> {
  let election: LeaderElection | undefined;
  if (config.ha !== undefined) {
    election = new LeaderElection(config.ha, { logger: log });
    if (!(await becomeLeader(election, log))) {
      await election.close();
      return 0;
    }
  }
  let local: LocalMaster | undefined;
  let source: LeaderSource;
  if (config.master.kind === 'local') {
    local = await startLocalMaster(config, log);
    source = local.source;
    const where = local;
    signals.on('taskEnded', ({ taskId }) => {
      const sandbox = where.sandboxOf(taskId);
      if (sandbox) log.info({ taskId, sandbox }, `output of task ${taskId} is in ${sandbox}`);
    });
  } else {
    source = leaderSourceFor(config.master, log);
  }
  try {
    const store = stateStoreFor(config, log, election);
    return await runScheduler(config, {
      log, source, store, signals, status,
      ...(election ? {
        stopMode: 'handover' as const,
        onStarted: (send) => election.onLeadershipLost((lost) => {
          log.error({ reason: lost.reason }, `lost leadership (${lost.message}); handing over`);
          send({ type: 'framework.handover' });
        }),
      } : {}),
    });
  } finally {
    await local?.stop();
    await election?.resign();
  }
}
