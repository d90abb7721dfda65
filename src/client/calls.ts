/**
 * Sends scheduler calls (everything but SUBSCRIBE) to the master holding the
 * current subscription, with its Mesos-Stream-Id. Fire and forget: answers
 * other than 202/200 are logged, and those that mean the subscription is gone
 * are reported through `onSubscriptionLost` (the runtime turns that into the
 * machine's `call.failed`). Calls made while not subscribed, or under another
 * subscription than the current one, are dropped: a call never goes out with
 * the stream id of a subscription newer than the one it was made under.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import type { ErrorRecord } from '../../machines/contract.js';
import { encodeCall } from '../mesos/codec.js';
import { errorForResponse, isSubscriptionLoss } from '../mesos/errors.js';
import type { Call } from '../mesos/types.js';
import { networkError, toErrorRecord } from './errors.js';
import { SCHEDULER_PATH } from './master-address.js';
import type { Session, SessionHolder } from './session.js';
import type { MesosTransport } from './transport.js';

export interface CallSenderDeps {
  transport: MesosTransport;
  session: SessionHolder;
  log: Logger;
  onSubscriptionLost: (generation: number, error: ErrorRecord) => void;
}

export type CallOutcome =
  | { kind: 'sent'; status: number }
  | { kind: 'dropped'; reason: string }
  /**
   * `reached` is false when the master surely did not act on the call: it
   * answered with a non-2xx status, or no connection could be made. A call
   * whose answer was lost (reset, timeout) counts as reached.
   */
  | { kind: 'failed'; error: ErrorRecord; reached: boolean };

/** Connection errors that mean the request never left this process. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class CallSender {
  constructor(private readonly deps: CallSenderDeps) {}

  /**
   * Sends one call made under subscription `generation` (undefined: made while
   * not subscribed); resolves with what happened, never rejects.
   */
  async send(call: Call, generation: number | undefined): Promise<CallOutcome> {
    const session = this.deps.session.current;
    const type = call.type ?? 'UNKNOWN';
    if (!session || generation === undefined) {
      this.deps.log.debug({ call: type }, `dropped ${type} call: not subscribed`);
      return { kind: 'dropped', reason: 'not subscribed' };
    }
    if (session.generation !== generation) {
      this.deps.log.debug({ call: type, generation, current: session.generation }, `dropped ${type} call: made under an earlier subscription`);
      return { kind: 'dropped', reason: 'made under an earlier subscription' };
    }
    const full: Call = { ...call, framework_id: { value: session.frameworkId } };
    this.deps.log.debug({ call: type, generation: session.generation }, `call ${type}`);
    try {
      return await this.post(full, session);
    } catch (err) {
      const error = toErrorRecord(networkError(err, session.baseUrl));
      this.deps.log.warn({ call: type, code: error.code }, `${type} call failed: ${error.message}`);
      return { kind: 'failed', error, reached: !NOT_SENT_CODES.has(String((err as { code?: unknown } | null)?.code ?? '')) };
    }
  }

  private async post(call: Call, session: Session): Promise<CallOutcome> {
    const { transport, log } = this.deps;
    const res = await request(session.baseUrl + SCHEDULER_PATH, {
      method: 'POST',
      headers: transport.headers(session.streamId),
      body: encodeCall(call, transport.format),
      dispatcher: transport.callDispatcher,
      headersTimeout: transport.callTimeoutMs,
      bodyTimeout: transport.callTimeoutMs,
      signal: AbortSignal.timeout(transport.callTimeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode === 202 || res.statusCode === 200) return { kind: 'sent', status: res.statusCode };
    const location = res.headers.location;
    const mesosError = errorForResponse(res.statusCode, text, typeof location === 'string' ? location : undefined);
    const error = toErrorRecord(mesosError ?? { code: 'MESOS_PROTOCOL', message: `unexpected status ${res.statusCode}`, status: res.statusCode });
    const type = call.type ?? 'UNKNOWN';
    if (isSubscriptionLoss(mesosError)) {
      log.warn({ call: type, code: error.code, status: res.statusCode }, `${type} call shows the subscription is gone: ${error.message}`);
      this.deps.onSubscriptionLost(session.generation, error);
    } else {
      log.warn({ call: type, code: error.code, status: res.statusCode }, `${type} call refused: ${error.message}`);
    }
    return { kind: 'failed', error, reached: false };
  }
}
