/**
 * ZooKeeper integration, in one import:
 * - `parseZkUrl` / `isZkUrl`: `zk://[user:pass@]h1:p1,h2:p2/path`
 * - `ZkLeaderSource`: LeaderSource for `--master zk://...` (follows the Mesos leader)
 * - `LeaderElection`: `--ha zk://...` scheduler leader election
 * - `ZkStateStore`: StateStore in `<ha path>/state`, version-checked and fenced
 * - `ZkSession`: the shared promise wrapper around node-zookeeper-client
 */
export { parseZkUrl, isZkUrl, joinZkPath, ZkUrlError, type ZkUrl, type ZkServer } from './url.js';
export { ZkSession, ZkCode, isZkError, zkErrorCode, type ZkSessionOptions } from './client.js';
export { ZkLeaderSource, type ZkLeaderSourceOptions, type DetectedLeader } from './master-detector.js';
export { masterInfoToUrl, pickLeaderChild, parseMasterInfo, contenderSequence, MASTER_INFO_LABEL, type MasterUrlOptions } from './master-info.js';
export { createMasterContender, withdrawMasterContender } from './master-contender.js';
export {
  LeaderElection,
  memberSequence,
  MEMBER_PREFIX,
  type LeaderElectionOptions,
  type LeadershipLost,
  type MemberInfo,
  type ElectionMember,
  type ElectionPhase,
} from './leader-election.js';
export { ZkStateStore, type ZkStateStoreOptions } from './state-store.js';
