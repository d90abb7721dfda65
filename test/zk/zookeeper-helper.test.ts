import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fourLetter, startZooKeeper, withZooKeeper } from '../helpers/zookeeper.js';

test('the ZooKeeper helper serves on loopback, restarts on the same port and cleans up', async (t) => {
  const zk = await withZooKeeper(t);
  assert.match(zk.connectString, /^127\.0\.0\.1:\d+$/);
  assert.equal(zk.url('/mesos'), `zk://${zk.connectString}/mesos`);
  assert.match(await fourLetter(zk.port, 'srvr'), /Mode: standalone/);
  await zk.restart();
  assert.equal(await fourLetter(zk.port, 'ruok'), 'imok');
  await zk.stop();
  await assert.rejects(fourLetter(zk.port, 'ruok'), /ECONNREFUSED/);
});

test('a missing ZooKeeper install fails loudly and says how to get it', async () => {
  const missing = '/nonexistent/zookeeper.jar';
  assert.equal(existsSync(missing), false);
  await assert.rejects(startZooKeeper({ jar: missing }), /unavailable.*npm test/s);
});
