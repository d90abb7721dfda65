/**
 * A digest of the loaded jobs (for the replicated state under --ha: a new
 * leader whose file differs can say so). It covers the job definitions, not
 * the file's text: comments, layout, key order and the order of the jobs do
 * not change it; any field that changes what runs does.
 */
import { createHash } from 'node:crypto';
import type { JobDefinition } from '../../machines/contract.js';

/** JSON with object keys sorted, so equal data gives equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<hex>` of the definitions, ordered by name. */
export function jobsDigest(jobs: readonly JobDefinition[]): string {
  const sorted = [...jobs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `sha256:${createHash('sha256').update(canonical(sorted)).digest('hex')}`;
}
