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
  /** Pre-refinement format (with `role`): what frameworks without RESERVATION_REFINEMENT send and get. */
  reservation?: { principal?: string; labels?: Labels };
  reservations?: { type?: string; role?: string; principal?: string; labels?: Labels }[];
  disk?: DiskInfo;
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
}

export type DiskSourceType = 'UNKNOWN' | 'PATH' | 'MOUNT' | 'BLOCK' | 'RAW';

export interface DiskInfo {
  persistence?: { id: string; principal?: string };
  volume?: { mode: 'RW' | 'RO'; container_path: string; host_path?: string };
  source?: { type: DiskSourceType; path?: { root?: string }; mount?: { root?: string }; vendor?: string; id?: string; profile?: string };
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
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  labels?: Labels;
  kill_policy?: { grace_period?: DurationInfo };
  max_completion_time?: DurationInfo;
}

export interface ExecutorInfo {
  /** DEFAULT: the agent's default executor (task groups); CUSTOM: the framework's own. */
  type?: 'UNKNOWN' | 'DEFAULT' | 'CUSTOM';
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
  labels?: Labels;
}

export interface TaskGroupInfo { tasks?: TaskInfo[] }

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

export type OperationType =
  | 'UNKNOWN' | 'LAUNCH' | 'LAUNCH_GROUP' | 'RESERVE' | 'UNRESERVE' | 'CREATE' | 'DESTROY'
  | 'GROW_VOLUME' | 'SHRINK_VOLUME' | 'CREATE_DISK' | 'DESTROY_DISK';

/** Offer.Operation. */
export interface Operation {
  type?: OperationType;
  /** Asks for UPDATE_OPERATION_STATUS feedback (not allowed on LAUNCH and LAUNCH_GROUP). */
  id?: Id;
  launch?: { task_infos?: TaskInfo[] };
  launch_group?: { executor: ExecutorInfo; task_group: TaskGroupInfo };
  reserve?: { source?: Resource[]; resources?: Resource[] };
  unreserve?: { resources?: Resource[] };
  create?: { volumes?: Resource[] };
  destroy?: { volumes?: Resource[] };
  grow_volume?: { volume: Resource; addition: Resource };
  shrink_volume?: { volume: Resource; subtract: Scalar };
  create_disk?: { source: Resource; target_type: DiskSourceType; target_profile?: string };
  destroy_disk?: { source: Resource };
}

export type OperationState =
  | 'OPERATION_UNSUPPORTED' | 'OPERATION_PENDING' | 'OPERATION_FINISHED' | 'OPERATION_FAILED'
  | 'OPERATION_ERROR' | 'OPERATION_DROPPED' | 'OPERATION_UNREACHABLE' | 'OPERATION_GONE_BY_OPERATOR'
  | 'OPERATION_RECOVERING' | 'OPERATION_UNKNOWN';

export interface OperationStatus {
  operation_id?: Id;
  state: OperationState;
  message?: string;
  converted_resources?: Resource[];
  uuid?: { value: string };
  agent_id?: AgentID;
  resource_provider_id?: Id;
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
  acknowledge_operation_status?: { agent_id?: AgentID; uuid: string; operation_id: Id };
  reconcile?: { tasks?: { task_id: TaskID; agent_id?: AgentID }[] };
  reconcile_operations?: { operations?: { operation_id: Id; agent_id?: AgentID; resource_provider_id?: Id }[] };
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
  update_operation_status?: { status: OperationStatus };
  message?: { agent_id: AgentID; executor_id: ExecutorID; data: string };
  failure?: { agent_id?: AgentID; executor_id?: ExecutorID; status?: number };
  error?: { message: string };
}
