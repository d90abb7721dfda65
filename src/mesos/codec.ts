/**
 * Encodes and decodes scheduler Calls and Events as protobuf or JSON.
 * Objects on our side are always in the Mesos JSON mapping (see types.ts), so
 * JSON is a plain stringify/parse and protobuf goes through protobufjs with
 * enums as names, 64-bit integers as numbers and bytes as base64 strings.
 */
import protobuf from 'protobufjs';
import { descriptor } from './proto/descriptor.generated.js';
import type { Call, Event } from './types.js';

export type WireFormat = 'protobuf' | 'json';

export const CONTENT_TYPES: Readonly<Record<WireFormat, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** The wire format for an exact Content-Type value, or undefined (Mesos compares exactly). */
export function formatForContentType(contentType: string | undefined): WireFormat | undefined {
  if (contentType === CONTENT_TYPES.protobuf) return 'protobuf';
  if (contentType === CONTENT_TYPES.json) return 'json';
  return undefined;
}

export const protoRoot = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);
const CallMessage = protoRoot.lookupType('mesos.v1.scheduler.Call');
const EventMessage = protoRoot.lookupType('mesos.v1.scheduler.Event');

const TO_OBJECT: protobuf.IConversionOptions = { enums: String, longs: Number, bytes: String, defaults: false };

/** A body that is not a valid message of the expected type. */
export class CodecError extends Error {
  readonly code = 'MESOS_CODEC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecError';
  }
}

function encode(type: protobuf.Type, value: object, format: WireFormat): Uint8Array {
  if (format === 'json') return Buffer.from(JSON.stringify(value));
  return type.encode(type.fromObject(value)).finish();
}

function decodeProtobuf<T>(type: protobuf.Type, bytes: Uint8Array): T {
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT) as T;
  } catch (err) {
    throw new CodecError(`Failed to parse body into ${type.name}: ${(err as Error).message}`, { cause: err });
  }
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new CodecError(`Failed to parse body into JSON: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CodecError(`Failed to convert JSON into ${what} protobuf: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks JSON against the message type as the Mesos master does: enum fields
 * must be value names (a number is an error), an unknown name in an optional
 * enum field is dropped, in a required one it is an error. Unknown keys are
 * ignored, which is also what the master does with camelCase keys.
 */
function checkJsonEnums(type: protobuf.Type, obj: Record<string, unknown>, where: string): void {
  for (const [key, raw] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field || raw === null || raw === undefined) continue;
    const resolved = field.resolve().resolvedType;
    const values = field.repeated && Array.isArray(raw) ? raw : [raw];
    if (resolved instanceof protobuf.Enum) {
      for (const v of values) {
        if (typeof v !== 'string') {
          throw new CodecError(`Failed to convert JSON into ${where}: field '${key}' expects an enum value name, got ${JSON.stringify(v)}`);
        }
        if (!(v in resolved.values)) {
          if (field.required) throw new CodecError(`Failed to convert JSON into ${where}: unknown value '${v}' for required enum field '${key}'`);
          if (!field.repeated) delete obj[key];
        }
      }
    } else if (resolved instanceof protobuf.Type) {
      for (const v of values) {
        if (v && typeof v === 'object' && !Array.isArray(v)) checkJsonEnums(resolved, v as Record<string, unknown>, where);
      }
    }
  }
}

/**
 * Paths of `required` fields missing anywhere in JSON (e.g. 'subscribe.framework_info.name').
 * protobufjs' fromObject would fill them with defaults; the master answers 400 instead.
 */
function missingRequired(type: protobuf.Type, value: unknown, path: string, missing: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const obj = value as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const v = obj[field.name];
    const where = path ? `${path}.${field.name}` : field.name;
    if (field.required && (v === undefined || v === null)) {
      missing.push(where);
      continue;
    }
    const resolved = field.resolve().resolvedType;
    if (!(resolved instanceof protobuf.Type) || v === undefined || v === null || field.map) continue;
    if (field.repeated && Array.isArray(v)) v.forEach((item, i) => missingRequired(resolved, item, `${where}[${i}]`, missing));
    else missingRequired(resolved, v, where, missing);
  }
}

function decodeJsonStrict<T>(type: protobuf.Type, bytes: Uint8Array): T {
  const obj = parseJson(bytes, type.name);
  const missing: string[] = [];
  missingRequired(type, obj, '', missing);
  if (missing.length > 0) {
    throw new CodecError(`Failed to convert JSON into ${type.name} protobuf: Missing required fields: ${missing.join(', ')}`);
  }
  checkJsonEnums(type, obj, `${type.name} protobuf`);
  try {
    // Through bytes and back, so the result has exactly the shape a protobuf body would give.
    const message = type.fromObject(obj);
    return type.toObject(type.decode(type.encode(message).finish()), TO_OBJECT) as T;
  } catch (err) {
    throw new CodecError(`Failed to convert JSON into ${type.name} protobuf: ${(err as Error).message}`, { cause: err });
  }
}

const ACKNOWLEDGE = protoRoot.lookupEnum('mesos.v1.scheduler.Call.Type').values['ACKNOWLEDGE']!;

export function encodeCall(call: Call, format: WireFormat): Uint8Array {
  if (format === 'protobuf' && call.type === 'ACKNOWLEDGE' && call.acknowledge !== undefined) return encodeAcknowledge(call, call.acknowledge);
  return encode(CallMessage, call, format);
}

/**
 * An ACKNOWLEDGE (three per task) without `fromObject`'s copy of the whole
 * call: protobufjs' `encode` takes the plain object once its one enum is a
 * number (the uuid's base64 string it writes as bytes itself). The same bytes
 * as the general path (test/unit/codec.test.ts).
 */
function encodeAcknowledge(call: Call, ack: NonNullable<Call['acknowledge']>): Uint8Array {
  const message: Record<string, unknown> = { type: ACKNOWLEDGE, acknowledge: { agent_id: ack.agent_id, task_id: ack.task_id, uuid: ack.uuid } };
  if (call.framework_id !== undefined) message['framework_id'] = call.framework_id;
  return CallMessage.encode(message).finish();
}

/** Decodes a Call as the master does: strict about required fields and enums. */
export function decodeCall(bytes: Uint8Array, format: WireFormat): Call {
  return format === 'json' ? decodeJsonStrict<Call>(CallMessage, bytes) : decodeProtobuf<Call>(CallMessage, bytes);
}

export function encodeEvent(event: Event, format: WireFormat): Uint8Array {
  return encode(EventMessage, event, format);
}

export function decodeEvent(bytes: Uint8Array, format: WireFormat): Event {
  return format === 'json' ? (parseJson(bytes, 'Event') as Event) : decodeProtobuf<Event>(EventMessage, bytes);
}
