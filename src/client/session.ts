/**
 * The subscription calls go to: the master that accepted SUBSCRIBE, its
 * stream id and the attempt's generation. Set by the subscription actor when
 * SUBSCRIBED arrives, cleared when that stream ends.
 */
export interface Session {
  generation: number;
  /** Base URL of the master holding our stream (`http://host:port`). */
  baseUrl: string;
  streamId: string;
  frameworkId: string;
}

export class SessionHolder {
  #current: Session | undefined;

  get current(): Session | undefined {
    return this.#current;
  }

  set(session: Session): void {
    this.#current = session;
  }

  /** Clears the session if it still belongs to `generation` (a newer one stays). */
  clear(generation: number): void {
    if (this.#current && this.#current.generation === generation) this.#current = undefined;
  }
}
