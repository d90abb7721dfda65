/**
 * TypeScript shapes of the Mesos v1 messages we use, in the Mesos JSON mapping:
 * snake_case proto field names, enums as their value names, 64-bit integers as
 * numbers, `bytes` as base64 strings. The same objects are encoded as protobuf
 * or JSON by codec.ts, so the rest of the code never cares which is on the wire.
 */

export interface Id { value: string }
export type FrameworkID = Id;
export type OfferID = Id;
export type AgentID = Id;
export type TaskID = Id;
export type ExecutorID = Id;

export interface Address { hostname?: string; ip?: string; port: number }

export interface URL { scheme: string; address: Address; path?: string }

export interface MasterInfo {
  id: string;
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  capabilities?: { type?: string }[];
}

export type FrameworkCapability =
  | 'REVOCABLE_RESOURCES' | 'TASK_KILLING_STATE' | 'GPU_RESOURCES' | 'SHARED_RESOURCES'
  | 'PARTITION_AWARE' | 'MULTI_ROLE' | 'RESERVATION_REFINEMENT' | 'REGION_AWARE';

export interface Label { key: string; value?: string }
export interface Labels { labels?: Label[] }

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: FrameworkID;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: { type: FrameworkCapability }[];
  labels?: Labels;
  roles?: string[];
}

export interface Filters { refuse_seconds?: number }

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';
export interface Scalar { value: number }
export interface Range { begin: number; end: number }

export interface Resource {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: { range?: Range[] };
  set?: { item?: string[] };
  role?: string;
  allocation_info?: { role?: string };
  reservations?: { type?: string; role?: string; principal?: string }[];
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
}

export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: { range?: Range[] };
  set?: { item?: string[] };
  text?: { value: string };
}

export interface EnvironmentVariable { name: string; type?: 'VALUE' | 'SECRET'; value?: string }

export interface CommandURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  uris?: CommandURI[];
  environment?: { variables?: EnvironmentVariable[] };
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface Image {
  type: 'APPC' | 'DOCKER';
  docker?: { name: string };
  cached?: boolean;
}

export interface ContainerInfo {
  type: 'DOCKER' | 'MESOS';
  hostname?: string;
  docker?: {
    image: string;
    network?: 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
    privileged?: boolean;
    parameters?: { key: string; value: string }[];
    force_pull_image?: boolean;
  };
  mesos?: { image?: Image };
}

export interface DurationInfo { nanoseconds: number }

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: { executor_id: ExecutorID; command?: CommandInfo };
  command?: CommandInfo;
  container?: ContainerInfo;
  labels?: Labels;
  kill_policy?: { grace_period?: DurationInfo };
  max_completion_time?: DurationInfo;
}

export type TaskState =
  | 'TASK_STAGING' | 'TASK_STARTING' | 'TASK_RUNNING' | 'TASK_KILLING' | 'TASK_FINISHED'
  | 'TASK_FAILED' | 'TASK_KILLED' | 'TASK_ERROR' | 'TASK_LOST' | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE' | 'TASK_GONE' | 'TASK_GONE_BY_OPERATOR' | 'TASK_UNKNOWN';

export type TaskSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState;
  message?: string;
  source?: TaskSource;
  /** A `REASON_*` name of TaskStatus.Reason. */
  reason?: string;
  data?: string;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  timestamp?: number;
  /** base64; present means the update must be acknowledged. */
  uuid?: string;
  healthy?: boolean;
  unreachable_time?: { nanoseconds: number };
}

export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  /** Where the agent is reached (the master sets it on every offer). */
  url?: URL;
  resources?: Resource[];
  attributes?: Attribute[];
  executor_ids?: ExecutorID[];
  allocation_info?: { role?: string };
}

export interface Operation {
  type?: 'LAUNCH' | 'LAUNCH_GROUP' | 'RESERVE' | 'UNRESERVE' | 'CREATE' | 'DESTROY' | 'UNKNOWN';
  launch?: { task_infos?: TaskInfo[] };
}

export type CallType =
  | 'UNKNOWN' | 'SUBSCRIBE' | 'TEARDOWN' | 'ACCEPT' | 'DECLINE' | 'ACCEPT_INVERSE_OFFERS'
  | 'DECLINE_INVERSE_OFFERS' | 'REVIVE' | 'KILL' | 'SHUTDOWN' | 'ACKNOWLEDGE'
  | 'ACKNOWLEDGE_OPERATION_STATUS' | 'RECONCILE' | 'RECONCILE_OPERATIONS' | 'MESSAGE'
  | 'REQUEST' | 'SUPPRESS' | 'UPDATE_FRAMEWORK';

export interface Call {
  framework_id?: FrameworkID;
  type?: CallType;
  subscribe?: { framework_info: FrameworkInfo; suppressed_roles?: string[] };
  accept?: { offer_ids?: OfferID[]; operations?: Operation[]; filters?: Filters };
  decline?: { offer_ids?: OfferID[]; filters?: Filters };
  accept_inverse_offers?: { inverse_offer_ids?: OfferID[]; filters?: Filters };
  decline_inverse_offers?: { inverse_offer_ids?: OfferID[]; filters?: Filters };
  revive?: { roles?: string[] };
  suppress?: { roles?: string[] };
  kill?: { task_id: TaskID; agent_id?: AgentID; kill_policy?: { grace_period?: DurationInfo } };
  shutdown?: { executor_id: ExecutorID; agent_id: AgentID };
  acknowledge?: { agent_id: AgentID; task_id: TaskID; uuid: string };
  reconcile?: { tasks?: { task_id: TaskID; agent_id?: AgentID }[] };
  message?: { agent_id: AgentID; executor_id: ExecutorID; data: string };
  request?: { requests?: { agent_id?: AgentID; resources?: Resource[] }[] };
  update_framework?: { framework_info: FrameworkInfo; suppressed_roles?: string[] };
}

export type EventType =
  | 'UNKNOWN' | 'SUBSCRIBED' | 'OFFERS' | 'INVERSE_OFFERS' | 'RESCIND' | 'RESCIND_INVERSE_OFFER'
  | 'UPDATE' | 'UPDATE_OPERATION_STATUS' | 'MESSAGE' | 'FAILURE' | 'ERROR' | 'HEARTBEAT';

export interface Event {
  type?: EventType;
  subscribed?: { framework_id: FrameworkID; heartbeat_interval_seconds?: number; master_info?: MasterInfo };
  offers?: { offers?: Offer[] };
  inverse_offers?: { inverse_offers?: { id: OfferID; framework_id: FrameworkID; agent_id?: AgentID }[] };
  rescind?: { offer_id: OfferID };
  rescind_inverse_offer?: { inverse_offer_id: OfferID };
  update?: { status: TaskStatus };
  message?: { agent_id: AgentID; executor_id: ExecutorID; data: string };
  failure?: { agent_id?: AgentID; executor_id?: ExecutorID; status?: number };
  error?: { message: string };
}
