/**
 * The validated configuration of one scheduler process: what the CLI builds
 * from flags (src/cli/config.ts) and what the runtime runs (src/runtime). Types
 * only, so that the runtime does not depend on the CLI.
 */
import type { JobConfig, JobDefinition } from '../../machines/contract.js';
import type { Credentials } from '../client/credentials.js';
import type { WireFormat } from '../mesos/codec.js';
import type { BearerToken } from '../observability/api/bearer-token.js';
import type { LogFormat } from '../observability/logger.js';

export type MasterSpec =
  | { kind: 'static'; urls: readonly string[]; text: string; isDefault: boolean }
  | { kind: 'zk'; url: string }
  | { kind: 'local' };

export interface Config {
  master: MasterSpec;
  /**
   * The job, without the per-process run id (the runtime adds it). With
   * `--jobs` only the framework's own settings here count (name, user, role).
   */
  job: Readonly<Omit<JobConfig, 'runId'>>;
  /** `--jobs FILE`: the jobs of the file (src/jobs/load.ts), run by the supervisor machine. */
  jobs?: readonly JobDefinition[];
  /** The path of the jobs file (SIGHUP reloads it). */
  jobsFile?: string;
  failoverTimeoutSeconds: number;
  contentType: WireFormat;
  principal?: string;
  credentials?: Credentials;
  caFile?: string;
  caPem?: string;
  logFormat: LogFormat;
  debug: boolean;
  stateFile: string;
  ha?: string;
  localCpus: number;
  localMemMb: number;
  /** `--local-attributes`: the embedded agent's attributes (Mesos agent --attributes syntax). */
  localAttributes?: string;
  callTimeoutMs: number;
  /** `--state-timeout`: a state write to ZooKeeper not done within this counts as failed (and is retried). */
  stateTimeoutMs: number;
  /** `--reset-state`: start afresh, forgetting the stored state (of this or another cluster; its tasks in flight are logged). */
  resetState: boolean;
  /** `--http-port`: serve /health, /state and /metrics (0 = any free port). */
  httpPort?: number;
  httpHost: string;
  /** `--inspect [port]`: the Stately inspector relay's port. */
  inspectPort?: number;
  /** `--http-token-file`: the bearer token the API, live stream, /state and task output ask for (required off loopback). */
  httpToken?: BearerToken;
  /** `--history N`: rounds kept in the run history per job. */
  historyLimit: number;
  /** `--notify-url` (repeatable): where round failures, recoveries, framework errors and leadership changes are POSTed. */
  notifyUrls: readonly string[];
}
