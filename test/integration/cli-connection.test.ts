/**
 * The real CLI and its connection to masters: redirects from a non-leading
 * master, basic authentication, TLS with a private CA, and the hint when the
 * default master is not there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

const oneTask = ['--cmd', 'true', '--maxtasks', '1', '--rounds', '1', '--wait', '0'];

function scratchDir(t: { after: (fn: () => void) => void }): string {
  const dir = tempDir(t, 'cli-conn-');
  return dir;
}

describe('CLI connection', () => {
  it('follows a 307 from a non-leading master and logs the current master', async (t) => {
    const cluster = await withCluster(t, { masters: 2 });
    cluster.faults.electLeader(1);
    const follower = cluster.masters[0]!.hostPort;
    const leader = cluster.masters[1]!.hostPort;
    const cli = runCli(t, ['--master', follower, ...oneTask]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.ok(cli.messages().includes(`current master is ${leader}`));
    assert.ok(cluster.responses.some((r) => r.master === 0 && r.status === 307));
    assert.ok(cluster.received.length > 0 && cluster.received.every((r) => r.master === 1), 'every call went to the leader');
  });

  it('tries the next master of the list when the first is not there', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', `127.0.0.1:1,${cluster.masters[0]!.hostPort}`, ...oneTask]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
  });

  it('authenticates with --principal and --secret-file on every request', async (t) => {
    const cluster = await withCluster(t, { credentials: [{ principal: 'etl', secret: 'top-secret' }] });
    const secretFile = join(scratchDir(t), 'secret');
    writeFileSync(secretFile, 'top-secret\n', { mode: 0o600 });
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--principal', 'etl', '--secret-file', secretFile, '--debug', ...oneTask]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.equal(cluster.received.find((r) => r.call.type === 'SUBSCRIBE')!.call.subscribe!.framework_info.principal, 'etl');
    assert.ok(!cluster.responses.some((r) => r.status === 401), 'no request went without credentials');
    assert.ok(cluster.received.some((r) => r.call.type === 'ACKNOWLEDGE'));
    const everything = cli.lines.map((l) => JSON.stringify(l)).join('\n') + cli.stderr();
    assert.doesNotMatch(everything, /top-secret/);
    assert.doesNotMatch(everything, new RegExp(Buffer.from('etl:top-secret').toString('base64')));
  });

  it('stops with a clear error when the master refuses the credentials', async (t) => {
    const cluster = await withCluster(t, { credentials: [{ principal: 'etl', secret: 'right' }] });
    const secretFile = join(scratchDir(t), 'secret');
    writeFileSync(secretFile, 'wrong');
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--principal', 'etl', '--secret-file', secretFile, ...oneTask]);
    const { code } = await cli.exited;
    assert.equal(code, 3, 'a refusal by the master exits 3 (2 is bad command-line input)');
    assert.ok(cli.messages().some((m) => /401|credentials/.test(m)), cli.messages().join('\n'));
  });

  it('speaks TLS to an https:// master signed by --ca-file', async (t) => {
    const dir = scratchDir(t);
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
    const cluster = await withCluster(t, { tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    const url = cluster.masters[0]!.url;
    assert.match(url, /^https:/);
    const cli = runCli(t, ['--master', url, '--ca-file', cert, ...oneTask]);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.ok(cluster.received.some((r) => r.call.type === 'TEARDOWN'));

    const untrusted = runCli(t, ['--master', url, ...oneTask]);
    await untrusted.waitFor((l) => /TLS error|certificate/i.test(String(l.msg)), 'a TLS error');
    untrusted.child.kill('SIGTERM');
    await untrusted.exited;
  });

  it('runs against the embedded master with --master local and says where task output is', async (t) => {
    const cli = runCli(t, ['--master', 'local', '--local-cpus', '1', '--local-mem', '256', '--local-attributes', 'rack:r1;zone:eu-1', '--cmd', 'echo hello-from-task', '--maxtasks', '1', '--rounds', '1', '--wait', '0']);
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.ok(cli.messages().some((m) => /^embedded master at 127\.0\.0\.1:\d+ with one agent \(1 CPUs, 256 MB, attributes rack:r1;zone:eu-1\); task sandboxes/.test(m)), cli.messages().join('\n'));
    const output = cli.lines.find((l) => String(l.msg).startsWith('output of task'));
    assert.ok(output, cli.messages().join('\n'));
    assert.equal(readFileSync(join(String(output.sandbox), 'stdout'), 'utf8').trim(), 'hello-from-task');
    rmSync(String(output.sandbox).split('/slaves/')[0]!, { recursive: true, force: true });
  });

  it('hints at --master local when nothing listens on the default master', async (t) => {
    const cli = runCli(t, ['--cmd', 'true', '--rounds', '1']);
    const hint = await cli.waitFor((l) => String(l.msg).startsWith('no master at 127.0.0.1:5050'), 'the hint');
    assert.equal(hint.msg, 'no master at 127.0.0.1:5050; to try without a cluster run with --master local');
    await cli.waitFor((l) => /retrying in/.test(String(l.msg)), 'a retry with backoff');
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.notEqual(code, null, 'exits on SIGTERM while disconnected');
    assert.equal(cli.messages().filter((m) => m.startsWith('no master at')).length, 1);
  });
});
