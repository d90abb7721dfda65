/**
 * One SUBSCRIBE response: a chunked HTTP body of RecordIO records, each an
 * Event in the format the scheduler asked for. The master writes events here;
 * the stream sends HEARTBEATs on its own (right after SUBSCRIBED, then every
 * interval, as `Framework::heartbeat` does) unless heartbeats are paused by a
 * fault.
 */
import type { ServerResponse } from 'node:http';
import { encodeEvent, type WireFormat } from '../mesos/codec.js';
import { encodeRecord } from '../mesos/recordio.js';
import type { Event } from '../mesos/types.js';

const HEARTBEAT: Event = { type: 'HEARTBEAT' };

export class SchedulerStream {
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closedFlag = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly res: ServerResponse,
    readonly format: WireFormat,
    readonly streamId: string,
    /** The master (index) whose HTTP server holds this stream. */
    readonly master: number,
    private readonly heartbeatMs: number,
    private readonly heartbeatsPaused: () => boolean,
  ) {
    res.on('close', () => this.markClosed());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Called once when the connection ends for any reason (either side). */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  send(event: Event): void {
    if (this.closedFlag) return;
    this.res.write(encodeRecord(encodeEvent(event, this.format)));
  }

  /** First HEARTBEAT now, then one per interval. */
  startHeartbeats(): void {
    this.stopHeartbeats();
    if (!this.heartbeatsPaused()) this.send(HEARTBEAT);
    this.heartbeatTimer = setInterval(() => {
      if (!this.heartbeatsPaused()) this.send(HEARTBEAT);
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Bytes that are not a RecordIO record (a non-digit size line): a fault for clients to survive. */
  sendMalformedRecord(): void {
    if (!this.closedFlag) this.res.write(Buffer.from('12x\n{"garbage":'));
  }

  /** Sends an ERROR event and ends the response, as the master does on refusal or failover. */
  error(message: string): void {
    this.send({ type: 'ERROR', error: { message } });
    this.close();
  }

  /** Ends the response cleanly (last chunk). */
  close(): void {
    if (this.closedFlag) return;
    this.res.end();
    this.markClosed();
  }

  /** Cuts the TCP connection without ending the chunked body (a network failure). */
  destroy(): void {
    const socket = this.res.socket;
    if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket?.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    this.stopHeartbeats();
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const l of this.closeListeners.splice(0)) l();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
