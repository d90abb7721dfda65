/**
 * The Mesos fetcher, reduced to what a local agent needs: downloads each
 * CommandInfo.URI (file://, absolute paths, http://, https://) into the
 * sandbox, honours `output_file` and `executable`, and extracts archives when
 * `extract` is true (the default), with the host's `tar`/`unzip`/gzip, like
 * the fetcher's extraction by file extension.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { request } from 'undici';
import type { CommandURI } from '../../mesos/types.js';

export class FetchError extends Error {}

function basenameOf(uri: string): string {
  const noQuery = uri.split(/[?#]/, 1)[0] ?? uri;
  const base = path.posix.basename(noQuery);
  if (!base || base === '/' || base === '.' || base === '..') throw new FetchError(`cannot derive a file name from URI '${uri}'`);
  return base;
}

async function download(url: string, dest: string): Promise<void> {
  let current = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await request(current, { method: 'GET', headersTimeout: 60_000, bodyTimeout: 300_000 });
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      await res.body.dump();
      current = new URL(String(res.headers.location), current).toString();
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new FetchError(`HTTP ${res.statusCode} for '${url}'`);
    }
    await pipeline(res.body, createWriteStream(dest));
    return;
  }
  throw new FetchError(`too many redirects for '${url}'`);
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new FetchError(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new FetchError(`${cmd} ${args.join(' ')} exited with status ${code}: ${err.trim()}`))));
  });
}

const TAR_EXT = /\.(tar|tgz|tar\.gz|tbz2|tar\.bz2|txz|tar\.xz)$/;

async function extract(file: string, sandbox: string): Promise<boolean> {
  if (TAR_EXT.test(file)) {
    await run('tar', ['-C', sandbox, '-xf', file], sandbox);
    return true;
  }
  if (file.endsWith('.zip')) {
    await run('unzip', ['-o', '-q', '-d', sandbox, file], sandbox);
    return true;
  }
  if (file.endsWith('.gz')) {
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(file.slice(0, -3)));
    return true;
  }
  return false;
}

/** Fetches one URI into `sandbox`; returns the path written. */
export async function fetchUri(uri: CommandURI, sandbox: string): Promise<string> {
  const value = uri.value;
  const dest = path.join(sandbox, uri.output_file ?? basenameOf(value));
  try {
    if (value.startsWith('http://') || value.startsWith('https://')) {
      await download(value, dest);
    } else if (value.startsWith('file://')) {
      await copyFile(fileURLToPath(value), dest);
    } else if (value.startsWith('/')) {
      await copyFile(value, dest);
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      throw new FetchError(`unsupported URI scheme in '${value}' (local agents fetch file://, http:// and https://)`);
    } else {
      throw new FetchError(`'${value}' is not an absolute path or URI`);
    }
    if (uri.executable) await chmod(dest, 0o755);
    else if (uri.extract !== false) await extract(dest, sandbox);
    return dest;
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`failed to fetch '${value}': ${(err as Error).message}`);
  }
}

export async function fetchAll(uris: readonly CommandURI[] | undefined, sandbox: string): Promise<void> {
  for (const uri of uris ?? []) await fetchUri(uri, sandbox);
}
