/**
 * `zk://` URLs as Mesos accepts them (src/zookeeper/url.cpp):
 *
 *   zk://[user:password@]host1:port1[,host2:port2...][/path]
 *
 * Everything from the first `/` after the host list is the znode path (default
 * `/`); `user:password@` (split at the last `@`) means ZooKeeper `digest` auth.
 */

export interface ZkServer {
  host: string;
  port: number;
}

export interface ZkUrl {
  servers: ZkServer[];
  /** `host1:port1,host2:port2` for node-zookeeper-client (no chroot: paths are absolute). */
  connectString: string;
  /** The znode path, absolute, no trailing slash except for `/` itself. */
  path: string;
  /** Digest credentials (`user:password`), when the URL had them. */
  auth?: { scheme: 'digest'; user: string; password: string };
  /** The URL with the password masked, for logs. */
  redacted: string;
}

/** A `zk://` URL that cannot be used, with what is wrong and what to pass instead. */
export class ZkUrlError extends Error {
  readonly code = 'ZK_URL_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ZkUrlError';
  }
}

const EXAMPLE = 'expected zk://[user:password@]host1:port1[,host2:port2...]/path, e.g. zk://10.0.0.1:2181,10.0.0.2:2181/mesos';

/** True when `s` looks like a ZooKeeper URL (so a `--master` value should be parsed with `parseZkUrl`). */
export function isZkUrl(s: string): boolean {
  return /^zk:\/\//i.test(s.trim());
}

/** Parses a `zk://` URL; throws ZkUrlError naming the problem. */
export function parseZkUrl(input: string): ZkUrl {
  const raw = input.trim();
  const bad = (why: string): ZkUrlError => new ZkUrlError(`invalid ZooKeeper URL '${mask(raw)}': ${why}; ${EXAMPLE}`);
  if (!/^zk:\/\//i.test(raw)) throw bad('it must start with zk://');
  const rest = raw.slice('zk://'.length);

  // As Mesos (src/zookeeper/url.cpp): credentials end at the last '@' of the URL.
  const at = rest.lastIndexOf('@');
  let auth: ZkUrl['auth'];
  let hostsAndPath = rest;
  if (at >= 0) {
    const cred = rest.slice(0, at);
    hostsAndPath = rest.slice(at + 1);
    const colon = cred.indexOf(':');
    if (colon <= 0 || colon === cred.length - 1) throw bad("credentials must be 'user:password@'");
    auth = { scheme: 'digest', user: cred.slice(0, colon), password: cred.slice(colon + 1) };
  }

  const slash = hostsAndPath.indexOf('/');
  const hostList = slash >= 0 ? hostsAndPath.slice(0, slash) : hostsAndPath;
  let path = slash >= 0 ? hostsAndPath.slice(slash) : '/';
  if (!hostList) throw bad('no ZooKeeper server given');

  const servers: ZkServer[] = [];
  for (const entry of hostList.split(',')) {
    if (!entry) throw bad('empty entry in the server list');
    servers.push(parseServer(entry, bad));
  }

  if (/[?#]/.test(path)) throw bad('query strings and fragments are not supported in the path');
  if (path.length > 1) path = path.replace(/\/+$/, '');
  if (path === '') path = '/';
  if (/\/\//.test(path)) throw bad(`the path '${path}' has an empty component`);
  for (const part of path.split('/').slice(1)) {
    if (part === '.' || part === '..') throw bad(`the path '${path}' may not contain '.' or '..'`);
  }

  const connectString = servers.map((s) => `${formatHost(s.host)}:${s.port}`).join(',');
  const redacted = `zk://${auth ? `${auth.user}:***@` : ''}${connectString}${path}`;
  return { servers, connectString, path, ...(auth ? { auth } : {}), redacted };
}

/** Joins a znode path and a child name: joinZkPath('/', 'a') = '/a', joinZkPath('/m', 'a') = '/m/a'. */
export function joinZkPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

function parseServer(entry: string, bad: (why: string) => ZkUrlError): ZkServer {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(.*))?$/.exec(entry);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2];
  } else {
    const colon = entry.lastIndexOf(':');
    if (colon < 0) {
      host = entry;
    } else {
      host = entry.slice(0, colon);
      portText = entry.slice(colon + 1);
    }
    if (host.includes(':')) throw bad(`'${entry}': write IPv6 addresses in brackets, e.g. [::1]:2181`);
  }
  if (!host || !/^[A-Za-z0-9._:-]+$/.test(host)) throw bad(`'${entry}' has no valid host name`);
  let port = 2181;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`'${entry}' has an invalid port`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`'${entry}' has a port outside 1-65535`);
  }
  return { host, port };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function mask(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const head = url.slice(0, at);
  const colon = head.indexOf(':', 'zk://'.length);
  return colon < 0 ? url : `${head.slice(0, colon)}:***${url.slice(at)}`;
}
