/**
 * Where the scheduler looks for the leading master. A static `--master` list,
 * ZooKeeper (`zk://`) and the embedded master (`local`) each implement it.
 */
export interface LeaderSource {
  /** A readable description for logs, e.g. `zk://127.0.0.1:2181/mesos` or `10.0.0.1:5050,10.0.0.2:5050`. */
  readonly description: string;
  /**
   * Base URLs (`http://host:port` or `https://host:port`) to try, best first.
   * ZooKeeper resolves to the current leader and waits (until `signal` aborts)
   * while no leader is known; a static list returns its entries in order.
   */
  candidates(signal: AbortSignal): Promise<string[]>;
  /**
   * Resolves when the source learns that the leader changed (a ZooKeeper watch);
   * a static list never resolves it. Rejects with the signal's reason on abort.
   */
  changed(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
