import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordIODecoder, encodeRecord } from '../../src/mesos/recordio.js';

function decodeAll(chunks: Uint8Array[], decoder = new RecordIODecoder()): string[] {
  const out: string[] = [];
  for (const c of chunks) for (const r of decoder.push(c)) out.push(r.toString('utf8'));
  decoder.end();
  return out;
}

const heartbeat = '{"type":"HEARTBEAT"}';

describe('RecordIO decoder', () => {
  it('decodes the worked example from docs/recordio.md style framing', () => {
    assert.deepEqual(decodeAll([Buffer.from(`20\n${heartbeat}`)]), [heartbeat]);
  });

  it('decodes a stream split at every byte boundary, and one byte at a time', () => {
    const records = ['{"a":1}', 'ü-multibyte-€', 'x'.repeat(300), '\n\n12\n'];
    const stream = Buffer.concat(records.map((r) => encodeRecord(Buffer.from(r))));
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(decodeAll([stream.subarray(0, cut), stream.subarray(cut)]), records, `cut at ${cut}`);
    }
    const bytes = [...stream].map((b) => Uint8Array.of(b));
    assert.deepEqual(decodeAll(bytes), records);
  });

  it('decodes many records in one chunk, in order', () => {
    const records = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}`);
    const chunk = Buffer.concat(records.map((r) => encodeRecord(Buffer.from(r))));
    assert.deepEqual(decodeAll([chunk]), records);
  });

  it('decodes a huge record arriving in 64 KiB chunks', () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 3, 0x61);
    const stream = encodeRecord(big);
    const chunks: Buffer[] = [];
    for (let p = 0; p < stream.length; p += 65536) chunks.push(stream.subarray(p, p + 65536));
    const decoder = new RecordIODecoder();
    const out = chunks.flatMap((c) => decoder.push(c));
    decoder.end();
    assert.equal(out.length, 1);
    assert.equal(out[0]!.length, big.length);
    assert.ok(out[0]!.equals(big));
  });

  it('counts bytes, not characters, and keeps 0x0A bytes inside records', () => {
    const payload = Buffer.from([0x0a, 0x02, 0x0a, 0x0a, 0xff]);
    assert.deepEqual([...new RecordIODecoder().push(encodeRecord(payload))[0]!], [...payload]);
  });

  it('skips zero-length records and empty size lines', () => {
    assert.deepEqual(decodeAll([Buffer.from(`0\n\n\n3\nabc0\n1\nz`)]), ['abc', 'z']);
  });

  it('rejects a size with a non-digit byte', () => {
    assert.throws(() => new RecordIODecoder().push(Buffer.from('2x\nab')), { code: 'RECORDIO_BAD_SIZE' });
    assert.throws(() => new RecordIODecoder().push(Buffer.from('-5\nab')), { code: 'RECORDIO_BAD_SIZE' });
    assert.throws(() => new RecordIODecoder().push(Buffer.from('5\r\nabcde')), { code: 'RECORDIO_BAD_SIZE' });
  });

  it('rejects a size with too many digits, even split across chunks', () => {
    const d = new RecordIODecoder();
    d.push(Buffer.from('1234567890'));
    assert.throws(() => d.push(Buffer.from('12345678901')), { code: 'RECORDIO_BAD_SIZE' });
  });

  it('rejects a record over the size limit before buffering it', () => {
    assert.throws(() => new RecordIODecoder(100).push(Buffer.from('101\n')), { code: 'RECORDIO_OVERSIZED' });
  });

  it('reports a stream cut inside a record or a size line', () => {
    const inRecord = new RecordIODecoder();
    inRecord.push(Buffer.from('10\nabc'));
    assert.throws(() => inRecord.end(), { code: 'RECORDIO_UNDERRUN', message: /after 3 of 10 bytes/ });
    const inHeader = new RecordIODecoder();
    inHeader.push(Buffer.from('3\nabc12'));
    assert.throws(() => inHeader.end(), { code: 'RECORDIO_UNDERRUN', message: /header/ });
  });

  it('ends cleanly between records', () => {
    const d = new RecordIODecoder();
    d.push(Buffer.from('1\na'));
    assert.equal(d.idle, true);
    assert.doesNotThrow(() => d.end());
  });

  it('encodes the size as decimal ASCII and a line feed', () => {
    assert.equal(encodeRecord(Buffer.from(heartbeat)).toString(), `20\n${heartbeat}`);
  });
});
