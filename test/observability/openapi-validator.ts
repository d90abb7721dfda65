/**
 * Validates answers of the status port against the OpenAPI document
 * (src/observability/api/openapi.ts) with ajv: the schema the document gives
 * for a path template, method and status.
 */
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openApiDocument } from '../../src/observability/api/openapi.js';

type Response = { $ref?: string; content?: Record<string, { schema: object }> };
type Doc = { paths: Record<string, Record<string, { responses: Record<string, Response> }>>; components: { responses: Record<string, Response> } };
const doc = openApiDocument as unknown as Doc;

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)) });
ajv.addSchema(openApiDocument as object, 'openapi.json');

/** The JSON schema the document gives for `method template` answering `status`. */
export function schemaFor(template: string, status: number, method = 'get'): object {
  const operation = doc.paths[template]?.[method];
  assert.ok(operation, `the document has ${method.toUpperCase()} ${template}`);
  let response = operation.responses[String(status)];
  assert.ok(response, `the document lists status ${status} for ${method.toUpperCase()} ${template}`);
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()!];
  const schema = response?.content?.['application/json']?.schema as { $ref?: string } | undefined;
  assert.ok(schema, `a JSON schema for ${status} of ${method.toUpperCase()} ${template}`);
  return schema.$ref ? { $ref: `openapi.json${schema.$ref}` } : schema;
}

/** Requests `path`, asserts the status, and validates the JSON body against the document. */
export async function requestValid(base: string, path: string, template: string, status = 200, init: RequestInit = {}): Promise<any> {
  const method = (init.method ?? 'GET').toLowerCase();
  const res = await fetch(`${base}${path}`, init);
  assert.equal(res.status, status, `${method.toUpperCase()} ${path}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = await res.json();
  const validate = ajv.compile(schemaFor(template, status, method));
  assert.ok(validate(body), `${method.toUpperCase()} ${path} (${status}) matches the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body, null, 2).slice(0, 2000)}`);
  return body;
}
