/**
 * `npm run bench`: runs every figure against `local-master --mode simulated`
 * in its own process (the master, as a real one is), with the scheduler as
 * the real CLI process, and writes bench/results.json, bench/RESULTS.md and
 * bench/results.svg. BENCH_QUICK=1 for small sizes; BENCH_ONLY=a,b for some
 * modules (updates, launch, hold, cpu, ha, compare, memory, notify);
 * BENCH_OUT=dir writes the results there instead of bench/.
 * Builds dist/ first (the CLI the bench runs) unless BENCH_NO_BUILD=1.
 * Re-executes itself with --expose-gc when started without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCpu } from './figures/cpu.js';
import { runHa } from './figures/ha.js';
import { runHoldTime } from './figures/hold-time.js';
import { runLaunch } from './figures/launch.js';
import { runMemory } from './figures/memory.js';
import { runMesosFramework } from './figures/mesos-framework.js';
import { runNotify } from './figures/notify.js';
import { runUpdates } from './figures/updates.js';
import { machineInfo } from './lib/machine.js';
import type { BenchOptions } from './lib/options.js';
import { renderMarkdown, renderSvg, type Results } from './lib/report.js';
import type { FigureOutput } from './lib/results.js';
import { hasGc } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));

if (!hasGc()) {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

/** The exact command, from package.json's bench script when there is one. */
function benchCommand(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const script = pkg.scripts?.['bench'];
    if (script) return `npm run bench    # = ${script} (re-executes itself with node --expose-gc when needed)`;
  } catch { /* fall through */ }
  return 'node --expose-gc --import tsx bench/run.ts';
}

const MODULES: Array<[string, (o: BenchOptions) => Promise<FigureOutput>]> = [
  ['updates', runUpdates],
  ['launch', runLaunch],
  ['hold', runHoldTime],
  ['cpu', runCpu],
  ['ha', runHa],
  ['compare', runMesosFramework],
  ['memory', runMemory],
  ['notify', runNotify],
];

if (process.env['BENCH_NO_BUILD'] !== '1') {
  // The bench runs the built CLI (dist/src/cli/main.js): build it from this tree first.
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: join(here, '..'), stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write('bench: npm run build failed\n');
    process.exit(1);
  }
}

const started = Date.now();
const quick = process.env['BENCH_QUICK'] === '1';
const only = (process.env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const opts: BenchOptions = {
  quick,
  workDir: join(here, '.work'),
  log: (line) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
};
const results: Results = {
  generatedAt: new Date(started).toISOString(),
  durationSeconds: 0,
  quick,
  command: benchCommand(),
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => [k, v ?? ''])),
  machine: machineInfo(),
  figures: [],
  series: [],
  method: [],
  errors: [],
};

for (const [name, run] of MODULES) {
  if (only.length > 0 && !only.includes(name)) continue;
  opts.log(`== ${name}`);
  try {
    const out = await run(opts);
    results.figures.push(...out.figures);
    results.series.push(...(out.series ?? []));
    results.method.push(...(out.method ?? []));
  } catch (err) {
    opts.log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    results.errors.push({ module: name, error: (err as Error).message });
  }
}

results.durationSeconds = (Date.now() - started) / 1000;
// BENCH_OUT: write somewhere else (smoke runs that must not replace the committed results).
const out = process.env['BENCH_OUT'] ? resolve(process.env['BENCH_OUT']) : here;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(out, 'results.svg'), renderSvg(results.series));
writeFileSync(join(out, 'RESULTS.md'), renderMarkdown(results, join(here, 'NOTES.md')));
for (const f of results.figures) {
  const met = f.met === null ? '' : f.met ? '  [met]' : '  [MISSED]';
  const ratio = f.ratio === null ? '' : `  ratio ${f.ratio}`;
  process.stdout.write(`${f.name}: ${f.value ?? 'not measured'} ${f.unit}${f.limit !== null ? `  limit ${f.limit}` : ''}${ratio}${f.target ? `  target ${f.target}` : ''}${met}\n`);
}
opts.log(`wrote results.json, RESULTS.md, results.svg in ${out} in ${results.durationSeconds.toFixed(0)} s`);
// Timers left by third-party code (mesos-framework) must not keep the bench alive.
process.exit(results.errors.length > 0 ? 1 : 0);
