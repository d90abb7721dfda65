/**
 * Flags → a validated, frozen Config. Pure apart from what `ConfigEnv` gives it
 * (user name, home, environment, file reading), so every bad-input case is a
 * plain unit test. A problem is a ConfigError naming the flag and what is
 * wrong; the CLI prints it as one line and exits 2.
 */
import { join } from 'node:path';
import type { Config, MasterSpec } from '../config/run-config.js';
import { Credentials } from '../client/credentials.js';
import { AttributeError, parseAttributes } from '../emulator/attributes.js';
import { MasterAddressError, parseMasterList } from '../client/master-address.js';
import { BearerToken } from '../observability/api/bearer-token.js';
import { ZkUrlError, parseZkUrl } from '../zk/url.js';
import { DEFAULTS, DEFAULT_MASTER, PROGRAM_NAME } from '../config/defaults.js';
import { whyUnreadable } from '../config/unreadable.js';
import { loadJobsFile } from '../jobs/load.js';

export { DEFAULTS, DEFAULT_MASTER, PROGRAM_NAME };

/** Flag values as commander hands them over (strings; booleans for switches; arrays for repeatables). */
export interface RawFlags {
  master?: string;
  cmd?: string;
  cpu?: string;
  mem?: string;
  maxtasks?: string;
  user?: string;
  wait?: string;
  img?: string;
  debug?: boolean;
  rounds?: string;
  name?: string;
  role?: string;
  failoverTimeout?: string;
  contentType?: string;
  principal?: string;
  secretFile?: string;
  grace?: string;
  caFile?: string;
  env?: string[];
  uri?: string[];
  containerizer?: string;
  logFormat?: string;
  stateFile?: string;
  ha?: string;
  localCpus?: string;
  localMem?: string;
  localAttributes?: string;
  callTimeout?: string;
  stateTimeout?: string;
  resetState?: boolean;
  httpPort?: string;
  httpHost?: string;
  httpTokenFile?: string;
  history?: string;
  notifyUrl?: string[];
  taskTimeout?: string;
  /** `--inspect` alone gives true; `--inspect 9500` gives the port text. */
  inspect?: string | boolean;
  /** `--jobs FILE`. */
  jobs?: string;
}

/**
 * The flags that describe the one job of a flags run: with `--jobs` each job
 * sets them in the file, so giving one on the command line is an error.
 */
export const JOB_FLAGS = ['cmd', 'cpu', 'mem', 'maxtasks', 'wait', 'rounds', 'img', 'containerizer', 'env', 'uri', 'role', 'task-timeout', 'grace'] as const;

/** The inspector's port when `--inspect` has no value. */
export const DEFAULT_INSPECT_PORT = 9420;

export interface ConfigEnv {
  /** The current OS user (default of --user). */
  username: string;
  homedir: string;
  /** XDG_STATE_HOME and friends. */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a whole file as UTF-8; throws when it cannot. */
  readFile(path: string): string;
  /** This machine's CPUs and memory (MB): the embedded agent's default size. */
  machine: { cpus: number; memMb: number };
}

export type { Config, MasterSpec };

export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function quote(value: string): string {
  return `'${value}'`;
}

/** Agent attributes in the Mesos agent's --attributes syntax; checked here so a bad value is a usage error. */
function attributes(flag: string, text: string): string {
  try {
    parseAttributes(text);
  } catch (err) {
    if (err instanceof AttributeError) throw new ConfigError(`--${flag}: ${err.message}`);
    throw err;
  }
  return text;
}

function number(flag: string, text: string, rule: 'positive' | 'non-negative'): number {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  const ok = Number.isFinite(n) && (rule === 'positive' ? n > 0 : n >= 0);
  if (!ok) throw new ConfigError(`--${flag} must be a ${rule} number, got ${quote(text)}`);
  return n;
}

function integer(flag: string, text: string, min: number): number {
  const n = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    const what = min === 0 ? 'a whole number >= 0' : `a whole number >= ${min}`;
    throw new ConfigError(`--${flag} must be ${what}, got ${quote(text)}`);
  }
  return n;
}

function port(flag: string, text: string, min: 0 | 1): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new ConfigError(`--${flag} must be a TCP port (${min}-65535), got ${quote(text)}`);
  }
  return n;
}

function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')}, got ${quote(text)}`);
}

function nonEmpty(flag: string, text: string): string {
  if (text.trim() === '') throw new ConfigError(`--${flag} must not be empty`);
  return text;
}

