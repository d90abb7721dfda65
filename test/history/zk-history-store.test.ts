/**
 * The run history under --ha, in a ZooKeeper node beside the state node, with
 * the state store's fencing: a leader that lost its election node, or whose
 * node another instance claimed, writes nothing more.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryStoreError } from '../../src/history/history-store.js';
import { ZkHistoryStore } from '../../src/history/zk-history-store.js';
import type { HistoryDocument } from '../../src/history/run-record.js';
import { CreateMode } from '../../src/zk/client.js';
import { withZooKeeper } from '../helpers/zookeeper.js';
import { openSession } from '../zk/util.js';

function doc(runs: number, message = 'Command exited with status 1'): HistoryDocument {
  return {
    version: 1,
    jobs: {
      etl: {
        nextRun: runs + 1,
        runs: Array.from({ length: runs }, (_, i) => ({
          run: i + 1, round: i + 1, startedAt: '2026-12-03T10:00:00.000Z', endedAt: '2026-12-03T10:00:01.000Z', durationMs: 1000,
          outcome: 'failed' as const, tasks: 30, launched: 30, finished: 10, failed: 20, retried: 0, failuresNotListed: 0,
          failures: Array.from({ length: 20 }, (_, j) => ({ taskId: `etl-r${i + 1}-t${j + 1}-abc`, state: 'TASK_FAILED', message, endedAt: '2026-12-03T10:00:01.000Z' })),
        })),
      },
    },
  };
}

const stale = (err: unknown): boolean => err instanceof HistoryStoreError && err.code === 'HISTORY_STALE';

test('ZkHistoryStore against a real ZooKeeper', async (t) => {
  const zk = await withZooKeeper(t);

  await t.test('fenced on the election member node; a claim by the next leader makes the old one stale', async (t) => {
    const session = await openSession(t, zk.connectString);
    await session.mkdirp('/sched/ha');
    const memberA = await session.create('/sched/ha/member_', undefined, CreateMode.EPHEMERAL_SEQUENTIAL);
    const memberB = await session.create('/sched/ha/member_', undefined, CreateMode.EPHEMERAL_SEQUENTIAL);
    const url = zk.url('/sched/ha');
    const a = new ZkHistoryStore(url, { election: { session, memberPath: memberA } });
    assert.equal(a.node, '/sched/ha/history');
    assert.equal(await a.load(), undefined);
    await a.save(doc(2));
    await a.save(doc(3));

    const b = new ZkHistoryStore(url, { election: { session, memberPath: memberB } });
    assert.equal((await b.load())?.jobs.etl?.runs.length, 3, 'the next leader reads the history');
    await assert.rejects(a.save(doc(9)), stale, 'the old leader is refused once the node was claimed');
    await b.save(doc(4));
    await session.remove(memberB);
    await assert.rejects(b.save(doc(5)), stale, 'no write once our member node is gone');
    assert.equal(JSON.parse((await session.getData('/sched/ha/history')).data!.toString()).jobs.etl.runs.length, 4);
  });

  await t.test('a history over the node size limit is written without its oldest runs', async (t) => {
    const session = await openSession(t, zk.connectString);
    await session.mkdirp('/sched/big');
    const member = await session.create('/sched/big/member_', undefined, CreateMode.EPHEMERAL_SEQUENTIAL);
    const store = new ZkHistoryStore(zk.url('/sched/big'), { election: { session, memberPath: member } });
    await store.load();
    await store.save(doc(100, 'x'.repeat(1000)));
    const back = (await store.load())!;
    const runs = back.jobs.etl!.runs;
    assert.ok(runs.length < 100 && runs.length > 10, `kept ${runs.length}`);
    assert.equal(runs.at(-1)?.run, 100, 'the newest run is kept');
  });
});
