/**
 * The run history in a ZooKeeper node under the HA path (`<path>/history`),
 * fenced as the state node is (src/zk/state-store.ts): every write is
 * version-checked against the version this instance last read or wrote, and
 * goes through a multi-op that checks our leader-election member node still
 * exists. `load()` claims the node by rewriting it, so a deposed leader's next
 * write fails; such a failure is HISTORY_STALE and every later save refuses.
 *
 * A node holds at most about 1 MB (jute.maxbuffer): the oldest runs are left
 * out of the written copy until it fits.
 */
import { isZkError, zkErrorCode, ZkCode, type ZkSession } from '../zk/client.js';
import { joinZkPath, parseZkUrl, type ZkUrl } from '../zk/url.js';
import { HistoryStoreError, type HistoryStore } from './history-store.js';
import { parseHistory, serializeHistory, type HistoryDocument } from './run-record.js';

const MAX_NODE_BYTES = 1024 * 1024 - 4096;

export interface ZkHistoryStoreOptions {
  /** The leader election whose session writes, and whose member node fences the writes. */
  election: { readonly session: ZkSession | undefined; readonly memberPath: string | undefined };
  /** Absolute node path; default `<url path>/history`. */
  node?: string;
}

export class ZkHistoryStore implements HistoryStore {
  readonly description: string;
  readonly node: string;
  private readonly election: ZkHistoryStoreOptions['election'];
  /** Version last read or written; -1: no node yet. */
  private version = -1;
  private stale: HistoryStoreError | undefined;

  constructor(url: string | ZkUrl, options: ZkHistoryStoreOptions) {
    const parsed = typeof url === 'string' ? parseZkUrl(url) : url;
    this.node = options.node ?? joinZkPath(parsed.path, 'history');
    this.election = options.election;
    this.description = `ZooKeeper node zk://${parsed.connectString}${this.node}`;
  }

  async load(): Promise<HistoryDocument | undefined> {
    this.stale = undefined;
    for (let attempt = 0; ; attempt++) {
      const { session, fence } = this.session();
      let data: Buffer | undefined;
      let version: number;
      try {
        const got = await session.getData(this.node);
        data = got.data;
        version = got.stat.version;
      } catch (err) {
        if (isZkError(err, ZkCode.NO_NODE)) {
          this.version = -1;
          return undefined;
        }
        throw this.failure('read', err);
      }
      const text = data?.toString('utf8') ?? '';
      const doc = text.trim() === '' ? undefined : parseHistory(text, this.description);
      try {
        this.version = (await session.setDataFenced(this.node, data ?? Buffer.alloc(0), version, fence)).version;
        return doc;
      } catch (err) {
        if (isZkError(err, ZkCode.BAD_VERSION) && attempt < 3) continue;
        throw this.failure('claim', err);
      }
    }
  }

  async save(doc: HistoryDocument): Promise<void> {
    if (this.stale) throw this.stale;
    const bytes = fit(doc);
    const { session, fence } = this.session();
    try {
      if (this.version === -1) {
        const parent = this.node.slice(0, this.node.lastIndexOf('/'));
        if (parent !== '') await session.mkdirp(parent);
        await session.createFenced(this.node, bytes, fence);
        this.version = 0;
      } else {
        this.version = (await session.setDataFenced(this.node, bytes, this.version, fence)).version;
      }
    } catch (err) {
      throw this.failure('write', err);
    }
  }

  async close(): Promise<void> {}

  private session(): { session: ZkSession; fence: string } {
    const { session, memberPath } = this.election;
    if (!session || !memberPath) throw this.markStale('this instance is not (or no longer) a member of the leader election');
    return { session, fence: memberPath };
  }

  private failure(op: string, err: unknown): HistoryStoreError {
    if (err instanceof HistoryStoreError) return err;
    const code = zkErrorCode(err);
    const step = (err as { step?: number }).step;
    if (step === 0 && code === ZkCode.NO_NODE) return this.markStale('our leader-election node is gone');
    if (code === ZkCode.BAD_VERSION || code === ZkCode.NODE_EXISTS) return this.markStale('another instance wrote the history since this one read it');
    if (code === ZkCode.SESSION_EXPIRED) return this.markStale('the leader-election ZooKeeper session expired');
    return new HistoryStoreError('HISTORY_IO', `cannot ${op} ${this.description}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  private markStale(why: string): HistoryStoreError {
    this.stale = new HistoryStoreError('HISTORY_STALE', `${this.description}: ${why}; not written`);
    return this.stale;
  }
}

/** The serialized history, leaving out the oldest runs until it fits in a node. */
function fit(doc: HistoryDocument): Buffer {
  let bytes = Buffer.from(serializeHistory(doc));
  if (bytes.length <= MAX_NODE_BYTES) return bytes;
  const jobs = Object.fromEntries(Object.entries(doc.jobs).map(([name, job]) => [name, { ...job, runs: [...job.runs] }]));
  while (bytes.length > MAX_NODE_BYTES) {
    const longest = Object.values(jobs).reduce((a, b) => (b.runs.length > a.runs.length ? b : a));
    if (longest.runs.length === 0) break;
    longest.runs.splice(0, Math.max(1, Math.ceil(longest.runs.length / 10)));
    bytes = Buffer.from(serializeHistory({ version: 1, jobs }));
  }
  return bytes;
}
