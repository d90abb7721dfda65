/**
 * Rewrites bench/RESULTS.md and bench/results.svg from bench/results.json
 * without running anything (e.g. after editing bench/NOTES.md):
 *   npx tsx bench/report.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, renderSvg, type Results } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const results = JSON.parse(readFileSync(join(here, 'results.json'), 'utf8')) as Results;
writeFileSync(join(here, 'results.svg'), renderSvg(results.series));
writeFileSync(join(here, 'RESULTS.md'), renderMarkdown(results, join(here, 'NOTES.md')));
process.stdout.write('wrote bench/RESULTS.md and bench/results.svg from bench/results.json\n');