function parseMaster(text: string): MasterSpec {
  const spec = text.trim();
  if (spec === 'local') return { kind: 'local' };
  if (/^zk:\/\//i.test(spec)) return { kind: 'zk', url: zkUrl('master', spec) };
  try {
    return { kind: 'static', urls: Object.freeze(parseMasterList(spec)), text: spec, isDefault: spec === DEFAULT_MASTER };
  } catch (err) {
    if (err instanceof MasterAddressError) throw new ConfigError(`--master: ${err.message}`);
    throw err;
  }
}

function zkUrl(flag: string, text: string): string {
  try {
    parseZkUrl(text);
    return text;
  } catch (err) {
    if (err instanceof ZkUrlError) throw new ConfigError(`--${flag}: ${err.message}`);
    throw err;
  }
}

function parseEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ConfigError(`--env must be KEY=VALUE with KEY made of letters, digits and _, got ${quote(entry)}`);
    }
    env[key] = entry.slice(eq + 1);
  }
  return env;
}

function readNamedFile(flag: string, path: string, env: ConfigEnv): string {
  try {
    return env.readFile(path);
  } catch (err) {
    throw new ConfigError(`--${flag} ${quote(path)} ${whyUnreadable(err)}`);
  }
}

/** The state file used when --state-file is not given. */
export function defaultStateFile(name: string, env: Pick<ConfigEnv, 'homedir' | 'env'>): string {
  const xdg = env.env.XDG_STATE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.homedir, '.local', 'state');
  return join(base, PROGRAM_NAME, `${name}.json`);
}

/**
 * `explicit`: the long names of the flags given on the command line (not
 * defaulted), to refuse job flags next to `--jobs`. A bad jobs file throws
 * JobsFileError (one line per problem).
 */
