/**
 * Delivers notification events (`--notify-url`, repeatable) as JSON POSTs,
 * one queue per URL, in order. `send()` only queues: the scheduler never
 * waits for a receiver. A delivery that fails (no answer within the timeout,
 * a refused connection, a status other than 2xx) is retried with capped
 * exponential backoff until it succeeds; meanwhile later events wait behind it.
 * A queue holds at most `queueLimit` events: past that the oldest is dropped,
 * with a log line.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import type { NotifyEvent } from './notify-events.js';

/** An event before `send()` numbers and stamps it. */
export type NotifyEventBody = NotifyEvent extends infer E ? (E extends unknown ? Omit<E, 'seq' | 'at'> : never) : never;

export interface NotifierOptions {
  urls: readonly string[];
  log: Logger;
  /** Events kept per URL; default 1000. */
  queueLimit?: number;
  /** First retry delay; doubles up to maxDelayMs. Default 500 ms, 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time one delivery may take; default 10 s. */
  timeoutMs?: number;
}

/** The URL without user info or query, for logs. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

class Delivery {
  private readonly queue: NotifyEvent[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private readonly shown: string;
  private idle: Promise<void> = Promise.resolve();
  private settle: (() => void) | undefined;

  constructor(private readonly url: string, private readonly options: Required<Omit<NotifierOptions, 'urls' | 'log'>> & { log: Logger }) {
    this.shown = displayUrl(url);
  }

  push(event: NotifyEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    if (this.queue.length > this.options.queueLimit) {
      const dropped = this.queue.shift()!;
      this.options.log.warn({ url: this.shown, dropped: dropped.type, seq: dropped.seq },
        `notification queue for ${this.shown} is full (${this.options.queueLimit}): dropped the oldest event (${dropped.type} #${dropped.seq})`);
    }
    if (!this.running) {
      this.running = true;
      this.idle = new Promise((resolve) => { this.settle = resolve; });
      void this.run();
    }
  }

  /** Resolves when the queue is empty (or after close). */
  drained(): Promise<void> {
    return this.idle;
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0 && !this.closed) {
      const event = this.queue[0]!;
      const failure = await this.deliver(event);
      if (failure === undefined) {
        if (this.queue[0] === event) this.queue.shift();
        attempt = 0;
        continue;
      }
      if (this.closed) break;
      const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** attempt);
      attempt++;
      this.options.log.warn({ url: this.shown, type: event.type, seq: event.seq, attempt, retryInMs: delay },
        `notification ${event.type} #${event.seq} to ${this.shown} failed (${failure}); retrying in ${delay} ms`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
        this.timer.unref();
      });
    }
    this.running = false;
    this.settle?.();
  }

  /** undefined when delivered, else why not. */
  private async deliver(event: NotifyEvent): Promise<string | undefined> {
    try {
      const res = await request(this.url, {
        method: 'POST',
        body: JSON.stringify(event),
        headers: { 'content-type': 'application/json', 'user-agent': 'mesos-http-scheduler' },
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: this.abort.signal,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return undefined;
      return `status ${res.statusCode}`;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

export class Notifier {
  private readonly deliveries: Delivery[];
  private seq = 0;

  constructor(options: NotifierOptions) {
    const settings = {
      queueLimit: options.queueLimit ?? 1000,
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      log: options.log.child({ component: 'notify' }),
    };
    this.deliveries = options.urls.map((url) => new Delivery(url, settings));
  }

  /** Queues `event` for every URL; returns at once. */
  send(event: NotifyEventBody): void {
    const full = { ...event, seq: ++this.seq, at: new Date().toISOString() } as NotifyEvent;
    for (const delivery of this.deliveries) delivery.push(full);
  }

  /** Gives queued events up to `waitMs` to go out, then stops retrying. */
  async close(waitMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.deliveries.map((d) => d.drained())),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); }),
    ]);
    clearTimeout(timer);
    for (const delivery of this.deliveries) delivery.close();
  }
}
