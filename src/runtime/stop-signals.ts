/**
 * SIGINT/SIGTERM handling: the first signal asks for a graceful stop (running
 * tasks get the grace period), a second one stops now.
 */
import type { Logger } from 'pino';

export interface StopTarget {
  stop(): void;
  stopNow(): void;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Installs the handlers; returns a function that removes them. Without
 * `graceSeconds` the first signal hands over (HA) instead of draining.
 */
export function handleStopSignals(target: StopTarget, log: Logger, graceSeconds: number | undefined, source: SignalSource = process): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      log.info({ signal }, graceSeconds === undefined
        ? `received ${signal}: handing over to a standby scheduler; tasks keep running (send it again to kill them and stop now)`
        : `received ${signal}: launching no more tasks; running tasks get up to ${graceSeconds}s to finish (send it again to stop now)`);
      target.stop();
    } else {
      log.warn({ signal }, `received ${signal} again: killing running tasks and stopping now`);
      target.stopNow();
    }
  };
  source.on('SIGINT', onSignal);
  source.on('SIGTERM', onSignal);
  return () => {
    source.off('SIGINT', onSignal);
    source.off('SIGTERM', onSignal);
  };
}
