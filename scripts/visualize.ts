/**
 * `npm run visualize`: writes the state charts of the machines into
 * visualizations/ (Mermaid source, SVG, README), offline and deterministic.
 *
 *   tsx scripts/visualize.ts            regenerate the files
 *   tsx scripts/visualize.ts --check    exit 1, naming the stale files, when any differs
 *   tsx scripts/visualize.ts --out DIR  another directory (tests)
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { clockMachine, frameworkMachine, jobMachine, supervisorMachine, taskMachine } from '../machines/index.js';
import { visualizationFiles, type MachineToDraw } from '../src/observability/visualization-files.js';

const MACHINES: MachineToDraw[] = [
  {
    name: 'framework',
    machine: frameworkMachine,
    summary: 'The connection lifecycle: subscribing, subscribed, failover and stopping; it runs the job (or, with --jobs, the supervisor).',
  },
  {
    name: 'supervisor',
    machine: supervisorMachine,
    summary: 'With --jobs: one job actor per job and a clock per scheduled job; plans each OFFERS event across the jobs, REVIVEs and SUPPRESSes per role, routes updates by task id, starts jobs by schedule and dependencies.',
  },
  {
    name: 'clock',
    machine: clockMachine,
    summary: 'The clock of one scheduled job (every / cron): waits for each start in pieces a timer can hold, catches up a start missed while down.',
  },
  {
    name: 'job',
    machine: jobMachine,
    summary: 'Rounds: launching the round\'s tasks from offers, running, cooldown between rounds (or idle until the supervisor starts the next), draining on stop.',
  },
  {
    name: 'task',
    machine: taskMachine,
    summary: 'One task, from pending launch through its Mesos states to finished or failed.',
  },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Files in visualizations/ that another script writes (`npm run picture:inspector`). */
const NOT_OURS = new Set(['inspector-session.svg', 'inspector-session.json']);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { check: { type: 'boolean', default: false }, out: { type: 'string', default: join(root, 'visualizations') } },
  });
  const outDir = resolve(values.out);
  const graphviz = await Graphviz.load();
  const files = visualizationFiles(MACHINES, (dot) => graphviz.dot(dot));
  const shown = (name: string): string => relative(process.cwd(), join(outDir, name)) || name;

  if (values.check) {
    const stale: string[] = [];
    for (const [name, content] of files) {
      const current = await readFile(join(outDir, name), 'utf8').catch(() => undefined);
      if (current !== content) stale.push(`${shown(name)}${current === undefined ? ' (missing)' : ''}`);
    }
    const expected = new Set(files.keys());
    const present = await readdir(outDir).catch(() => [] as string[]);
    for (const name of present.sort()) {
      if (!expected.has(name) && !NOT_OURS.has(name) && /\.(mmd|svg)$/.test(name)) stale.push(`${shown(name)} (no such machine)`);
    }
    if (stale.length > 0) {
      process.stderr.write(`visualize: stale state charts (run \`npm run visualize\`):\n${stale.map((s) => `  ${s}\n`).join('')}`);
      return 1;
    }
    process.stdout.write(`visualize: ${files.size} files up to date in ${shown('.')}\n`);
    return 0;
  }

  await mkdir(outDir, { recursive: true });
  for (const [name, content] of files) await writeFile(join(outDir, name), content);
  process.stdout.write(`visualize: wrote ${[...files.keys()].map(shown).join(', ')}\n`);
  return 0;
}

process.exitCode = await main();
