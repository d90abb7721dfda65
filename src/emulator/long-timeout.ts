/**
 * setTimeout for delays beyond Node's limit (2^31-1 ms, about 24.8 days):
 * failover_timeout and refuse_seconds are often weeks or a year. The timer is
 * unref'd; `cancel()` stops it.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout { cancel(): void }

export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout;
  const arm = (remaining: number): void => {
    timer = setTimeout(() => {
      if (remaining > MAX_TIMER_MS) arm(remaining - MAX_TIMER_MS);
      else fn();
    }, Math.max(0, Math.min(remaining, MAX_TIMER_MS)));
    timer.unref();
  };
  arm(ms);
  return { cancel: () => clearTimeout(timer) };
}
