/**
 * Builds the dashboard into dist/dashboard (part of `npm run build`): bundles
 * web/dashboard/app.js with preact and htm (esbuild, minified, one file),
 * copies index.html and app.css, and the state charts generated from the
 * machines (visualizations/{framework,job,task}.svg) that the page lights up.
 * The scheduler serves these files itself; nothing comes from a CDN.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web/dashboard');
const out = join(root, 'dist/dashboard');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets/charts'), { recursive: true });
await build({
  entryPoints: [join(web, 'app.js')],
  outfile: join(out, 'assets/app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(web, 'index.html'), join(out, 'index.html'));
copyFileSync(join(web, 'app.css'), join(out, 'assets/app.css'));
for (const machine of ['framework', 'job', 'task']) {
  copyFileSync(join(root, 'visualizations', `${machine}.svg`), join(out, 'assets/charts', `${machine}.svg`));
}
