/**
 * Writes schema/jobs.schema.json (for editors) from src/jobs/schema.ts, the
 * schema the loader validates with. test/unit/jobs-schema.test.ts fails when
 * the file is stale. Usage: tsx scripts/gen-schema.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jobsSchemaText } from '../src/jobs/schema.js';

writeFileSync(fileURLToPath(new URL('../schema/jobs.schema.json', import.meta.url)), jobsSchemaText());
