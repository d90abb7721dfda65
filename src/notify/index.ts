/**
 * `--notify-url`: events about rounds, the framework and HA leadership POSTed
 * as JSON to every URL (see notify-events.ts for the events, notifier.ts for
 * delivery).
 */
import type { Logger } from 'pino';
import type { RunHistory } from '../history/index.js';
import type { Signals } from '../runtime/signals.js';
import { displayUrl, Notifier } from './notifier.js';
import { notifyFrom } from './notify-events.js';

export { Notifier, type NotifierOptions } from './notifier.js';
export { notifyFrom, type NotifyEvent } from './notify-events.js';

export interface Notifications {
  /** Stops listening; gives queued events a moment to go out. */
  close(): Promise<void>;
}

export function startNotifications(urls: readonly string[], framework: string, signals: Signals, history: RunHistory, log: Logger): Notifications | undefined {
  if (urls.length === 0) return undefined;
  const notifier = new Notifier({ urls, log });
  const stop = notifyFrom(signals, history, notifier, framework);
  log.info({ notify: urls.map(displayUrl) }, `notifications go to ${urls.map(displayUrl).join(', ')}`);
  return {
    async close() {
      stop();
      await notifier.close();
    },
  };
}
