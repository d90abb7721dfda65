/** The real CLI process: bad input gives one line on stderr, a usage hint and exit status 2. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';

const main = join(import.meta.dirname, '../../src/cli/main.ts');
const scratch = mkdtempSync(join(tmpdir(), 'cli-errors-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Result { code: number | null; stdout: string; stderr: string }

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { ...process.env, XDG_STATE_HOME: scratch }, timeout: 60_000,
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const cases: [string[], RegExp][] = [
  [['--cpu', 'abc'], /^mesos-http-scheduler: --cpu must be a positive number, got 'abc'$/],
  [['-maxtasks', '-1'], /^mesos-http-scheduler: --maxtasks must be a whole number >= 1, got '-1'$/],
  [['--wait', '-3'], /^mesos-http-scheduler: --wait must be a non-negative number, got '-3'$/],
  [['--bogus'], /^mesos-http-scheduler: unknown flag '--bogus'/],
  [['--principal', 'p', '--secret-file', '/nonexistent/secret'], /^mesos-http-scheduler: --secret-file '\/nonexistent\/secret' does not exist$/],
  [['-master', '10.0.0.1:x'], /^mesos-http-scheduler: --master: master address '10.0.0.1:x' is not host:port/],
  [['--cpu'], /^mesos-http-scheduler: option '--cpu <cpus>' argument missing$/],
  [['stray'], /^mesos-http-scheduler: too many arguments/],
  [['--master', 'local', '--local-attributes', 'tags:{a,b}'], /^mesos-http-scheduler: --local-attributes: attribute 'tags': a set value \('\{a,b\}'\) is not allowed for an attribute/],
  [['--master', 'local', '--local-attributes', 'rack'], /^mesos-http-scheduler: --local-attributes: Invalid attribute key:value pair 'rack'$/],
];

describe('CLI bad input', () => {
  for (const [args, message] of cases) {
    it(`${args.join(' ')} → one line, a hint, exit 2`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0]!, message);
      assert.equal(lines[1], "Try 'mesos-http-scheduler --help'.");
      assert.doesNotMatch(r.stderr, /\s+at\s/);
      assert.equal(r.stdout, '');
    });
  }

  it('--help shows every flag with its default and exits 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--master', '--cmd', '--cpu', '--mem', '--maxtasks', '--user', '--wait', '--img', '--debug', '--rounds', '--name',
      '--role', '--failover-timeout', '--content-type', '--principal', '--secret-file', '--grace', '--ca-file', '--env', '--uri',
      '--containerizer', '--log-format', '--state-file', '--ha', '--local-cpus', '--local-mem', '--local-attributes', '--state-timeout', '--reset-state']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.ok(r.stdout.replace(/\s+/g, '').includes(`${scratch}/mesos-http-scheduler/<name>.json`.replace(/\s+/g, '')));
    assert.match(r.stdout, /default: "127\.0\.0\.1:5050"/);
  });

  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
  });
});
