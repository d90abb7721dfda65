/**
 * Test helper: an emulated Mesos cluster with fast defaults (allocation every
 * 20 ms, heartbeats every second, status update resends after 200 ms, small
 * agents, a master that loses leadership is back after 250 ms), stopped when the test ends.
 *
 *   const cluster = await withCluster(t, { agents: 2 });
 *   const url = cluster.leaderUrl()!;
 */
import type { TestContext } from 'node:test';
import { startCluster, type Cluster, type ClusterOptions } from '../../src/emulator/index.js';

export const FAST_CLUSTER_DEFAULTS: ClusterOptions = {
  allocationIntervalMs: 20,
  heartbeatIntervalSeconds: 1,
  agentRetryMs: 200,
  cpusPerAgent: 4,
  memPerAgent: 4096,
  diskPerAgent: 4096,
  masterRestartMs: 250,
};

export async function withCluster(t: Pick<TestContext, 'after'>, opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await startCluster({ ...FAST_CLUSTER_DEFAULTS, ...opts });
  t.after(() => cluster.stop());
  return cluster;
}
