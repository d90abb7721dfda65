/** Picks the LeaderSource for `--master`: a static list or ZooKeeper (`local` is handled by local-master.ts). */
import type { Logger } from 'pino';
import type { LeaderSource } from '../client/leader-source.js';
import { StaticLeaderSource } from '../client/static-leader-source.js';
import type { MasterSpec } from '../config/run-config.js';
import { ZkLeaderSource } from '../zk/master-detector.js';

export function leaderSourceFor(master: Exclude<MasterSpec, { kind: 'local' }>, log: Logger): LeaderSource {
  if (master.kind === 'zk') return new ZkLeaderSource(master.url, { logger: log });
  return new StaticLeaderSource(master.urls);
}
