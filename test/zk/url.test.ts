import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isZkUrl, joinZkPath, parseZkUrl, ZkUrlError } from '../../src/zk/url.js';

test('parseZkUrl accepts the forms Mesos accepts', () => {
  const cases: [string, { connectString: string; path: string; auth?: { user: string; password: string }; redacted: string }][] = [
    ['zk://127.0.0.1:2181/mesos', { connectString: '127.0.0.1:2181', path: '/mesos', redacted: 'zk://127.0.0.1:2181/mesos' }],
    ['zk://z1:2181,z2:2182,z3:2183/mesos', { connectString: 'z1:2181,z2:2182,z3:2183', path: '/mesos', redacted: 'zk://z1:2181,z2:2182,z3:2183/mesos' }],
    ['zk://z1:2181', { connectString: 'z1:2181', path: '/', redacted: 'zk://z1:2181/' }],
    ['zk://z1:2181/', { connectString: 'z1:2181', path: '/', redacted: 'zk://z1:2181/' }],
    ['zk://z1/a/b/', { connectString: 'z1:2181', path: '/a/b', redacted: 'zk://z1:2181/a/b' }],
    ['ZK://z1:2181/mesos', { connectString: 'z1:2181', path: '/mesos', redacted: 'zk://z1:2181/mesos' }],
    ['  zk://z1:2181/mesos  ', { connectString: 'z1:2181', path: '/mesos', redacted: 'zk://z1:2181/mesos' }],
    ['zk://[::1]:2181/m', { connectString: '[::1]:2181', path: '/m', redacted: 'zk://[::1]:2181/m' }],
    [
      'zk://alice:s3cret@z1:2181,z2:2181/mesos',
      { connectString: 'z1:2181,z2:2181', path: '/mesos', auth: { user: 'alice', password: 's3cret' }, redacted: 'zk://alice:***@z1:2181,z2:2181/mesos' },
    ],
    ['zk://bob:p@ss@z1:2181/m', { connectString: 'z1:2181', path: '/m', auth: { user: 'bob', password: 'p@ss' }, redacted: 'zk://bob:***@z1:2181/m' }],
  ];
  for (const [input, want] of cases) {
    const got = parseZkUrl(input);
    assert.equal(got.connectString, want.connectString, input);
    assert.equal(got.path, want.path, input);
    assert.equal(got.redacted, want.redacted, input);
    assert.deepEqual(got.auth && { user: got.auth.user, password: got.auth.password }, want.auth, input);
    if (got.auth) assert.equal(got.auth.scheme, 'digest');
  }
});

test('parseZkUrl rejects malformed URLs with a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['http://z1:2181/mesos', /must start with zk:\/\//],
    ['z1:2181/mesos', /must start with zk:\/\//],
    ['zk://', /no ZooKeeper server/],
    ['zk:///mesos', /no ZooKeeper server/],
    ['zk://z1:2181,,z2:2181/m', /empty entry/],
    ['zk://z1:abc/m', /invalid port/],
    ['zk://z1:0/m', /outside 1-65535/],
    ['zk://z1:70000/m', /outside 1-65535/],
    ['zk://z1:2181/a//b', /empty component/],
    ['zk://z1:2181/a/../b', /'\.' or '\.\.'/],
    ['zk://z1:2181/a?x=1', /query strings/],
    ['zk://alice@z1:2181/m', /user:password@/],
    ['zk://:pw@z1:2181/m', /user:password@/],
    ['zk://::1:2181/m', /brackets/],
    ['zk://z 1:2181/m', /no valid host/],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => parseZkUrl(input),
      (err: unknown) => err instanceof ZkUrlError && err.code === 'ZK_URL_INVALID' && re.test(err.message) && /expected zk:\/\//.test(err.message),
      input,
    );
  }
});

test('error messages never show the password', () => {
  assert.throws(() => parseZkUrl('zk://alice:topsecret@z1:abc/m'), (err: Error) => !err.message.includes('topsecret') && err.message.includes('alice:***@'));
});

test('isZkUrl and joinZkPath', () => {
  assert.equal(isZkUrl('zk://a:1/m'), true);
  assert.equal(isZkUrl('10.0.0.1:5050'), false);
  assert.equal(joinZkPath('/', 'a'), '/a');
  assert.equal(joinZkPath('/mesos', 'json.info_0000000001'), '/mesos/json.info_0000000001');
});
