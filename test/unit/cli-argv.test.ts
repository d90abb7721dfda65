import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeGoFlags } from '../../src/cli/argv.js';
import { buildProgram, longName, schedulerFlags } from '../../src/cli/program.js';

const specs = schedulerFlags('/state/<name>.json', 'alice', { cpus: 2, memMb: 2048 });
const names = new Set(specs.map((s) => longName(s.flags)));
const withValue = new Set(specs.filter((s) => s.flags.includes('<')).map((s) => longName(s.flags)));

function parse(argv: string[]): Record<string, unknown> {
  const program = buildProgram('/state/<name>.json', 'alice', { cpus: 2, memMb: 2048 }, '1.0.0').exitOverride().action(() => {});
  program.parse(normalizeGoFlags(argv, names, withValue), { from: 'user' });
  return program.opts();
}

describe('Go-style flags', () => {
  it('rewrites known single-dash long flags and leaves the rest alone', () => {
    assert.deepEqual(
      normalizeGoFlags(['-master', '10.0.0.1:5050', '-maxtasks=3', '-debug', '-h', '--wait', '1', '-x', '--', '-cmd'], names, withValue),
      ['--master', '10.0.0.1:5050', '--maxtasks=3', '--debug', '-h', '--wait', '1', '-x', '--', '-cmd'],
    );
  });

  it('never rewrites the value of a flag, even when it looks like a flag', () => {
    assert.deepEqual(normalizeGoFlags(['-cmd', '-debug', '-wait', '-3'], names, withValue), ['--cmd', '-debug', '--wait', '-3']);
  });

  it('parses the original tool\'s command line', () => {
    const opts = parse(['-master', '10.0.0.1:5050', '-cmd', 'sleep 1', '-cpu', '0.5', '-mem', '128', '-maxtasks', '2',
      '-user', 'etl', '-wait', '2', '-img', 'busybox', '-debug']);
    assert.equal(opts.master, '10.0.0.1:5050');
    assert.equal(opts.cmd, 'sleep 1');
    assert.equal(opts.cpu, '0.5');
    assert.equal(opts.mem, '128');
    assert.equal(opts.maxtasks, '2');
    assert.equal(opts.user, 'etl');
    assert.equal(opts.wait, '2');
    assert.equal(opts.img, 'busybox');
    assert.equal(opts.debug, true);
  });

  it('parses GNU long flags, = forms and repeatable flags', () => {
    const opts = parse(['--master=a:1', '--env', 'A=1', '--env=B=2', '--uri', 'u1', '-uri', 'u2', '--failover-timeout', '60', '--content-type', 'json']);
    assert.equal(opts.master, 'a:1');
    assert.deepEqual(opts.env, ['A=1', 'B=2']);
    assert.deepEqual(opts.uri, ['u1', 'u2']);
    assert.equal(opts.failoverTimeout, '60');
    assert.equal(opts.contentType, 'json');
  });
});
