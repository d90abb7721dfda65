/**
 * Errors at the Mesos I/O edge. Callers match on `code`, never on classes;
 * `isSubscriptionLoss` says whether one means the subscription is gone.
 */

export type MesosErrorCode =
  | 'MESOS_NOT_LEADER' // 307: another master leads; `location` says which
  | 'MESOS_NO_LEADER' // 503 "No leader elected" or recovery not finished
  | 'MESOS_UNAVAILABLE' // 404 before routes, 5xx, connection refused or reset, timeouts
  | 'MESOS_UNSUBSCRIBED' // 403 on a call: the master no longer has our subscription
  | 'MESOS_STALE_STREAM' // 400 about Mesos-Stream-Id: this stream is not current
  | 'MESOS_BAD_REQUEST' // 400 for any other reason: a bug in the call, not retried
  | 'MESOS_UNAUTHORIZED' // 401: wrong or missing credentials
  | 'MESOS_FORBIDDEN' // 403 on SUBSCRIBE (authorization)
  | 'MESOS_PROTOCOL' // 405/406/415/501, or a response that breaks the protocol
  | 'MESOS_SUBSCRIPTION_ERROR' // an ERROR event ended the subscription
  | 'HEARTBEAT_TIMEOUT' // nothing arrived on the stream for too long
  | 'STREAM_ENDED'; // the master closed the event stream

export class MesosError extends Error {
  readonly code: MesosErrorCode;
  readonly status: number | undefined;
  readonly location: string | undefined;

  constructor(code: MesosErrorCode, message: string, options: { status?: number; location?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MesosError';
    this.code = code;
    this.status = options.status;
    this.location = options.location;
  }
}

export type RecordIOErrorCode = 'RECORDIO_BAD_SIZE' | 'RECORDIO_UNDERRUN' | 'RECORDIO_OVERSIZED';

export class RecordIOError extends Error {
  readonly code: RecordIOErrorCode;
  constructor(code: RecordIOErrorCode, message: string) {
    super(message);
    this.name = 'RecordIOError';
    this.code = code;
  }
}

/** The subscription is gone: re-subscribe before sending more calls. */
export function isSubscriptionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'MESOS_UNSUBSCRIBED' || code === 'MESOS_STALE_STREAM' || code === 'MESOS_NOT_LEADER' || code === 'MESOS_NO_LEADER';
}

/** Maps an HTTP status and plain-text body of a call response to an error (2xx gives undefined). */
export function errorForResponse(status: number, body: string, location?: string): MesosError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const text = body.trim();
  const detail = text ? `: ${text}` : '';
  if (status === 307) {
    return new MesosError('MESOS_NOT_LEADER', `master redirected to ${location ?? '(no Location)'}`, { status, ...(location ? { location } : {}) });
  }
  if (status === 503) return new MesosError('MESOS_NO_LEADER', `master unavailable (503)${detail}`, { status });
  if (status === 401) return new MesosError('MESOS_UNAUTHORIZED', `master refused the credentials (401)${detail}`, { status });
  if (status === 403) return new MesosError('MESOS_UNSUBSCRIBED', `master answered 403${detail}`, { status });
  if (status === 400 && /stream/i.test(text)) return new MesosError('MESOS_STALE_STREAM', `master answered 400${detail}`, { status });
  if (status === 400) return new MesosError('MESOS_BAD_REQUEST', `master answered 400${detail}`, { status });
  if (status === 404 || status >= 500 && status !== 501) return new MesosError('MESOS_UNAVAILABLE', `master answered ${status}${detail}`, { status });
  return new MesosError('MESOS_PROTOCOL', `master answered ${status}${detail}`, { status });
}
