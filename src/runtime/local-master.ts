/**
 * `--master local`: an embedded Mesos-compatible master with one agent in
 * this process (src/emulator), running tasks as local processes. Task
 * sandboxes (stdout, stderr) are kept after exit so they can be read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LeaderSource } from '../client/leader-source.js';
import { StaticLeaderSource } from '../client/static-leader-source.js';
import type { Config } from '../config/run-config.js';
import { KEEP_CALLS_LONG_LIVED, startCluster, type Cluster } from '../emulator/index.js';

export interface LocalMaster {
  source: LeaderSource;
  cluster: Cluster;
  /** Root of the task sandboxes. */
  workDir: string;
  sandboxOf(taskId: string): string | undefined;
  stop(): Promise<void>;
}

export async function startLocalMaster(config: Config, log: Logger): Promise<LocalMaster> {
  const workDir = mkdtempSync(join(tmpdir(), `${config.job.name}-local-`));
  const cluster = await startCluster({
    masters: 1, agents: 1, cpusPerAgent: config.localCpus, memPerAgent: config.localMemMb,
    ...(config.localAttributes !== undefined ? { agentAttributes: [config.localAttributes] } : {}),
    allocationIntervalMs: 250, workDir, logger: log.child({ component: 'local-master' }), keepCalls: KEEP_CALLS_LONG_LIVED,
  });
  const url = cluster.masters[0]!.url;
  log.info({ master: cluster.masters[0]!.hostPort, workDir },
    `embedded master at ${cluster.masters[0]!.hostPort} with one agent (${config.localCpus} CPUs, ${config.localMemMb} MB${config.localAttributes !== undefined ? `, attributes ${config.localAttributes}` : ''}); task sandboxes (stdout, stderr) go under ${workDir}`);
  return {
    source: new StaticLeaderSource([url], `local (${cluster.masters[0]!.hostPort})`),
    cluster,
    workDir,
    sandboxOf: (taskId) => cluster.tasks().find((t) => t.taskId === taskId)?.sandbox,
    stop: () => cluster.stop(),
  };
}
