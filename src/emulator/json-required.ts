/**
 * Mesos rejects a JSON call that lacks a `required` field anywhere ("Missing
 * required fields: ..."); protobufjs' fromObject fills such fields with
 * defaults instead, so the master side checks them here before decoding.
 */
import protobuf from 'protobufjs';
import { protoRoot } from '../mesos/codec.js';

const CallType = protoRoot.lookupType('mesos.v1.scheduler.Call');

function walk(type: protobuf.Type, value: unknown, path: string, missing: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const obj = value as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const v = obj[field.name];
    const where = path ? `${path}.${field.name}` : field.name;
    if (field.required && (v === undefined || v === null)) { missing.push(where); continue; }
    const resolved = field.resolve().resolvedType;
    if (!(resolved instanceof protobuf.Type) || v === undefined || v === null || field.map) continue;
    if (field.repeated && Array.isArray(v)) v.forEach((item, i) => walk(resolved, item, `${where}[${i}]`, missing));
    else walk(resolved, v, where, missing);
  }
}

/** The missing required fields of a JSON Call (already parsed), e.g. ['subscribe.framework_info.name']. */
export function missingRequiredFields(json: unknown): string[] {
  const missing: string[] = [];
  walk(CallType, json, '', missing);
  return missing;
}
