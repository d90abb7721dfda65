/**
 * machines/ is pure: every file imports only the pure packages listed here,
 * sibling files of machines/, and *types* from src/; no `node:` module, no
 * clock and no randomness of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const machines = join(root, 'machines');

/** Packages a machine file may import: state machines, persistent data, dates and schedules. */
export const PURE_PACKAGES: ReadonlySet<string> = new Set(['xstate', 'immutable', 'croner']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface ImportStatement {
  text: string;
  specifier: string;
  typeOnly: boolean;
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** Static imports and re-exports (`import … from`, `export … from`, bare `import '…'`) and dynamic `import(…)`. */
export function importsOf(code: string): ImportStatement[] {
  const found: ImportStatement[] = [];
  const withoutComments = stripComments(code);
  for (const m of withoutComments.matchAll(/\b(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g)) {
    const clause = m[3] ?? '';
    // `import { type A, type B } from` is type-only too.
    const inner = /^\{([^}]*)\}$/.exec(clause.trim())?.[1];
    const allTypes = inner !== undefined && inner.split(',').map((s) => s.trim()).filter((s) => s !== '').every((s) => s.startsWith('type '));
    found.push({ text: m[0], specifier: m[4] ?? '', typeOnly: m[2] !== undefined || allTypes });
  }
  for (const m of withoutComments.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) found.push({ text: m[0], specifier: m[1] ?? '', typeOnly: false });
  for (const m of withoutComments.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ text: m[0], specifier: m[1] ?? '', typeOnly: false });
  return found;
}

/** Why `statement` in `file` breaks the rule, or undefined. */
export function impurity(file: string, statement: ImportStatement): string | undefined {
  const { specifier } = statement;
  if (specifier.startsWith('node:')) return `a node: module (${specifier})`;
  if (!specifier.startsWith('.')) {
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] ?? specifier;
    return PURE_PACKAGES.has(name) ? undefined : `the package ${name}, not on the list of pure ones (${[...PURE_PACKAGES].join(', ')})`;
  }
  const target = resolve(dirname(file), specifier);
  if (target === machines || target.startsWith(machines + sep)) return undefined;
  const inSrc = target.startsWith(join(root, 'src') + sep);
  if (inSrc && statement.typeOnly) return undefined;
  return inSrc ? `a value from src/ (${specifier}): only types may come from there` : `a file outside machines/ and src/ (${specifier})`;
}

test('every file in machines/ imports only pure packages, its siblings and types from src/', () => {
  const problems: string[] = [];
  const files = sources(machines);
  assert.ok(files.length > 10, `${files.length} files`);
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    for (const statement of importsOf(code)) {
      const why = impurity(file, statement);
      if (why !== undefined) problems.push(`${relative(root, file)}: ${statement.text} imports ${why}`);
    }
    for (const call of ['Date.now(', 'Math.random(']) {
      if (stripComments(code).includes(call)) problems.push(`${relative(root, file)}: calls ${call.slice(0, -1)} (times come in events, random parts in input)`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the purity check catches what it should', () => {
  const file = join(machines, 'job', 'example.ts');
  const verdict = (code: string) => importsOf(code).map((s) => impurity(file, s));
  assert.deepEqual(verdict("import { setup } from 'xstate';"), [undefined]);
  assert.deepEqual(verdict("import { Map } from 'immutable';\nimport { Cron } from 'croner';"), [undefined, undefined]);
  assert.deepEqual(verdict("import { jobSetup } from './job.setup.js';\nexport * from '../policy/calls.js';"), [undefined, undefined]);
  assert.deepEqual(verdict("import type { Call } from '../../src/mesos/types.js';"), [undefined]);
  assert.deepEqual(verdict("import { type Call, type Offer } from '../../src/mesos/types.js';"), [undefined]);
  assert.match(verdict("import { readFileSync } from 'node:fs';")[0] ?? '', /node: module/);
  assert.match(verdict("import pino from 'pino';")[0] ?? '', /package pino, not on the list/);
  assert.match(verdict("import { z } from '@scope/pkg/sub';")[0] ?? '', /package @scope\/pkg/);
  assert.match(verdict("import { encodeCall } from '../../src/mesos/codec.js';")[0] ?? '', /a value from src/);
  assert.match(verdict("import { type Call, encodeCall } from '../../src/mesos/codec.js';")[0] ?? '', /a value from src/);
  assert.match(verdict("import '../../src/runtime/signals.js';")[0] ?? '', /a value from src/);
  assert.match(verdict("const m = await import('node:os');")[0] ?? '', /node: module/);
  assert.match(verdict("import x from '../../bench/lib/x.js';")[0] ?? '', /outside machines/);
  assert.deepEqual(verdict('// import x from "node:fs"\n/* import y from \'pino\' */'), []);
});
