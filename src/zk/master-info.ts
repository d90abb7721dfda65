/**
 * Pure helpers for Mesos master detection in ZooKeeper (no I/O):
 * which child of the master path is the leader, and the base URL its
 * MasterInfo JSON points at. See mesos-notes.md section 9 and Mesos's
 * src/master/detector/zookeeper.cpp + src/zookeeper/group.cpp.
 */
import type { MasterInfo } from '../mesos/types.js';

/** The label Mesos masters (>= 0.24) use for their contender nodes: `json.info_<seq>`. */
export const MASTER_INFO_LABEL = 'json.info';

/** The sequence number of a `json.info_<seq>` child, or undefined for other children (log_replicas, old `info_`). */
export function contenderSequence(child: string, label = MASTER_INFO_LABEL): number | undefined {
  const prefix = `${label}_`;
  if (!child.startsWith(prefix)) return undefined;
  const digits = child.slice(prefix.length);
  // ZooKeeper appends a 10-digit, zero-padded (signed 32-bit) counter.
  if (!/^-?\d+$/.test(digits)) return undefined;
  return Number(digits);
}

/** The leading contender among `children` (lowest sequence, compared numerically), or undefined. */
export function pickLeaderChild(children: readonly string[], label = MASTER_INFO_LABEL): string | undefined {
  let best: { name: string; seq: number } | undefined;
  for (const name of children) {
    const seq = contenderSequence(name, label);
    if (seq === undefined) continue;
    if (!best || seq < best.seq) best = { name, seq };
  }
  return best?.name;
}

/** Parses a `json.info_*` node's data; throws an Error saying what is wrong. */
export function parseMasterInfo(data: Buffer | string | undefined): MasterInfo {
  const text = typeof data === 'string' ? data : data?.toString('utf8') ?? '';
  if (!text.trim()) throw new Error('the node has no data (expected MasterInfo JSON)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`the node's data is not JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the node\'s JSON is not a MasterInfo object');
  return value as MasterInfo;
}

export interface MasterUrlOptions {
  /** `http` (default) or `https` (masters with LIBPROCESS_SSL_ENABLED). */
  scheme?: 'http' | 'https';
  /** Use `address.ip` before `address.hostname` (when master host names do not resolve here). Default false. */
  preferIp?: boolean;
}

/**
 * The base URL (`http://host:port`) of the master described by `info`: from
 * `address.hostname`/`address.ip` + `address.port`, else `hostname` + `port`,
 * else the `pid` (`master@ip:port`). Throws when none of them is usable.
 */
export function masterInfoToUrl(info: MasterInfo, options: MasterUrlOptions = {}): string {
  const scheme = options.scheme ?? 'http';
  const validPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;
  const nonEmpty = (s: unknown): s is string => typeof s === 'string' && s.trim() !== '';
  const format = (host: string, port: number): string => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const addr = info.address;
  if (addr && validPort(addr.port)) {
    const order = options.preferIp ? [addr.ip, addr.hostname] : [addr.hostname, addr.ip];
    const host = order.find(nonEmpty);
    if (host) return format(host, addr.port);
  }
  if (nonEmpty(info.hostname) && validPort(info.port)) return format(info.hostname, info.port);
  if (nonEmpty(info.pid)) {
    const m = /^[^@]+@(\[[^\]]+\]|[^:]+):(\d+)$/.exec(info.pid.trim());
    if (m?.[1] && validPort(Number(m[2]))) return format(m[1].replace(/^\[|\]$/g, ''), Number(m[2]));
  }
  throw new Error('the MasterInfo has no usable address (address.hostname/ip + port, hostname + port, or pid master@ip:port)');
}
