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
import type { Dispatcher } from 'undici';
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

/** Where and how a session's calls go, worked out once per session (not per call). */
interface CallTarget {
  session: Session;
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export class CallSender {
  #target: CallTarget | undefined;

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

  private targetOf(session: Session): CallTarget {
    if (this.#target?.session !== session) {
      const { origin, pathname, search } = new URL(session.baseUrl + SCHEDULER_PATH);
      this.#target = { session, origin, path: pathname + search, headers: this.deps.transport.headers(session.streamId) };
    }
    return this.#target;
  }

  private async post(call: Call, session: Session): Promise<CallOutcome> {
    const { transport, log } = this.deps;
    const res = await dispatchCall(transport, this.targetOf(session), call.type === 'ACCEPT', encodeCall(call, transport.format));
    const text = res.body;
    if (res.statusCode === 202 || res.statusCode === 200) return { kind: 'sent', status: res.statusCode };
    const mesosError = errorForResponse(res.statusCode, text, res.location);
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

interface CallResponse { statusCode: number; body: string; location: string | undefined }

/**
 * One POST through the calls' dispatcher with a plain handler: what undici's
 * `request()` with `signal: AbortSignal.timeout(...)` and `body.text()` does,
 * without a body stream, an AbortSignal and its listeners per call (about a
 * third of a call's CPU in the CLI's profile). The time limit is the same: it
 * counts from the call being made (queueing included), aborts the request once
 * it has a connection (as undici does with a signal) and rejects with the same
 * TimeoutError.
 *
 * Pipelining (transport.ts): a call is sent behind calls still unanswered
 * (`blocking: false`), in order on the one connection. undici sends such calls
 * again on a new connection when the connection breaks before their answers
 * (`idempotent`): harmless for every call but ACCEPT (a second ACCEPT of used
 * offers would fail the tasks the first one launched). So an ACCEPT (`exclusive`)
 * waits until the calls before it are answered, is never sent again, and a
 * broken connection under it fails it as before.
 */
function dispatchCall(transport: MesosTransport, target: CallTarget, exclusive: boolean, body: Uint8Array | string): Promise<CallResponse> {
  transport.backlog.made();
  return new Promise<CallResponse>((resolve, reject) => {
    let reason: Error | undefined;
    let abort: ((err: Error) => void) | undefined;
    let statusCode = 0;
    let location: string | undefined;
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      abort?.(reason);
    }, transport.callTimeoutMs);
    timer.unref();
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        if (reason) abortRequest(reason);
        else abort = abortRequest;
      },
      onHeaders(status, rawHeaders) {
        if (status < 200) return true;
        statusCode = status;
        for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
          if (String(rawHeaders[i]).toLowerCase() === 'location') location = String(rawHeaders[i + 1]);
        }
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        clearTimeout(timer);
        resolve({ statusCode, body: Buffer.concat(chunks).toString('utf8'), location });
      },
      onError(err) {
        clearTimeout(timer);
        reject(err);
      },
    };
    try {
      transport.callDispatcher.dispatch({
        origin: target.origin, path: target.path, method: 'POST', headers: target.headers, body,
        blocking: false, idempotent: !exclusive,
        headersTimeout: transport.callTimeoutMs, bodyTimeout: transport.callTimeoutMs,
      }, handler);
    } catch (err) {
      clearTimeout(timer);
      reject(err as Error);
    }
  }).finally(() => transport.backlog.settled());
}
