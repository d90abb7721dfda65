/**
 * The calls made and not yet answered (waiting in the dispatcher's queue or on
 * the wire), so that the event stream can stop reading while there are too
 * many. Every event the scheduler reads may make a call (an UPDATE makes an
 * ACKNOWLEDGE), and a call's time limit counts from the moment it is made: a
 * scheduler that reads events faster than it can send their calls lets its
 * queue grow until the calls time out, the timeouts cut the call connection,
 * and the master sends every unacknowledged update again. Reading no more
 * events until the queue has drained leaves the rest in the TCP buffers, and
 * the master waits, as it does for any slow subscriber.
 */
export class CallBacklog {
  #size = 0;
  #waiters: { below: number; wake: () => void }[] = [];

  /** Calls made and not yet answered or failed. */
  get size(): number {
    return this.#size;
  }

  /** A call was made (before it is queued). */
  made(): void {
    this.#size += 1;
  }

  /** A call was answered or failed. */
  settled(): void {
    this.#size -= 1;
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => this.#size < w.below);
    for (const w of ready) w.wake();
  }

  /**
   * Resolves once fewer than `below` calls are outstanding, or after `maxWaitMs`
   * at the most (the stream's heartbeats must still be read in time when the
   * call connection is stuck; its calls then fail by their own time limit).
   */
  drained(below: number, maxWaitMs: number): Promise<void> {
    if (this.#size < below) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        below,
        wake: (): void => {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, maxWaitMs);
      timer.unref();
      this.#waiters.push(waiter);
    });
  }
}
