/**
 * Measures how long we hold each offer: from the arrival of its OFFERS event
 * to the ACCEPT or DECLINE call that answers it.
 */
import type { Call } from '../mesos/types.js';
import type { Signals } from './signals.js';

export class OfferTracker {
  private readonly received = new Map<string, number>();

  constructor(private readonly signals: Signals, private readonly now: () => number = Date.now) {}

  offered(offerIds: readonly string[], receivedAt: number): void {
    for (const id of offerIds) this.received.set(id, receivedAt);
  }

  rescinded(offerId: string): void {
    if (this.received.delete(offerId)) this.signals.emit('offerRescinded', { offerId });
  }

  /** Offers do not survive a lost subscription. */
  clear(): void {
    this.received.clear();
  }

  /** Called as an ACCEPT or DECLINE call goes out. */
  answered(call: Call): void {
    const at = this.now();
    if (call.type === 'ACCEPT' && call.accept) {
      const tasks = (call.accept.operations ?? []).reduce((n, op) => n + (op.launch?.task_infos?.length ?? 0), 0);
      for (const id of call.accept.offer_ids ?? []) {
        this.signals.emit('offerAccepted', { offerId: id.value, heldMs: this.heldMs(id.value, at), tasks });
      }
    } else if (call.type === 'DECLINE' && call.decline) {
      for (const id of call.decline.offer_ids ?? []) {
        this.signals.emit('offerDeclined', { offerId: id.value, heldMs: this.heldMs(id.value, at) });
      }
    }
  }

  private heldMs(offerId: string, at: number): number {
    const since = this.received.get(offerId);
    this.received.delete(offerId);
    return since === undefined ? 0 : Math.max(0, at - since);
  }
}
