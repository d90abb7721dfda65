/**
 * Validates the parsed data of a jobs file against JOBS_SCHEMA with ajv
 * (draft 2020-12) and turns ajv's errors into short messages at a path.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { JOBS_SCHEMA } from './schema.js';
import type { PathSegment } from './problems.js';

export interface SchemaIssue {
  /** Path of the value the issue is about. */
  path: PathSegment[];
  /** Set when the issue is about a key of the map at `path` (unknown or misspelt key). */
  key?: string;
  message: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, strictTuples: false, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-messages', schemaType: 'object' });
    compiled = ajv.compile(JOBS_SCHEMA);
  }
  return compiled;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', object: 'a map', array: 'a list', null: 'empty',
};

function typeList(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) => TYPE_NAMES[String(t)] ?? String(t));
  return types.join(' or ');
}

/** The closest known key, when one is close enough to be a likely misspelling. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const here = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = here;
      }
    }
    return row[b.length]!;
  };
  const normal = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = normal(c) === normal(word) ? 0 : distance(word.toLowerCase(), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 4)) ? best : undefined;
}

function message(error: ErrorObject): string {
  const custom = (error.parentSchema as { 'x-messages'?: Record<string, string> } | undefined)?.['x-messages']?.[error.keyword];
  if (custom !== undefined) return custom;
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return `must be ${typeList(p.type)}`;
    case 'required':
      return `missing field '${String(p.missingProperty)}'`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'uniqueItems':
      return `names the same entry twice (items ${Math.min(Number(p.i), Number(p.j)) + 1} and ${Math.max(Number(p.i), Number(p.j)) + 1})`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** Every problem the schema finds, in document order of paths. */
export function schemaIssues(data: unknown): SchemaIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // anyOf reports its branches' errors too; the anyOf message says it better.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath);
  const issues: SchemaIssue[] = [];
  for (const error of errors) {
    if (error.keyword !== 'anyOf' && anyOfPaths.some((p) => error.schemaPath.startsWith(`${p}/`))) continue;
    const path = pointerToPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      issues.push({ path, key, message: `unknown field '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}` });
    } else if (error.keyword === 'propertyNames') {
      continue; // the failing key's own error (below) names it
    } else if (error.keyword === 'pattern' && error.propertyName !== undefined) {
      issues.push({ path, key: error.propertyName, message: `'${error.propertyName}' ${message(error)}` });
    } else {
      issues.push({ path, message: message(error) });
    }
  }
  return issues;
}
