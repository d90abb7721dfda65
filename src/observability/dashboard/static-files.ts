/**
 * The dashboard's files, served from the package (`dist/dashboard`, built by
 * `npm run build` from web/dashboard with the state charts of visualizations/):
 *   /                    index.html
 *   /assets/<file>       the bundled script, the style sheet, charts/<machine>.svg
 * They hold no data and need no token; the page asks for the token when the
 * API wants one. Nothing is loaded from anywhere else (the Content-Security-
 * Policy says so to the browser too).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from '../api/api-routes.js';
import { ApiError } from '../api/api-error.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

const POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** dist/dashboard, from the compiled module (dist/src/...) or from the sources run with tsx (src/...). */
export function dashboardDir(): string | undefined {
  for (const rel of ['../../../dashboard/', '../../../dist/dashboard/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

export function dashboardFiles(dir: string | undefined = dashboardDir()): Route {
  const cache = new Map<string, Buffer>();
  return async (req, res, url) => {
    const path = url.pathname === '/' || url.pathname === '/index.html' ? '/index.html' : url.pathname;
    if (path !== '/index.html' && !path.startsWith('/assets/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${url.pathname}`);
    if (dir === undefined) throw new ApiError('NOT_FOUND', 'the dashboard is not built (npm run build)');
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) throw new ApiError('NOT_FOUND', `no such file ${url.pathname}`);
    let body = cache.get(file);
    if (body === undefined) {
      try {
        body = await readFile(file);
      } catch {
        throw new ApiError('NOT_FOUND', `no such file ${url.pathname}`);
      }
      cache.set(file, body);
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': path === '/index.html' ? 'no-cache' : 'max-age=300',
      'content-security-policy': POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
