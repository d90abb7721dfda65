/**
 * Publishes the emulated cluster's leading master to ZooKeeper the way Mesos
 * masters do (an EPHEMERAL_SEQUENTIAL `json.info_<seq>` node whose data is
 * the MasterInfo JSON, snake_case), so schedulers can find it with
 * `--master zk://host:port/path`, and `zk://` detection is tested against a
 * real ZooKeeper.
 *
 *   const publisher = await publishLeaderToZooKeeper(cluster, 'zk://127.0.0.1:2181/mesos');
 *   cluster.faults.electLeader(1);   // old node withdrawn, new one created
 *   await publisher.settled();        // ZooKeeper shows the new leader
 *   await publisher.close();
 *
 * On every 'leaderChanged' the old contender node is withdrawn first and the
 * new leader's created after (as in a real failover, detectors briefly see no
 * leader); no leader = no node. Updates are applied in order.
 */
import type { Logger } from 'pino';
import type { MasterInfo } from '../mesos/types.js';
import { ZkSession, type ZkSessionOptions } from '../zk/client.js';
import { createMasterContender, withdrawMasterContender } from '../zk/master-contender.js';
import { parseZkUrl, type ZkUrl } from '../zk/url.js';
import type { Cluster } from './index.js';

export interface ZkLeaderPublisher {
  /** The `zk://` URL schedulers should use (password masked). */
  readonly url: string;
  /** The contender node currently published, if any. */
  readonly node: string | undefined;
  /** Resolves when every leader change seen so far is visible in ZooKeeper. */
  settled(): Promise<void>;
  /** Stops following the cluster and withdraws the node (ends the session). */
  close(): Promise<void>;
}

export interface ZkPublisherOptions extends ZkSessionOptions {
  logger?: Logger;
}

/** Starts publishing; resolves once the current leader (if any) is in ZooKeeper. */
export async function publishLeaderToZooKeeper(
  cluster: Pick<Cluster, 'on' | 'off' | 'leaderIndex' | 'masterInfo'>,
  zkUrl: string | ZkUrl,
  options: ZkPublisherOptions = {},
): Promise<ZkLeaderPublisher> {
  const url = typeof zkUrl === 'string' ? parseZkUrl(zkUrl) : zkUrl;
  const log = options.logger?.child({ component: 'zk-publisher', zk: url.redacted });
  let session = new ZkSession(url, options);
  let node: string | undefined;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  let current: MasterInfo | undefined;

  const enqueue = (op: () => Promise<void>): Promise<void> => {
    queue = queue.then(op).catch((err: unknown) => {
      log?.error({ err: err instanceof Error ? err.message : String(err) }, 'could not publish the leading master to ZooKeeper');
    });
    return queue;
  };

  const publish = (info: MasterInfo | undefined): Promise<void> =>
    enqueue(async () => {
      if (closed) return;
      if (node) {
        await withdrawMasterContender(session, node);
        log?.info({ node }, 'withdrew the previous leader');
        node = undefined;
      }
      if (info) {
        node = await createMasterContender(session, url.path, info);
        log?.info({ node, master: info.address ?? info.pid }, 'published the leading master');
      }
    });

  const onLeaderChanged = (index: number | undefined, info?: MasterInfo): void => {
    current = index === undefined ? undefined : info ?? cluster.masterInfo(index);
    void publish(current);
  };

  const watchExpiry = (s: ZkSession): void => {
    s.client.on('expired', () => {
      if (closed || s !== session) return;
      log?.warn('ZooKeeper session expired; publishing again with a new session');
      void s.close();
      session = new ZkSession(url, options);
      watchExpiry(session);
      node = undefined; // went with the old session
      void publish(current);
    });
  };
  watchExpiry(session);

  cluster.on('leaderChanged', onLeaderChanged);
  const leader = cluster.leaderIndex();
  current = leader === undefined ? undefined : cluster.masterInfo(leader);
  await publish(current);

  return {
    url: url.redacted,
    get node() {
      return node;
    },
    settled: async () => {
      await queue;
    },
    close: async () => {
      if (closed) return;
      cluster.off('leaderChanged', onLeaderChanged);
      await queue;
      closed = true;
      if (node) {
        await withdrawMasterContender(session, node).catch(() => undefined);
        node = undefined;
      }
      await session.close();
    },
  };
}
