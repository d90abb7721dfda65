/**
 * A plain HTTP client for the emulator's own tests (undici, no scheduler
 * code): POST calls, open a SUBSCRIBE stream and read its RecordIO events.
 */
import { request } from 'undici';
import { CONTENT_TYPES, decodeEvent, encodeCall, type WireFormat } from '../../src/mesos/codec.js';
import { RecordIODecoder } from '../../src/mesos/recordio.js';
import type { Call, Event, EventType, FrameworkInfo, Offer, Operation, TaskInfo, TaskStatus } from '../../src/mesos/types.js';

export interface PostResult { status: number; body: string; headers: Record<string, string | string[] | undefined> }

export async function post(
  base: string, call: Call | Uint8Array | string,
  opts: { streamId?: string; format?: WireFormat; headers?: Record<string, string>; path?: string; method?: string } = {},
): Promise<PostResult> {
  const format = opts.format ?? 'json';
  const body = typeof call === 'string' || call instanceof Uint8Array ? call : Buffer.from(encodeCall(call, format));
  const res = await request(base + (opts.path ?? '/api/v1/scheduler'), {
    method: (opts.method ?? 'POST') as 'POST',
    headers: {
      'content-type': CONTENT_TYPES[format],
      ...(opts.streamId ? { 'mesos-stream-id': opts.streamId } : {}),
      ...opts.headers,
    },
    ...(opts.method === 'GET' ? {} : { body }),
  });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

export class Subscription {
  readonly events: Event[] = [];
  /** The raw RecordIO payloads, in order (for wire-level checks). */
  readonly records: Buffer[] = [];
  ended = false;
  endError: Error | undefined;
  private waiters: Array<() => void> = [];
  private readonly ac = new AbortController();

  private constructor(readonly status: number, readonly headers: Record<string, string | string[] | undefined>, readonly body: string) {}

  get streamId(): string { return String(this.headers['mesos-stream-id']); }

  get frameworkId(): string {
    const sub = this.events.find((e) => e.type === 'SUBSCRIBED');
    if (!sub?.subscribed) throw new Error('no SUBSCRIBED event yet');
    return sub.subscribed.framework_id.value;
  }

  static async open(
    base: string, call: Call,
    opts: { format?: WireFormat; accept?: string; headers?: Record<string, string> } = {},
  ): Promise<Subscription> {
    const format = opts.format ?? 'json';
    const ac = new AbortController();
    const res = await request(base + '/api/v1/scheduler', {
      method: 'POST',
      headers: { 'content-type': CONTENT_TYPES[format], accept: opts.accept ?? CONTENT_TYPES[format], ...opts.headers },
      body: Buffer.from(encodeCall(call, format)),
      signal: ac.signal,
      bodyTimeout: 0,
    });
    if (res.statusCode !== 200) {
      const s = new Subscription(res.statusCode, res.headers, await res.body.text());
      s.ended = true;
      return s;
    }
    const s = new Subscription(200, res.headers, '');
    (s as unknown as { ac: AbortController }).ac = ac;
    const ct = String(res.headers['content-type']);
    const eventFormat: WireFormat = ct === CONTENT_TYPES.protobuf ? 'protobuf' : 'json';
    void (async () => {
      const decoder = new RecordIODecoder();
      try {
        for await (const chunk of res.body) {
          for (const rec of decoder.push(chunk as Buffer)) { s.records.push(Buffer.from(rec)); s.push(decodeEvent(rec, eventFormat)); }
        }
        decoder.end();
      } catch (err) {
        s.endError = err as Error;
      } finally {
        s.ended = true;
        s.wake();
      }
    })();
    return s;
  }

  private push(e: Event): void {
    this.events.push(e);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for the first event (after `from`) matching the predicate. */
  async next(pred: EventType | ((e: Event) => boolean), opts: { from?: number; timeoutMs?: number } = {}): Promise<Event> {
    const match = typeof pred === 'string' ? (e: Event) => e.type === pred : pred;
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      const found = this.events.slice(opts.from ?? 0).find(match);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without a matching event; got ${this.events.map((e) => e.type).join(',')}${this.endError ? ` (${this.endError.message})` : ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for an event; got ${this.events.map((e) => e.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Waits until the stream ends. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the stream to end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  close(): void {
    this.ac.abort();
  }
}

export function subscribeCall(name = 'test', extra: Partial<NonNullable<Call['subscribe']>['framework_info']> = {}): Call {
  const info = { user: 'nobody', name, ...extra };
  return { type: 'SUBSCRIBE', ...(info.id ? { framework_id: info.id } : {}), subscribe: { framework_info: info } };
}

/** Repeats `check` until it returns a value other than undefined. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


/** A command task using `cpus`/`mem` of an offer. */
export function commandTask(id: string, offer: Offer, command: string, extra: Partial<TaskInfo> = {}, cpus = 0.5, mem = 64): TaskInfo {
  return {
    name: id, task_id: { value: id }, agent_id: offer.agent_id,
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }, { name: 'mem', type: 'SCALAR', scalar: { value: mem } }],
    command: { value: command },
    ...extra,
  };
}

export async function launch(base: string, sub: Subscription, offers: Offer[], tasks: TaskInfo[], refuseSeconds?: number): Promise<PostResult> {
  return post(base, {
    type: 'ACCEPT', framework_id: { value: sub.frameworkId },
    accept: {
      offer_ids: offers.map((o) => o.id),
      operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
      ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
    },
  }, { streamId: sub.streamId });
}

export async function acknowledge(base: string, sub: Subscription, status: TaskStatus, headers?: Record<string, string>): Promise<PostResult> {
  return post(base, {
    type: 'ACKNOWLEDGE', framework_id: { value: sub.frameworkId },
    acknowledge: { agent_id: status.agent_id!, task_id: status.task_id, uuid: status.uuid! },
  }, { streamId: sub.streamId, ...(headers ? { headers } : {}) });
}

/** Index just after the given event (to wait for later ones). */
export function after(sub: Subscription, e: Event): number {
  return sub.events.indexOf(e) + 1;
}

/** Waits for an UPDATE of `taskId` in `state` (after `from`). */
export function updateOf(sub: Subscription, taskId: string, state?: string, from = 0): Promise<Event> {
  return sub.next((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === taskId && (state === undefined || e.update!.status.state === state), { from });
}

/** Acknowledges every update that carries a uuid, until the stream ends. */
export function autoAcknowledge(base: string, sub: Subscription, headers?: Record<string, string>): void {
  void (async () => {
    let from = 0;
    const acked = new Set<string>();
    for (;;) {
      let e: Event;
      try {
        e = await sub.next((x) => x.type === 'UPDATE' && x.update!.status.uuid !== undefined, { from, timeoutMs: 60_000 });
      } catch {
        return;
      }
      from = sub.events.indexOf(e) + 1;
      const status = e.update!.status;
      if (acked.has(status.uuid!)) continue;
      acked.add(status.uuid!);
      try { await acknowledge(base, sub, status, headers); } catch { return; }
    }
  })();
}

/** SUBSCRIBE (failover_timeout 60 s plus `extra`), wait for SUBSCRIBED, acknowledge every update; closed after the test. */
export async function openFramework(
  t: { after: (fn: () => void) => void }, base: string, name: string, extra: Partial<FrameworkInfo> = {}, format: WireFormat = 'json',
): Promise<Subscription> {
  const sub = await Subscription.open(base, subscribeCall(name, { failover_timeout: 60, ...extra }), { format });
  t.after(() => sub.close());
  await sub.next('SUBSCRIBED');
  autoAcknowledge(base, sub);
  return sub;
}

/** ACCEPT of one offer with these operations and no refusal filter. */
export function acceptOperations(base: string, sub: Subscription, offer: Offer, operations: Operation[], format: WireFormat = 'json'): Promise<PostResult> {
  return post(base, {
    type: 'ACCEPT', framework_id: { value: sub.frameworkId },
    accept: { offer_ids: [offer.id], operations, filters: { refuse_seconds: 0 } },
  }, { streamId: sub.streamId, format });
}
