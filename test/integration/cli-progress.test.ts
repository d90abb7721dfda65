/**
 * The live progress line of the real CLI on a terminal (a pseudo-terminal
 * made by util-linux `script`): with `--jobs` one line covers every job.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, MAIN, tempDir } from './cli-harness.js';

before(() => ensureBuilt());

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('progress line on a terminal', () => {
  it('with --jobs draws a segment for each job\'s round and a line for each round that ends', async (t) => {
    const cluster = await withCluster(t);
    const dir = tempDir(t, 'cli-progress-');
    const file = join(dir, 'jobs.yaml');
    writeFileSync(file, [
      'jobs:',
      '  - { name: left, cmd: "sleep 1", maxtasks: 2, rounds: 1 }',
      '  - { name: right, cmd: "sleep 1", maxtasks: 1, rounds: 1 }',
      '  - { name: later, cmd: "true", maxtasks: 1, schedule: { cron: "0 3 * * *" } }',
      '',
    ].join('\n'));
    const cli = [process.execPath, MAIN, '--master', cluster.masters[0]!.hostPort, '--jobs', file, '--state-file', join(dir, 'state.json')].map(quote).join(' ');
    // A terminal 200 columns wide; `script -e` exits with the CLI's status.
    const child = spawn('script', ['-qfec', `stty cols 200; exec ${cli}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: dir } });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      // `later` waits for 03:00, so the CLI runs until signalled: stop it once both rounds are done.
      if (output.includes('left round 1 done') && output.includes('right round 1 done')) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // What a user sees, drawing by drawing: each `\r` + erase-line starts a new drawing of the status line.
    const drawings = output.split(/\r\x1b\[2K|\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
    assert.ok(drawings.some((d) => /^left r1 \d\/2 run \d \| right r1 \d\/1 run \d \| 1 idle$/.test(d)), `both jobs' rounds on one line:\n${drawings.join('\n')}`);
    assert.ok(drawings.includes('left round 1 done · finished 2 · failed 0'), drawings.join('\n'));
    assert.ok(drawings.includes('right round 1 done · finished 1 · failed 0'), drawings.join('\n'));
    assert.ok(!drawings.some((d) => /^round \d+ ·/.test(d)), 'not the single-job line');
    assert.equal(code, 0, output);
  });
});
