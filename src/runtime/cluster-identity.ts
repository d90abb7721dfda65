/**
 * Which cluster a state belongs to, and what to do with a state of another.
 *
 * The identity is a line of text recorded in every snapshot of the state:
 * - a list of masters: `masters host1:port1,host2:port2` (hosts in lower case,
 *   sorted and without duplicates: the same masters in any order, with or
 *   without `https://`, are the same cluster);
 * - ZooKeeper: `zk host1:2181,host2:2181/mesos` (servers sorted, then the path;
 *   credentials left out).
 * The embedded master (`--master local`) has none: its state lives in the
 * master's own temporary directory (src/runtime/run-from-config.ts).
 */
import type { Logger } from 'pino';
import type { MasterSpec } from '../config/run-config.js';
import { StateStoreError, type StoredState } from '../state/store.js';
import { parseZkUrl } from '../zk/url.js';

export function clusterIdentity(master: MasterSpec): string | undefined {
  if (master.kind === 'local') return undefined;
  if (master.kind === 'zk') {
    const url = parseZkUrl(master.url);
    const servers = [...new Set(url.servers.map((s) => `${s.host.toLowerCase()}:${s.port}`))].sort();
    return `zk ${servers.join(',')}${url.path}`;
  }
  const hosts = [...new Set(master.urls.map((u) => new URL(u).host.toLowerCase()))].sort();
  return `masters ${hosts.join(',')}`;
}

/**
 * The state to carry on from: `stored` when it belongs to `cluster` (or names
 * none: it was written before clusters were recorded, and is adopted).
 * A state of another cluster is refused (STATE_OTHER_CLUSTER: one line with
 * `where`, the cluster it belongs to and the one asked for). With `reset` any
 * stored state is forgotten (undefined) and the ids of its tasks in flight,
 * which may still run on their cluster, are logged.
 */
export function stateForCluster(
  stored: StoredState | undefined,
  options: { cluster: string | undefined; reset: boolean; where: string; log: Logger },
): StoredState['state'] | undefined {
  if (stored === undefined) return undefined;
  const { cluster, reset, where, log } = options;
  const other = stored.cluster !== undefined && cluster !== undefined && stored.cluster !== cluster;
  if (!other && !reset) return stored.state;
  if (!reset) {
    throw new StateStoreError('STATE_OTHER_CLUSTER',
      `${where} belongs to cluster '${stored.cluster}', not '${cluster}'; to start afresh there pass --reset-state (its tasks in flight are then forgotten), or pass another --state-file`);
  }
  const taskIds = stored.state.tasks.map((t) => t.taskId);
  log.warn({ state: where, cluster: stored.cluster, frameworkId: stored.state.frameworkId, taskIds },
    `--reset-state: forgetting ${where}${stored.cluster !== undefined ? ` of cluster '${stored.cluster}'` : ''} (framework id ${stored.state.frameworkId ?? '(none)'}); ` +
      `its tasks in flight, which may still run there: ${taskIds.length ? taskIds.join(', ') : 'none'}`);
  return undefined;
}
