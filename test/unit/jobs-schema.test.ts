/**
 * The JSON Schema that ships for editors (schema/jobs.schema.json): it is the
 * loader's schema written out, it is a valid draft 2020-12 schema, and the
 * sample files pass it as an editor would check them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { jobsSchemaText } from '../../src/jobs/schema.js';
import { parseJobsFile } from '../../src/jobs/load.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Validates as an editor does: only the standard keywords, unknown annotations ignored. */
function editorValidator(): (data: unknown) => boolean {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(JSON.parse(read('schema/jobs.schema.json')) as object);
}

test('schema/jobs.schema.json is the loader\'s schema (run npm run gen:schema when this fails)', () => {
  assert.equal(read('schema/jobs.schema.json'), jobsSchemaText());
});

test('the package ships the schema', () => {
  const pkg = JSON.parse(read('package.json')) as { files: string[] };
  assert.ok(pkg.files.includes('schema'));
});

test('the sample files pass the schema as an editor checks them, and load', () => {
  const validate = editorValidator();
  const yamlData: unknown = parse(read('examples/jobs.yaml'));
  const jsonData: unknown = JSON.parse(read('examples/jobs.json'));
  assert.equal(validate(yamlData), true);
  assert.equal(validate(jsonData), true);
  const { $schema: _ignored, ...jsonJobs } = jsonData as Record<string, unknown>;
  assert.deepEqual(jsonJobs, yamlData, 'the JSON sample says what the YAML sample says');
  for (const file of ['examples/jobs.yaml', 'examples/jobs.json']) {
    assert.equal(parseJobsFile(file, read(file), { username: 'u' }).ok, true, file);
  }
});

test('an editor flags what the schema can see: unknown keys, wrong types, bad durations, both every and cron', () => {
  const validate = editorValidator();
  const bad = (job: Record<string, unknown>): boolean => validate({ jobs: [{ name: 'a', ...job }] });
  assert.equal(bad({}), true);
  assert.equal(bad({ maxtask: 1 }), false);
  assert.equal(bad({ cpu: 'x' }), false);
  assert.equal(bad({ wait: '5y' }), false);
  assert.equal(bad({ wait: '1h30m' }), true);
  assert.equal(bad({ schedule: { every: '1m', cron: '* * * * *' } }), false);
  assert.equal(bad({ schedule: { every: '1m', timezone: 'UTC' } }), false);
  assert.equal(bad({ constraints: [['rack', 'NEAR']] }), false);
  assert.equal(bad({ constraints: [['rack']] }), false);
  assert.equal(validate({ jobs: [{ cmd: 'x' }] }), false, 'name is required');
});
