/**
 * RecordIO framing (docs/recordio.md): each record is its length in bytes as
 * decimal ASCII, a line feed, then exactly that many bytes. Records and HTTP
 * chunks are unrelated: a record may span chunks and a chunk may hold many.
 *
 * The decoder is incremental and copies only when a record spans chunks.
 */
import { RecordIOError } from './errors.js';

const LF = 0x0a;
const MAX_SIZE_DIGITS = 20;
/** Default cap on one record; OFFERS events of large clusters can be several MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodeRecord(data: Uint8Array): Buffer {
  const header = Buffer.from(`${data.byteLength}\n`, 'ascii');
  return Buffer.concat([header, data], header.length + data.byteLength);
}

export class RecordIODecoder {
  private header = '';
  private need = -1;
  private have = 0;
  private parts: Buffer[] = [];

  constructor(private readonly maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {}

  /** Feeds bytes; returns the records completed by them, in order. */
  push(chunk: Uint8Array): Buffer[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let p = 0;
    while (p < buf.length) {
      if (this.need < 0) {
        p = this.readHeader(buf, p);
        continue;
      }
      const take = Math.min(this.need - this.have, buf.length - p);
      if (this.have === 0 && take === this.need) {
        out.push(buf.subarray(p, p + take));
        this.need = -1;
      } else {
        this.parts.push(buf.subarray(p, p + take));
        this.have += take;
        if (this.have === this.need) {
          out.push(Buffer.concat(this.parts, this.need));
          this.parts = [];
          this.have = 0;
          this.need = -1;
        }
      }
      p += take;
    }
    return out;
  }

  /** True when no partial record is buffered (a clean place for the stream to end). */
  get idle(): boolean {
    return this.need < 0 && this.header === '';
  }

  /** Call at end of stream: a partial record there means the stream was cut. */
  end(): void {
    if (!this.idle) {
      const where = this.need < 0 ? `in a record header ('${this.header}')` : `after ${this.have} of ${this.need} bytes of a record`;
      throw new RecordIOError('RECORDIO_UNDERRUN', `stream ended ${where}`);
    }
  }

  private readHeader(buf: Buffer, start: number): number {
    const lf = buf.indexOf(LF, start);
    const end = lf < 0 ? buf.length : lf;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c < 0x30 || c > 0x39) {
        throw new RecordIOError('RECORDIO_BAD_SIZE', `record size has a non-digit byte 0x${c.toString(16).padStart(2, '0')}`);
      }
    }
    this.header += buf.toString('ascii', start, end);
    if (this.header.length > MAX_SIZE_DIGITS) {
      throw new RecordIOError('RECORDIO_BAD_SIZE', `record size has more than ${MAX_SIZE_DIGITS} digits`);
    }
    if (lf < 0) return buf.length;
    const size = this.header === '' ? 0 : Number(this.header);
    this.header = '';
    if (size > this.maxRecordBytes) {
      throw new RecordIOError('RECORDIO_OVERSIZED', `record of ${size} bytes exceeds the limit of ${this.maxRecordBytes} bytes`);
    }
    // A zero size (or an empty line) carries no record; skip it.
    if (size > 0) this.need = size;
    return lf + 1;
  }
}
