/**
 * The master side of `zk://` detection, as Mesos masters do it
 * (src/master/contender/zookeeper.cpp): a contender node
 * `<path>/json.info_<seq>`, EPHEMERAL_SEQUENTIAL, whose data is the MasterInfo
 * in the protobuf JSON mapping (snake_case). Used by the emulator's publisher
 * and by tests; the scheduler itself never writes these.
 */
import type { MasterInfo } from '../mesos/types.js';
import { CreateMode, isZkError, ZkCode, type ZkSession } from './client.js';
import { MASTER_INFO_LABEL } from './master-info.js';
import { joinZkPath } from './url.js';

/**
 * Creates a contender node for `info` under `path` (creating the path if
 * needed) and returns its full znode path. The node goes away with the session
 * or with `withdrawMasterContender`.
 */
export async function createMasterContender(session: ZkSession, path: string, info: MasterInfo): Promise<string> {
  await session.mkdirp(path);
  return session.create(joinZkPath(path, `${MASTER_INFO_LABEL}_`), Buffer.from(JSON.stringify(info)), CreateMode.EPHEMERAL_SEQUENTIAL);
}

/** Deletes a contender node; a node that is already gone is fine. */
export async function withdrawMasterContender(session: ZkSession, node: string): Promise<void> {
  try {
    await session.remove(node);
  } catch (err) {
    if (!isZkError(err, ZkCode.NO_NODE)) throw err;
  }
}
