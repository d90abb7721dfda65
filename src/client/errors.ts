/**
 * Turns what can go wrong at the HTTP edge into MesosErrors and ErrorRecords
 * (errors as data, for the machines).
 */
import type { ErrorRecord } from '../../machines/contract.js';
import { MesosError } from '../mesos/errors.js';
import { authorityOf } from './master-address.js';

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

/** A failed connection or request to `baseUrl` (refused, reset, timed out, TLS). */
export function networkError(err: unknown, baseUrl: string): MesosError {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const where = authorityOf(baseUrl);
  let what: string;
  if (code === 'ECONNREFUSED') what = 'connection refused';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') what = 'host name not found';
  else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') what = 'timed out';
  else if (TLS_CODES.test(code)) what = `TLS error ${code} (for a private CA use --ca-file)`;
  else what = (err as Error)?.message || code || String(err);
  return new MesosError('MESOS_UNAVAILABLE', `cannot reach master ${where}: ${what}`, { cause: err });
}

export function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return (cause as { code?: unknown } | null)?.code === 'ECONNREFUSED';
}

export function toErrorRecord(err: unknown): ErrorRecord {
  const e = err as { code?: unknown; message?: unknown; status?: unknown } | null;
  const code = typeof e?.code === 'string' && e.code.length > 0 ? e.code : 'MESOS_UNAVAILABLE';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.status === 'number' ? { code, message, status: e.status } : { code, message };
}
