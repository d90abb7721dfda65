/**
 * The `subscription` actor of the framework machine: finds the leading master,
 * POSTs SUBSCRIBE, follows 307 redirects, and turns the RecordIO event stream
 * into SubscriptionEvents. It sends exactly one `conn.lost` when the attempt or
 * the stream ends, for whatever reason, and nothing after it. Stopping the
 * actor aborts the request.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import { fromCallback, type EventObject } from 'xstate';
import type { ErrorRecord, SubscriptionEvent, SubscriptionInput } from '../../machines/contract.js';
import { subscribeCall } from '../../machines/policy/calls.js';
import { decodeEvent, encodeCall, formatForContentType } from '../mesos/codec.js';
import { MesosError, errorForResponse } from '../mesos/errors.js';
import { RecordIODecoder } from '../mesos/recordio.js';
import type { Event, TaskStatus } from '../mesos/types.js';
import { networkError, toErrorRecord } from './errors.js';
import { mapEvent } from './event-mapper.js';
import type { LeaderSource } from './leader-source.js';
import { SCHEDULER_PATH, authorityOf, resolveRedirect } from './master-address.js';
import type { SessionHolder } from './session.js';
import type { MesosTransport } from './transport.js';

/** Redirects followed within one attempt before giving up (the machine backs off). */
export const MAX_REDIRECTS = 5;

/**
 * With this many calls made and unanswered, the stream reads no further chunk
 * until fewer than BACKLOG_RESUME are left (or BACKLOG_MAX_PAUSE_MS passed, so
 * that heartbeats are still read well within the watchdog's 5 intervals):
 * see call-backlog.ts.
 */
export const BACKLOG_PAUSE = 1024;
export const BACKLOG_RESUME = 256;
export const BACKLOG_MAX_PAUSE_MS = 5_000;

export interface SubscriptionDeps {
  source: LeaderSource;
  transport: MesosTransport;
  session: SessionHolder;
  log: Logger;
  now?: () => number;
  maxRedirects?: number;
  /** Sees every event sent to the machine (runtime bookkeeping: offer hold times, last event). */
  observe?: (event: SubscriptionEvent) => void;
  /** A master refused or failed the connection (the runtime may log a hint). */
  onUnreachable?: (baseUrl: string, error: MesosError) => void;
  /**
   * When the actor is stopped, the stream stays open (and calls keep using
   * it) until this resolves: calls queued in the same step, such as the last
   * ACKNOWLEDGE or a TEARDOWN, reach the master while we are still subscribed.
   */
  beforeClose?: () => Promise<void>;
}

interface OpenStream {
  baseUrl: string;
  streamId: string;
  body: AsyncIterable<Buffer>;
  format: 'protobuf' | 'json';
}

