import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError, buildConfig, defaultStateFile, type ConfigEnv, type RawFlags } from '../../src/cli/config.js';

const files: Record<string, string> = {
  '/secrets/etl': 's3cr3t\n',
  '/secrets/empty': '',
  '/tls/ca.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  '/tls/not-pem': 'hello',
  '/secrets/token': 't0k3n-abc\n',
  '/secrets/spaced': 'two words\n',
};

const env: ConfigEnv = {
  username: 'alice',
  homedir: '/home/alice',
  env: {},
  machine: { cpus: 8, memMb: 16384 },
  readFile(path) {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  },
};

function bad(flags: RawFlags, message: RegExp): void {
  assert.throws(() => buildConfig(flags, env), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

describe('config', () => {
  it('has the original tool\'s defaults', () => {
    const c = buildConfig({}, env);
    assert.deepEqual(c.master, { kind: 'static', urls: ['http://127.0.0.1:5050'], text: '127.0.0.1:5050', isDefault: true });
    assert.equal(c.job.cmd, "echo 'Hello World'");
    assert.equal(c.job.cpus, 0.1);
    assert.equal(c.job.memMb, 64);
    assert.equal(c.job.maxTasks, 5);
    assert.equal(c.job.user, 'alice');
    assert.equal(c.job.waitSeconds, 60);
    assert.equal(c.job.image, undefined);
    assert.equal(c.debug, false);
    assert.equal(c.job.rounds, 0);
    assert.equal(c.job.name, 'mesos-http-scheduler');
    assert.equal(c.job.role, '*');
    assert.equal(c.failoverTimeoutSeconds, 604800);
    assert.equal(c.contentType, 'protobuf');
    assert.equal(c.job.graceSeconds, 30);
    assert.equal(c.job.containerizer, 'docker');
    assert.equal(c.logFormat, 'auto');
    assert.equal(c.stateFile, '/home/alice/.local/state/mesos-http-scheduler/mesos-http-scheduler.json');
    assert.equal(c.callTimeoutMs, 75_000);
    assert.equal(c.stateTimeoutMs, 10_000);
    assert.equal(c.resetState, false);
    assert.equal(c.localCpus, 8, 'the embedded agent offers this machine\'s CPUs');
    assert.equal(c.localMemMb, 16384);
    assert.equal(c.httpPort, undefined);
    assert.equal(c.httpHost, '127.0.0.1');
    assert.equal(c.inspectPort, undefined);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.job));
  });

  it('parses --task-timeout (0 = no limit)', () => {
    assert.equal(buildConfig({}, env).job.taskTimeoutSeconds, undefined);
    assert.equal(buildConfig({ taskTimeout: '0' }, env).job.taskTimeoutSeconds, undefined);
    assert.equal(buildConfig({ taskTimeout: '90' }, env).job.taskTimeoutSeconds, 90);
    bad({ taskTimeout: '-5' }, /^--task-timeout must be a non-negative number, got '-5'$/);
  });

  it('parses the observability flags', () => {
    const c = buildConfig({ httpPort: '9102', httpHost: '0.0.0.0', httpTokenFile: '/secrets/token', inspect: true }, env);
    assert.equal(c.httpPort, 9102);
    assert.equal(c.httpHost, '0.0.0.0');
    assert.ok(c.httpToken?.matches('Bearer t0k3n-abc'));
    assert.ok(!c.httpToken?.matches('Bearer t0k3n-abd'));
    assert.doesNotMatch(JSON.stringify(c) + inspect(c, { depth: 10 }), /t0k3n/, 'the token is never shown');
    assert.equal(c.historyLimit, 100);
    assert.deepEqual(c.notifyUrls, []);
    assert.equal(buildConfig({ history: '7' }, env).historyLimit, 7);
    assert.deepEqual(buildConfig({ notifyUrl: ['http://127.0.0.1:9/x', 'https://hooks.example/a'] }, env).notifyUrls, ['http://127.0.0.1:9/x', 'https://hooks.example/a']);
    assert.equal(buildConfig({ httpPort: '9102', httpHost: '127.0.0.2' }, env).httpToken, undefined, 'loopback needs no token');
    bad({ httpPort: '9102', httpHost: '0.0.0.0' }, /^--http-host '0\.0\.0\.0' is not loopback: give --http-token-file/);
    bad({ httpPort: '9102', httpTokenFile: '/secrets/empty' }, /^--http-token-file '\/secrets\/empty' is empty$/);
    bad({ httpPort: '9102', httpTokenFile: '/secrets/spaced' }, /^--http-token-file .* without spaces$/);
    bad({ httpTokenFile: '/nope' }, /^--http-token-file '\/nope' does not exist$/);
    bad({ history: '0' }, /^--history must be a whole number >= 1, got '0'$/);
    bad({ notifyUrl: ['ftp://x'] }, /^--notify-url must be an http:\/\/ or https:\/\/ URL, got 'ftp:\/\/x'$/);
    assert.equal(c.inspectPort, 9420);
    assert.equal(buildConfig({ inspect: '9500' }, env).inspectPort, 9500);
    assert.equal(buildConfig({ httpPort: '0' }, env).httpPort, 0);
    bad({ httpPort: 'http' }, /^--http-port must be a TCP port \(0-65535\), got 'http'$/);
    bad({ httpPort: '70000' }, /^--http-port must be a TCP port/);
    bad({ inspect: '0' }, /^--inspect must be a TCP port \(1-65535\)/);
  });

  it('parses every flag', () => {
    const c = buildConfig({
      master: '10.0.0.1:5050, https://m2.example:5443', cmd: 'sleep 1', cpu: '0.5', mem: '128', maxtasks: '3', user: 'etl',
      wait: '0', img: 'busybox', debug: true, rounds: '2', name: 'nightly', role: 'batch', failoverTimeout: '3600',
      contentType: 'json', principal: 'etl', secretFile: '/secrets/etl', grace: '5', caFile: '/tls/ca.pem',
      env: ['A=1', 'B=x=y', 'A=2'], uri: ['https://example.com/a.tgz'], containerizer: 'mesos', logFormat: 'json',
      stateFile: '/var/lib/x.json', ha: 'zk://z1:2181,z2:2181/sched', localCpus: '2', localMem: '1024', callTimeout: '10',
      stateTimeout: '2.5', resetState: true,
      localAttributes: 'rack:r1;zone:eu-1',
    }, env);
    assert.deepEqual(c.master, { kind: 'static', urls: ['http://10.0.0.1:5050', 'https://m2.example:5443'], text: '10.0.0.1:5050, https://m2.example:5443', isDefault: false });
    assert.deepEqual({ ...c.job }, {
      name: 'nightly', cmd: 'sleep 1', cpus: 0.5, memMb: 128, maxTasks: 3, waitSeconds: 0, rounds: 2, role: 'batch',
      graceSeconds: 5, env: { A: '2', B: 'x=y' }, uris: ['https://example.com/a.tgz'], image: 'busybox', containerizer: 'mesos', user: 'etl',
    });
    assert.equal(c.contentType, 'json');
    assert.equal(c.credentials?.authorizationHeader(), `Basic ${Buffer.from('etl:s3cr3t').toString('base64')}`);
    assert.equal(c.principal, 'etl');
    assert.match(c.caPem ?? '', /BEGIN CERTIFICATE/);
    assert.equal(c.ha, 'zk://z1:2181,z2:2181/sched');
    assert.equal(c.stateFile, '/var/lib/x.json');
    assert.equal(c.callTimeoutMs, 10_000);
    assert.equal(c.stateTimeoutMs, 2_500);
    assert.equal(c.resetState, true);
    assert.equal(c.localCpus, 2);
    assert.equal(c.localMemMb, 1024);
    assert.equal(c.localAttributes, 'rack:r1;zone:eu-1');
  });

  it('never shows the secret when the config is printed or serialised', () => {
    const c = buildConfig({ principal: 'etl', secretFile: '/secrets/etl' }, env);
    assert.doesNotMatch(JSON.stringify(c), /s3cr3t/);
    assert.doesNotMatch(inspect(c, { depth: 10 }), /s3cr3t/);
    assert.doesNotMatch(JSON.stringify(c), new RegExp(Buffer.from('etl:s3cr3t').toString('base64')));
  });

  it('accepts local and zk:// masters', () => {
    assert.deepEqual(buildConfig({ master: 'local' }, env).master, { kind: 'local' });
    assert.deepEqual(buildConfig({ master: 'zk://u:p@z1:2181,z2:2181/mesos' }, env).master, { kind: 'zk', url: 'zk://u:p@z1:2181,z2:2181/mesos' });
  });

  it('puts the default state file under XDG_STATE_HOME when set', () => {
    assert.equal(defaultStateFile('job', { homedir: '/h', env: { XDG_STATE_HOME: '/xdg' } }), '/xdg/mesos-http-scheduler/job.json');
    assert.equal(buildConfig({ name: 'n1' }, { ...env, env: { XDG_STATE_HOME: '/s' } }).stateFile, '/s/mesos-http-scheduler/n1.json');
  });

  it('names the flag and the bad value', () => {
    bad({ cpu: 'abc' }, /^--cpu must be a positive number, got 'abc'$/);
    bad({ cpu: '0' }, /^--cpu must be a positive number/);
    bad({ mem: '-1' }, /^--mem must be a positive number/);
    bad({ maxtasks: '-1' }, /^--maxtasks must be a whole number >= 1, got '-1'$/);
    bad({ maxtasks: '0' }, /^--maxtasks/);
    bad({ maxtasks: '2.5' }, /^--maxtasks/);
    bad({ wait: '-3' }, /^--wait must be a non-negative number, got '-3'$/);
    bad({ wait: '' }, /^--wait/);
    bad({ rounds: 'x' }, /^--rounds must be a whole number >= 0/);
    bad({ grace: '-1' }, /^--grace/);
    bad({ failoverTimeout: 'week' }, /^--failover-timeout/);
    bad({ contentType: 'xml' }, /^--content-type must be one of protobuf, json, got 'xml'$/);
    bad({ containerizer: 'rkt' }, /^--containerizer must be one of docker, mesos/);
    bad({ logFormat: 'text' }, /^--log-format must be one of auto, json, pretty/);
    bad({ env: ['NOEQUALS'] }, /^--env must be KEY=VALUE/);
    bad({ env: ['1A=x'] }, /^--env must be KEY=VALUE/);
    bad({ name: 'a/b' }, /^--name may use only/);
    bad({ role: 'a b' }, /^--role/);
    bad({ user: '' }, /^--user must not be empty$/);
    bad({ cmd: ' ' }, /^--cmd must not be empty$/);
    bad({ localCpus: '0' }, /^--local-cpus/);
  });

  it('rejects malformed master addresses', () => {
    bad({ master: '10.0.0.1' }, /^--master: master address '10.0.0.1' is not host:port/);
    bad({ master: '10.0.0.1:abc' }, /^--master: master address/);
    bad({ master: '10.0.0.1:70000' }, /^--master: master address '10.0.0.1:70000' has port 70000/);
    bad({ master: 'a:5050,,b:5050' }, /^--master: master list .* has an empty entry/);
    bad({ master: 'ftp://a:21' }, /^--master: master address 'ftp:\/\/a:21'/);
    bad({ master: 'zk://' }, /^--master: /);
    bad({ ha: 'http://z:2181/x' }, /^--ha: /);
  });

  it('checks the secret and CA files', () => {
    bad({ principal: 'etl', secretFile: '/secrets/missing' }, /^--secret-file '\/secrets\/missing' does not exist$/);
    bad({ principal: 'etl', secretFile: '/secrets/empty' }, /^--secret-file '\/secrets\/empty' is empty$/);
    bad({ secretFile: '/secrets/etl' }, /^--secret-file needs --principal/);
    bad({ caFile: '/tls/missing' }, /^--ca-file '\/tls\/missing' does not exist$/);
    bad({ caFile: '/tls/not-pem' }, /^--ca-file '\/tls\/not-pem' holds no PEM certificate$/);
  });

  it('sets the principal without credentials when no secret file is given', () => {
    const c = buildConfig({ principal: 'etl' }, env);
    assert.equal(c.principal, 'etl');
    assert.equal(c.credentials, undefined);
  });
});
