/**
 * The published package: `npm pack` gives a tarball that installs into an
 * empty prefix with only runtime dependencies, and its bin runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

interface Tree { dependencies?: Record<string, Tree> }

const root = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'package-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
}

describe('package', () => {
  it('packs, installs from the tarball and runs --help', () => {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', scratch], root)) as { filename: string; files: { path: string }[] }[];
    const info = packed[0]!;
    const paths = info.files.map((f) => f.path);
    assert.ok(paths.includes('dist/src/cli/main.js'), 'the bin is in the tarball');
    assert.ok(!paths.some((p) => p.startsWith('test/') || p.startsWith('src/')), 'no sources or tests in the tarball');

    const prefix = join(scratch, 'prefix');
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(scratch, info.filename)], scratch);
    const bin = join(prefix, 'bin', 'mesos-http-scheduler');
    assert.ok(existsSync(bin));
    const help = execFileSync(bin, ['--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.match(help, /Usage: mesos-http-scheduler/);
    assert.match(help, /--maxtasks/);

    // Dev dependencies that no runtime dependency needs must not be installed.
    const installed = join(prefix, 'lib', 'node_modules', 'mesos-http-scheduler', 'node_modules');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const runtimeTree = JSON.parse(npm(['ls', '--omit=dev', '--all', '--json'], root)) as Tree;
    const needed = new Set<string>();
    const walk = (t: Tree): void => { for (const [name, sub] of Object.entries(t.dependencies ?? {})) { needed.add(name); walk(sub); } };
    walk(runtimeTree);
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => !needed.has(d));
    assert.ok(devOnly.includes('typescript') && devOnly.includes('tsx'));
    for (const dev of devOnly) assert.ok(!existsSync(join(installed, dev)), `dev dependency ${dev} was installed`);
    assert.ok(existsSync(join(installed, 'undici')) || existsSync(join(prefix, 'lib', 'node_modules', 'undici')), 'runtime dependency undici installed');
  });
});
