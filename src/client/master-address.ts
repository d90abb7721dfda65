/**
 * Master addresses as the user writes them (`host:port`, `http://host:port`,
 * `https://host:port`) and as masters send them in a 307 Location
 * (`//host:port/path`, `http://host:port/path` or a bare `host:port`).
 * Everything becomes a base URL `scheme://host:port` without a path.
 */

export const SCHEDULER_PATH = '/api/v1/scheduler';

/** A user-supplied master address that cannot be used. */
export class MasterAddressError extends Error {
  readonly code = 'MASTER_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'MasterAddressError';
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

function checkPort(port: string, entry: string): void {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new MasterAddressError(`master address '${entry}' has port ${port}, expected 1-65535`);
  }
}

/** Parses one `--master` entry into a base URL (`http://host:port`); plain entries are http. */
export function parseMasterAddress(entry: string): string {
  const text = entry.trim();
  const scheme = /^(https?):\/\//i.exec(text);
  let rest = scheme ? text.slice(scheme[0].length) : text;
  if (scheme && rest.endsWith('/')) rest = rest.slice(0, -1);
  const m = HOST_PORT.exec(rest);
  if (!m) {
    throw new MasterAddressError(`master address '${entry}' is not host:port, http://host:port or https://host:port`);
  }
  checkPort(m[2]!, entry);
  const protocol = scheme ? scheme[1]!.toLowerCase() : 'http';
  return `${protocol}://${m[1]!.toLowerCase()}:${Number(m[2])}`;
}

/** Parses a comma-separated `--master` list into base URLs, in order. */
export function parseMasterList(spec: string): string[] {
  const entries = spec.split(',').map((e) => e.trim());
  if (entries.length === 0 || entries.some((e) => e === '')) {
    throw new MasterAddressError(`master list '${spec}' has an empty entry; expected host:port[,host:port...]`);
  }
  return entries.map(parseMasterAddress);
}

/**
 * Resolves a redirect Location against the URL that answered 307 and returns
 * the new base URL. A scheme-relative `//host:port/...` keeps our scheme; a
 * bare `host:port` (as some docs show) is treated the same way.
 */
export function resolveRedirect(location: string, currentUrl: string): string {
  let target = location.trim();
  if (/^[^/?#:]+:\d+(?:[/?#].*)?$/.test(target) || /^\[[0-9A-Fa-f:.]+\]:\d+(?:[/?#].*)?$/.test(target)) target = `//${target}`;
  let url: URL;
  try {
    url = new URL(target, currentUrl);
  } catch {
    throw new MasterAddressError(`master redirected to an unusable Location '${location}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MasterAddressError(`master redirected to an unusable Location '${location}'`);
  }
  return `${url.protocol}//${url.host}`;
}

/** `host:port` of a base URL, as shown in logs and events. */
export function authorityOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}