/** xstate callback actor logic for the framework machine's `subscription` slot. */
export function createSubscriptionLogic(deps: SubscriptionDeps) {
  const now = deps.now ?? Date.now;
  const maxRedirects = deps.maxRedirects ?? MAX_REDIRECTS;
  const { transport, session, source, log } = deps;

  /** POSTs SUBSCRIBE to one candidate, following redirects. */
  async function subscribeAt(firstBase: string, body: Uint8Array, generation: number, emit: (e: SubscriptionEvent) => void, signal: AbortSignal): Promise<OpenStream> {
    let baseUrl = firstBase;
    for (let hop = 0; ; hop++) {
      const url = baseUrl + SCHEDULER_PATH;
      log.debug({ url, generation }, 'SUBSCRIBE');
      let res;
      try {
        res = await request(url, {
          method: 'POST', headers: transport.headers(), body, signal,
          dispatcher: transport.streamDispatcher, bodyTimeout: 0, headersTimeout: transport.callTimeoutMs,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw networkError(err, baseUrl);
      }
      if (res.statusCode === 200) {
        const streamId = res.headers['mesos-stream-id'];
        if (typeof streamId !== 'string' || streamId === '') {
          res.body.destroy();
          throw new MesosError('MESOS_PROTOCOL', `master ${authorityOf(baseUrl)} answered SUBSCRIBE without a Mesos-Stream-Id header`, { status: 200 });
        }
        const ct = res.headers['content-type'];
        const format = formatForContentType(typeof ct === 'string' ? ct : undefined) ?? transport.format;
        return { baseUrl, streamId, body: res.body, format };
      }
      const text = await res.body.text().catch(() => '');
      const location = res.headers.location;
      if (res.statusCode === 307 && typeof location === 'string') {
        if (hop >= maxRedirects) {
          throw new MesosError('MESOS_NOT_LEADER', `gave up after ${maxRedirects} redirects (last to ${location})`, { status: 307, location });
        }
        baseUrl = resolveRedirect(location, url);
        const master = authorityOf(baseUrl);
        log.info({ master }, `current master is ${master}`);
        emit({ type: 'conn.leader', generation, master });
        continue;
      }
      if (res.statusCode === 403) {
        throw new MesosError('MESOS_FORBIDDEN', `master ${authorityOf(baseUrl)} refused SUBSCRIBE (403)${text.trim() ? `: ${text.trim()}` : ''}`, { status: 403 });
      }
      throw errorForResponse(res.statusCode, text, typeof location === 'string' ? location : undefined)
        ?? new MesosError('MESOS_PROTOCOL', `master answered SUBSCRIBE with ${res.statusCode}`, { status: res.statusCode });
    }
  }

  /** Tries the candidates in order; 503 and unreachable masters pass to the next one. */
  async function open(input: SubscriptionInput, emit: (e: SubscriptionEvent) => void, signal: AbortSignal): Promise<OpenStream> {
    const candidates = await source.candidates(signal);
    if (candidates.length === 0) throw new MesosError('MESOS_NO_LEADER', `no master known from ${source.description}`);
    const body = encodeCall(subscribeCall(input), transport.format);
    let last: unknown;
    for (const base of candidates) {
      try {
        return await subscribeAt(base, body, input.generation, emit, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        const code = (err as { code?: unknown }).code;
        if (code !== 'MESOS_NO_LEADER' && code !== 'MESOS_UNAVAILABLE') throw err;
        if (code === 'MESOS_UNAVAILABLE' && err instanceof MesosError) deps.onUnreachable?.(base, err);
        log.debug({ master: authorityOf(base), err: (err as Error).message }, 'master not usable, trying the next one');
        last = err;
      }
    }
    throw last;
  }

  async function stream(input: SubscriptionInput, emit: (e: SubscriptionEvent) => void, signal: AbortSignal): Promise<MesosError> {
    const { generation } = input;
    const s = await open(input, emit, signal);
    const master = authorityOf(s.baseUrl);
    const decoder = new RecordIODecoder();
    const debug = log.isLevelEnabled('debug');
    let errorMessage: string | undefined;
    const handle = (event: Event): void => {
      if (event.type === 'SUBSCRIBED' && event.subscribed) {
        const frameworkId = event.subscribed.framework_id.value;
        session.set({ generation, baseUrl: s.baseUrl, streamId: s.streamId, frameworkId });
        emit({
          type: 'conn.subscribed', generation, streamId: s.streamId, master, frameworkId,
          heartbeatIntervalSeconds: event.subscribed.heartbeat_interval_seconds ?? 15,
          ...(event.subscribed.master_info ? { masterInfo: event.subscribed.master_info } : {}),
        });
        return;
      }
      if (event.type === 'ERROR') errorMessage = event.error?.message ?? '';
      emit(mapEvent(event, generation, now()));
    };
    // The consecutive UPDATEs of a chunk go to the machines as one event (`mesos.updates`).
    let updates: TaskStatus[] = [];
    const flushUpdates = (): void => {
      if (updates.length === 0) return;
      emit(updates.length === 1 ? { type: 'mesos.update', generation, status: updates[0]! } : { type: 'mesos.updates', generation, statuses: updates });
      updates = [];
    };
    try {
      for await (const chunk of s.body) {
        try {
          for (const record of decoder.push(chunk)) {
            const event = decodeEvent(record, s.format);
            if (debug) log.debug({ event: event.type ?? 'UNKNOWN', generation }, `event ${event.type ?? 'UNKNOWN'}`);
            if (event.type === 'UPDATE' && event.update) {
              updates.push(event.update.status);
              continue;
            }
            flushUpdates();
            handle(event);
          }
        } finally {
          flushUpdates();
        }
        if (transport.backlog.size >= BACKLOG_PAUSE) await transport.backlog.drained(BACKLOG_RESUME, BACKLOG_MAX_PAUSE_MS);
      }
    } catch (err) {
      if (signal.aborted) throw err;
      if (typeof (err as { code?: unknown }).code === 'string' && /^(RECORDIO_|MESOS_CODEC)/.test((err as { code: string }).code)) throw err;
      return new MesosError('MESOS_UNAVAILABLE', `event stream from ${master} broke: ${(err as Error).message}`, { cause: err });
    }
    decoder.end();
    if (errorMessage !== undefined) {
      return new MesosError('MESOS_SUBSCRIPTION_ERROR', `master ${master} ended the subscription: ${errorMessage}`);
    }
    return new MesosError('STREAM_ENDED', `master ${master} closed the event stream`);
  }

  return fromCallback<EventObject, SubscriptionInput>(({ input, sendBack }) => {
    const { generation } = input;
    const controller = new AbortController();
    let ended = false;
    const emit = (event: SubscriptionEvent): void => {
      if (ended) return;
      deps.observe?.(event);
      sendBack(event);
    };
    const lose = (error: ErrorRecord): void => {
      if (ended) return;
      emit({ type: 'conn.lost', generation, error });
      ended = true;
      session.clear(generation);
      controller.abort(new Error('subscription ended'));
    };
    source.changed(controller.signal).then(
      () => lose({ code: 'MESOS_NOT_LEADER', message: `the leading master changed (${source.description})` }),
      () => {},
    );
    stream(input, emit, controller.signal).then(
      (end) => lose(toErrorRecord(end)),
      (err: unknown) => lose(toErrorRecord(err)),
    );
    return () => {
      if (ended) return;
      ended = true;
      const close = (): void => {
        session.clear(generation);
        controller.abort(new Error('subscription stopped'));
      };
      if (deps.beforeClose) void deps.beforeClose().then(close, close);
      else close();
    };
  });
}