export function buildConfig(flags: RawFlags, env: ConfigEnv, explicit: ReadonlySet<string> = new Set()): Config {
  if (flags.jobs !== undefined) {
    nonEmpty('jobs', flags.jobs);
    const given = JOB_FLAGS.filter((f) => explicit.has(f));
    if (given.length > 0) {
      const list = given.map((f) => `--${f}`).join(', ');
      throw new ConfigError(`--jobs cannot be combined with ${list}: with --jobs every job sets ${given.length === 1 ? 'it' : 'them'} in the jobs file`);
    }
  }
  const name = nonEmpty('name', flags.name ?? DEFAULTS.name);
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
    throw new ConfigError(`--name may use only letters, digits, '.', '_' and '-' (it prefixes task ids and names the state file), got ${quote(name)}`);
  }
  const role = nonEmpty('role', flags.role ?? DEFAULTS.role);
  if (/\s|\//.test(role) || role.startsWith('-') || role === '.' || role === '..') {
    throw new ConfigError(`--role is not a valid Mesos role, got ${quote(role)}`);
  }
  const user = nonEmpty('user', flags.user ?? env.username);
  const cmd = nonEmpty('cmd', flags.cmd ?? DEFAULTS.cmd);
  const image = flags.img === undefined || flags.img.trim() === '' ? undefined : flags.img.trim();
  if (flags.img !== undefined && image === undefined) throw new ConfigError('--img must not be empty');

  const secretFile = flags.secretFile;
  const principal = flags.principal === undefined ? undefined : nonEmpty('principal', flags.principal);
  if (secretFile !== undefined && principal === undefined) {
    throw new ConfigError('--secret-file needs --principal (the name the secret belongs to)');
  }
  let credentials: Credentials | undefined;
  if (secretFile !== undefined && principal !== undefined) {
    const secret = readNamedFile('secret-file', secretFile, env).replace(/\r?\n$/, '');
    if (secret === '') throw new ConfigError(`--secret-file ${quote(secretFile)} is empty`);
    credentials = new Credentials(principal, secret);
  }
  const caPem = flags.caFile === undefined ? undefined : readNamedFile('ca-file', flags.caFile, env);
  if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`--ca-file ${quote(flags.caFile!)} holds no PEM certificate`);
  }

  const ha = flags.ha === undefined ? undefined : zkUrl('ha', flags.ha);
  const uris = (flags.uri ?? []).map((u) => nonEmpty('uri', u));
  const taskTimeoutSeconds = flags.taskTimeout === undefined ? 0 : number('task-timeout', flags.taskTimeout, 'non-negative');
  const stateFile = flags.stateFile === undefined ? defaultStateFile(name, env) : nonEmpty('state-file', flags.stateFile);

  const httpHost = nonEmpty('http-host', flags.httpHost ?? DEFAULTS.httpHost);
  const httpToken = httpTokenFrom(flags, httpHost, env);
  const notifyUrls = (flags.notifyUrl ?? []).map(notifyUrl);

  const jobs = flags.jobs === undefined ? undefined : loadJobsFile(flags.jobs, { username: user, readFile: env.readFile });

  const config: Config = {
    master: parseMaster(nonEmpty('master', flags.master ?? DEFAULTS.master)),
    ...(jobs !== undefined ? { jobs, jobsFile: flags.jobs! } : {}),
    job: Object.freeze({
      name,
      cmd,
      cpus: number('cpu', flags.cpu ?? DEFAULTS.cpu, 'positive'),
      memMb: number('mem', flags.mem ?? DEFAULTS.mem, 'positive'),
      maxTasks: integer('maxtasks', flags.maxtasks ?? DEFAULTS.maxtasks, 1),
      waitSeconds: number('wait', flags.wait ?? DEFAULTS.wait, 'non-negative'),
      rounds: integer('rounds', flags.rounds ?? DEFAULTS.rounds, 0),
      role,
      graceSeconds: number('grace', flags.grace ?? DEFAULTS.grace, 'non-negative'),
      env: Object.freeze(parseEnv(flags.env ?? [])),
      uris: Object.freeze(uris) as string[],
      ...(image !== undefined ? { image } : {}),
      containerizer: oneOf('containerizer', flags.containerizer ?? DEFAULTS.containerizer, ['docker', 'mesos'] as const),
      user,
      ...(taskTimeoutSeconds > 0 ? { taskTimeoutSeconds } : {}),
    }),
    failoverTimeoutSeconds: number('failover-timeout', flags.failoverTimeout ?? DEFAULTS.failoverTimeout, 'non-negative'),
    contentType: oneOf('content-type', flags.contentType ?? DEFAULTS.contentType, ['protobuf', 'json'] as const),
    ...(principal !== undefined ? { principal } : {}),
    ...(credentials ? { credentials } : {}),
    ...(flags.caFile !== undefined ? { caFile: flags.caFile } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
    logFormat: oneOf('log-format', flags.logFormat ?? DEFAULTS.logFormat, ['auto', 'json', 'pretty'] as const),
    debug: flags.debug === true,
    stateFile,
    ...(ha !== undefined ? { ha } : {}),
    localCpus: flags.localCpus === undefined ? env.machine.cpus : number('local-cpus', flags.localCpus, 'positive'),
    localMemMb: flags.localMem === undefined ? env.machine.memMb : number('local-mem', flags.localMem, 'positive'),
    ...(flags.localAttributes !== undefined ? { localAttributes: attributes('local-attributes', flags.localAttributes) } : {}),
    callTimeoutMs: number('call-timeout', flags.callTimeout ?? DEFAULTS.callTimeout, 'positive') * 1000,
    stateTimeoutMs: number('state-timeout', flags.stateTimeout ?? DEFAULTS.stateTimeout, 'positive') * 1000,
    resetState: flags.resetState === true,
    ...(flags.httpPort !== undefined ? { httpPort: port('http-port', flags.httpPort, 0) } : {}),
    httpHost,
    ...(httpToken !== undefined ? { httpToken } : {}),
    historyLimit: integer('history', flags.history ?? DEFAULTS.history, 1),
    notifyUrls: Object.freeze(notifyUrls),
    ...(flags.inspect !== undefined && flags.inspect !== false
      ? { inspectPort: flags.inspect === true ? DEFAULT_INSPECT_PORT : port('inspect', flags.inspect, 1) }
      : {}),
  };
  return Object.freeze(config);
}

/** 127.0.0.0/8, ::1 and localhost: the status port is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The bearer token from --http-token-file; required when --http-host is not loopback. */
function httpTokenFrom(flags: RawFlags, host: string, env: ConfigEnv): BearerToken | undefined {
  if (flags.httpTokenFile === undefined) {
    if (flags.httpPort !== undefined && !isLoopbackHost(host)) {
      throw new ConfigError(`--http-host ${quote(host)} is not loopback: give --http-token-file with the bearer token the API, live stream, /state and task output will ask for`);
    }
    return undefined;
  }
  const token = readNamedFile('http-token-file', flags.httpTokenFile, env).trim();
  if (token === '') throw new ConfigError(`--http-token-file ${quote(flags.httpTokenFile)} is empty`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`--http-token-file ${quote(flags.httpTokenFile)} must hold one token of printable characters without spaces`);
  return new BearerToken(token);
}

function notifyUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--notify-url must be an http:// or https:// URL, got ${quote(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--notify-url must be an http:// or https:// URL, got ${quote(text)}`);
  return url.href;
}
