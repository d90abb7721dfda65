/**
 * The do-nothing client: subscribes over protobuf, splits the RecordIO stream,
 * decodes each event with protobufjs alone (no toObject, no scheduler logic)
 * and lets the bench answer with calls encoded by protobufjs. Calls go over
 * as many keep-alive connections as the scheduler used in the same run
 * (counted at the master), pipelined and with the writes of a tick coalesced
 * as the scheduler's are (src/client/transport.ts: an ACCEPT waits for the
 * calls before it), so the two are limited by the same round trips.
 */
import { randomBytes } from 'node:crypto';
import type protobuf from 'protobufjs';
import { Agent, request } from 'undici';
import { CALL_PIPELINING } from '../../src/client/transport.js';
import { coalescingConnector } from '../../src/client/write-coalescing.js';
import { protoRoot } from '../../src/mesos/codec.js';
import { RecordIODecoder } from '../../src/mesos/recordio.js';

const CallType = protoRoot.lookupType('mesos.v1.scheduler.Call');
const EventType = protoRoot.lookupType('mesos.v1.scheduler.Event');
const EventTypes = protoRoot.lookupEnum('mesos.v1.scheduler.Event.Type').values;
export const EVENT = { SUBSCRIBED: EventTypes['SUBSCRIBED']!, OFFERS: EventTypes['OFFERS']!, UPDATE: EventTypes['UPDATE']! };
const PROTOBUF = 'application/x-protobuf';

/** The fields of a decoded protobufjs Event message the bench reads. */
export interface RawEvent {
  type: number;
  subscribed?: { framework_id: { value: string } };
  offers?: { offers: Array<{ id: { value: string }; agent_id: { value: string }; resources?: Array<{ name: string; scalar?: { value: number } }> }> };
  update?: { status: { task_id: { value: string }; agent_id?: { value: string }; uuid?: Uint8Array; state: number } };
}

export function encodeRawCall(call: Record<string, unknown>): Uint8Array {
  return CallType.encode(CallType.fromObject(call)).finish();
}

export class RawClient {
  frameworkId: string | undefined;
  streamId: string | undefined;
  private readonly streamAgent = new Agent({ pipelining: 1, bodyTimeout: 0 });
  private readonly callAgent: Agent;
  private readonly controller = new AbortController();
  private done: Promise<void> | undefined;

  constructor(private readonly baseUrl: string, private readonly opts: { name?: string; connections?: number } = {}) {
    this.callAgent = new Agent({
      pipelining: CALL_PIPELINING, connections: Math.max(1, opts.connections ?? 1), connect: coalescingConnector({ timeout: 10_000 }),
    });
  }

  /** Subscribes; resolves once SUBSCRIBED arrived. `onEvent` sees every event after that. */
  async subscribe(onEvent: (event: RawEvent, message: protobuf.Message) => void): Promise<string> {
    const body = encodeRawCall({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'bench', name: this.opts.name ?? 'raw-client', failover_timeout: 0 } },
    });
    const res = await request(`${this.baseUrl}/api/v1/scheduler`, {
      method: 'POST', body, dispatcher: this.streamAgent, signal: this.controller.signal,
      headers: { 'content-type': PROTOBUF, accept: PROTOBUF },
    });
    if (res.statusCode !== 200) throw new Error(`SUBSCRIBE answered ${res.statusCode}: ${await res.body.text()}`);
    this.streamId = String(res.headers['mesos-stream-id']);
    let subscribed: (id: string) => void = () => {};
    const ready = new Promise<string>((resolve) => { subscribed = resolve; });
    const decoder = new RecordIODecoder();
    this.done = (async () => {
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          for (const record of decoder.push(chunk)) {
            const message = EventType.decode(record);
            const event = message as unknown as RawEvent;
            if (event.type === EVENT.SUBSCRIBED && event.subscribed) {
              this.frameworkId = event.subscribed.framework_id.value;
              subscribed(this.frameworkId);
              continue;
            }
            onEvent(event, message);
          }
        }
      } catch {
        // aborted by close()
      }
    })();
    return ready;
  }

  /** POSTs one call (framework id added); resolves with the status code. */
  async call(call: Record<string, unknown>): Promise<number> {
    const res = await request(`${this.baseUrl}/api/v1/scheduler`, {
      method: 'POST', dispatcher: this.callAgent, blocking: false, idempotent: call['type'] !== 'ACCEPT',
      headers: { 'content-type': PROTOBUF, accept: PROTOBUF, 'mesos-stream-id': this.streamId ?? '' },
      body: encodeRawCall({ ...call, framework_id: { value: this.frameworkId } }),
    });
    await res.body.dump();
    return res.statusCode;
  }

  declineAll(offerIds: string[], refuseSeconds = 0): Promise<number> {
    return this.call({ type: 'DECLINE', decline: { offer_ids: offerIds.map((value) => ({ value })), filters: { refuse_seconds: refuseSeconds } } });
  }

  /** One ACCEPT of one offer launching `tasks` (the TaskInfos the scheduler would send, no state kept). */
  launch(offerId: string, tasks: Array<Record<string, unknown>>, refuseSeconds = 3600): Promise<number> {
    return this.call({ type: 'ACCEPT', accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: refuseSeconds } } });
  }

  acknowledge(agentId: string, taskId: string, uuid: Uint8Array): Promise<number> {
    return this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: taskId }, uuid } });
  }

  async close(teardown = true): Promise<void> {
    if (teardown && this.frameworkId) await this.call({ type: 'TEARDOWN' }).catch(() => 0);
    this.controller.abort();
    await this.done;
    await this.callAgent.close().catch(() => {});
    await this.streamAgent.destroy().catch(() => {});
  }
}

/** A command TaskInfo of `cpus` and `mem` on `agentId`, as the scheduler builds them. */
export function rawTaskInfo(id: string, agentId: string, cpus: number, mem: number): Record<string, unknown> {
  return {
    name: id, task_id: { value: id }, agent_id: { value: agentId },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }, { name: 'mem', type: 'SCALAR', scalar: { value: mem } }],
    command: { value: 'true' },
  };
}

/** Scalar value of the named resource in a decoded offer. */
export function offerScalar(offer: { resources?: Array<{ name: string; scalar?: { value: number } }> }, name: string): number {
  let total = 0;
  for (const r of offer.resources ?? []) if (r.name === name) total += r.scalar?.value ?? 0;
  return total;
}

export function randomUuid(): Uint8Array {
  return randomBytes(16);
}
