/**
 * The `--master host:port,host:port` leader source: the configured masters in
 * order. Which one leads is found by subscribing (a non-leader answers 307).
 */
import type { LeaderSource } from './leader-source.js';
import { authorityOf } from './master-address.js';

export class StaticLeaderSource implements LeaderSource {
  readonly description: string;
  private readonly urls: readonly string[];

  /** `baseUrls` as returned by parseMasterList (`http://host:port`). */
  constructor(baseUrls: readonly string[], description?: string) {
    if (baseUrls.length === 0) throw new Error('StaticLeaderSource needs at least one master');
    this.urls = [...baseUrls];
    this.description = description ?? this.urls.map((u) => (u.startsWith('https:') ? u : authorityOf(u))).join(',');
  }

  async candidates(signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return [...this.urls];
  }

  /** A static list never learns of a new leader: resolves never, rejects on abort. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((_resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  async close(): Promise<void> {}
}
