/**
 * Picks the StateStore: the `--state-file` journal, or with `--ha` the
 * ZooKeeper node next to the election (so a standby carries on where the
 * leader stopped), written only while we lead.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/run-config.js';
import { FileStateStore } from '../state/state-file.js';
import type { StateStore } from '../state/store.js';
import type { LeaderElection } from '../zk/leader-election.js';
import { ZkStateStore } from '../zk/state-store.js';

export function stateStoreFor(config: Config, log: Logger, election?: LeaderElection, cluster?: string): StateStore {
  if (config.ha !== undefined && election) {
    return new ZkStateStore(config.ha, { election, logger: log, timeoutMs: config.stateTimeoutMs, ...(cluster !== undefined ? { cluster } : {}) });
  }
  return new FileStateStore(config.stateFile, {
    logger: log,
    ...(cluster !== undefined ? { cluster } : {}),
    onWrite: (info, file) => log.debug({ file, ...info }, info.snapshot ? 'state snapshot written' : 'state changes appended'),
  });
}
