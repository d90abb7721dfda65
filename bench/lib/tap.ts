/**
 * Times events and calls at the emulator, the same way for every client, so
 * figures of different clients compare: an event is stamped right after the
 * emulator has written it to the stream, a call when the emulator accepts it.
 *
 * The emulator exposes calls as the 'call' event; for events sent this wraps
 * the master core's `send` on this cluster instance only (bench code; no
 * emulator file is changed).
 */
import type { Cluster } from '../../src/emulator/index.js';
import type { Call, Event } from '../../src/mesos/types.js';
import { nowMs } from './stats.js';

export interface SentEvent { at: number; frameworkId: string; event: Event }
export interface ReceivedCall { at: number; call: Call }

interface CoreLike { send(fw: { id: string }, event: Event): void }

export class EmulatorTap {
  private eventListeners: Array<(e: SentEvent) => void> = [];
  private callListeners: Array<(c: ReceivedCall) => void> = [];
  private readonly restore: () => void;
  private readonly onCall: (rec: { call: Call }) => void;

  constructor(private readonly cluster: Cluster) {
    const core = (cluster as unknown as { core?: CoreLike }).core;
    if (!core || typeof core.send !== 'function') throw new Error('emulator core.send not found: the tap needs ClusterImpl.core');
    const original = core.send;
    core.send = (fw, event) => {
      original.call(core, fw, event);
      if (this.eventListeners.length === 0) return;
      const rec: SentEvent = { at: nowMs(), frameworkId: fw.id, event };
      for (const l of this.eventListeners) l(rec);
    };
    this.restore = () => { core.send = original; };
    this.onCall = (rec) => {
      if (this.callListeners.length === 0) return;
      const c: ReceivedCall = { at: nowMs(), call: rec.call };
      for (const l of this.callListeners) l(c);
    };
    cluster.on('call', this.onCall);
  }

  onEvent(listener: (e: SentEvent) => void): () => void {
    this.eventListeners.push(listener);
    return () => { this.eventListeners = this.eventListeners.filter((l) => l !== listener); };
  }

  onCallReceived(listener: (c: ReceivedCall) => void): () => void {
    this.callListeners.push(listener);
    return () => { this.callListeners = this.callListeners.filter((l) => l !== listener); };
  }

  close(): void {
    this.restore();
    this.cluster.off('call', this.onCall);
  }
}

/**
 * Pairs each OFFERS event with the ACCEPT/DECLINE calls that answer its
 * offers: span = last answering call received − event written. Offers per
 * second = offers answered / sum of spans (idle time between events is not
 * counted, so the allocation interval does not matter).
 */
export class OfferSpans {
  readonly spans: Array<{ offers: number; ms: number }> = [];
  private readonly pending = new Map<string, { at: number; left: number; total: number; last: number }>();
  private readonly byOffer = new Map<string, string>();
  private readonly off: Array<() => void> = [];
  private seq = 0;

  constructor(tap: EmulatorTap, private readonly frameworkId: () => string | undefined) {
    this.off.push(tap.onEvent((e) => {
      if (e.event.type !== 'OFFERS' || e.frameworkId !== this.frameworkId()) return;
      const offers = e.event.offers?.offers ?? [];
      if (offers.length === 0) return;
      const key = String(this.seq++);
      this.pending.set(key, { at: e.at, left: offers.length, total: offers.length, last: e.at });
      for (const o of offers) this.byOffer.set(o.id.value, key);
    }));
    this.off.push(tap.onCallReceived((c) => {
      const ids = c.call.type === 'DECLINE' ? c.call.decline?.offer_ids : c.call.type === 'ACCEPT' ? c.call.accept?.offer_ids : undefined;
      if (!ids) return;
      for (const id of ids) {
        const key = this.byOffer.get(id.value);
        if (key === undefined) continue;
        this.byOffer.delete(id.value);
        const p = this.pending.get(key);
        if (!p) continue;
        p.left -= 1;
        p.last = c.at;
        if (p.left === 0) {
          this.pending.delete(key);
          this.spans.push({ offers: p.total, ms: p.last - p.at });
        }
      }
    }));
  }

  get events(): number {
    return this.spans.length;
  }

  /** Offers per second over the events completed so far (optionally skipping the first `skip`). */
  rate(skip = 0): number {
    const use = this.spans.slice(skip);
    let offers = 0;
    let ms = 0;
    for (const s of use) { offers += s.offers; ms += s.ms; }
    return ms > 0 ? (offers * 1000) / ms : Number.NaN;
  }

  close(): void {
    for (const f of this.off) f();
  }
}
