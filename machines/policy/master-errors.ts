/**
 * Classifies the master's ERROR event messages and connection errors (pure).
 * The master's texts come from src/master/master.cpp; matching is loose on
 * purpose (case, punctuation) because they are human messages, not codes.
 */

/** The framework id was removed (failover_timeout expired, TEARDOWN, operator). */
export function isFrameworkRemovedMessage(message: string): boolean {
  const m = message.toLowerCase();
  return m.includes('framework has been removed') || m.includes('framework removed') ||
    m.includes('has been torn down') || m.includes('framework was removed') || m.includes('completed framework');
}

/** Another scheduler subscribed with our framework id and took over the stream. */
export function isFailedOverMessage(message: string): boolean {
  return message.toLowerCase().includes('framework failed over');
}

/**
 * Connection error codes (src/mesos/errors.ts) that retrying cannot fix: bad
 * credentials, refused authorization on SUBSCRIBE, protocol or request bugs.
 * Everything else (307, 503, resets, stream end, heartbeat loss) is retried.
 */
const FATAL_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'MESOS_UNAUTHORIZED', 'MESOS_FORBIDDEN', 'MESOS_PROTOCOL', 'MESOS_BAD_REQUEST',
]);

export function isFatalConnectionError(code: string): boolean {
  return FATAL_CONNECTION_CODES.has(code);
}
