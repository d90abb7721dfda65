/**
 * The HTTP plumbing shared by the subscription stream and the calls: two
 * separate undici Agents (the stream must never share a socket with calls),
 * TLS trust for a private CA, basic auth and the wire format's headers.
 */
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { CONTENT_TYPES, type WireFormat } from '../mesos/codec.js';
import { CallBacklog } from './call-backlog.js';
import type { Credentials } from './credentials.js';
import { coalescingConnector } from './write-coalescing.js';

export const DEFAULT_CALL_TIMEOUT_MS = 75_000;

/**
 * Calls in flight at once on the one call connection (HTTP/1.1 pipelining:
 * the master answers them in the order they were sent and acts on them in
 * that order, as libprocess does). Which calls may be pipelined is the call
 * sender's choice (src/client/calls.ts).
 */
export const CALL_PIPELINING = 32;

export interface TransportOptions {
  format: WireFormat;
  credentials?: Credentials;
  /** PEM of a private CA that signs the masters' certificates (`--ca-file`). */
  caPem?: string;
  /** Time limit of one call (and of SUBSCRIBE's response headers). */
  callTimeoutMs?: number;
}

export class MesosTransport {
  readonly format: WireFormat;
  readonly contentType: string;
  readonly callTimeoutMs: number;
  /** One connection per master, no pipelining: the SUBSCRIBE stream never ends. */
  readonly streamDispatcher: Dispatcher;
  /**
   * Calls go over one connection per master, in order (as the C++ library
   * does), pipelined up to CALL_PIPELINING; the writes of one tick leave
   * together (write-coalescing.ts).
   */
  readonly callDispatcher: Dispatcher;
  /** The calls made and not yet answered (the event stream waits while there are too many). */
  readonly backlog = new CallBacklog();
  readonly #credentials: Credentials | undefined;

  constructor(options: TransportOptions) {
    this.format = options.format;
    this.contentType = CONTENT_TYPES[options.format];
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#credentials = options.credentials;
    const connect = options.caPem ? { ca: options.caPem } : undefined;
    this.streamDispatcher = new Agent({
      pipelining: 1, bodyTimeout: 0, headersTimeout: this.callTimeoutMs, ...(connect ? { connect } : {}),
    });
    this.callDispatcher = new Agent({
      pipelining: CALL_PIPELINING, connections: 1, bodyTimeout: this.callTimeoutMs, headersTimeout: this.callTimeoutMs,
      connect: coalescingConnector({ timeout: 10_000, ...(connect ?? {}) }),
    });
  }

  /** Headers of a SUBSCRIBE (no Mesos-Stream-Id) or, with a stream id, of any other call. */
  headers(streamId?: string): Record<string, string> {
    const h: Record<string, string> = { 'content-type': this.contentType, accept: this.contentType };
    if (streamId !== undefined) h['mesos-stream-id'] = streamId;
    if (this.#credentials) h.authorization = this.#credentials.authorizationHeader();
    return h;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.streamDispatcher.destroy(), this.callDispatcher.destroy()]);
  }
}
