/**
 * Request-level checks of the scheduler endpoint that do not need master
 * state: Call validation (validation.cpp scheduler::call::validate), Accept
 * negotiation (libprocess Request::acceptsMediaType), basic auth parsing.
 */
import type { Call } from '../mesos/types.js';

/** Returns the error text (without the "Failed to validate scheduler::Call: " prefix) or undefined. */
export function validateCall(call: Call, principal: string | undefined): string | undefined {
  if (!call.type) return "Expecting 'type' to be present";
  if (call.type === 'SUBSCRIBE') {
    if (!call.subscribe) return "Expecting 'subscribe' to be present";
    const info = call.subscribe.framework_info;
    if ((info.id?.value ?? '') !== (call.framework_id?.value ?? '')) return "'framework_id' differs from 'subscribe.framework_info.id'";
    if (principal !== undefined && info.principal !== undefined && principal !== info.principal) {
      return `Authenticated principal '${principal}' does not match principal '${info.principal}' set in \`FrameworkInfo\``;
    }
    return undefined;
  }
  if (!call.framework_id) return "Expecting 'framework_id' to be present";
  const fields = call as unknown as Record<string, unknown>;
  const need = (field: string): string | undefined => (fields[field] === undefined ? `Expecting '${field}' to be present` : undefined);
  switch (call.type) {
    case 'ACCEPT': return need('accept');
    case 'DECLINE': return need('decline');
    case 'ACCEPT_INVERSE_OFFERS': return need('accept_inverse_offers');
    case 'DECLINE_INVERSE_OFFERS': return need('decline_inverse_offers');
    case 'KILL': return need('kill');
    case 'SHUTDOWN': return need('shutdown');
    case 'ACKNOWLEDGE': {
      const missing = need('acknowledge');
      if (missing) return missing;
      return Buffer.from(call.acknowledge!.uuid, 'base64').length === 16 ? undefined : 'Not a valid UUID';
    }
    case 'ACKNOWLEDGE_OPERATION_STATUS': {
      const missing = need('acknowledge_operation_status');
      if (missing) return missing;
      if (Buffer.from(call.acknowledge_operation_status!.uuid, 'base64').length !== 16) return 'Not a valid UUID';
      return call.acknowledge_operation_status!.agent_id ? undefined : "Expecting 'agent_id' to be present";
    }
    case 'RECONCILE': return need('reconcile');
    case 'RECONCILE_OPERATIONS': return need('reconcile_operations');
    case 'MESSAGE': return need('message');
    case 'REQUEST': return need('request');
    case 'UPDATE_FRAMEWORK': {
      const missing = need('update_framework');
      if (missing) return missing;
      if ((call.update_framework!.framework_info.id?.value ?? '') !== call.framework_id.value) {
        return "'framework_id' differs from 'update_framework.framework_info.id'";
      }
      return undefined;
    }
    default: return undefined;
  }
}

interface AcceptEntry { type: string; subtype: string; q: number }

function parseAccept(header: string): AcceptEntry[] {
  const out: AcceptEntry[] = [];
  for (const part of header.split(',')) {
    const [range, ...params] = part.trim().split(';');
    const [type, subtype] = (range ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim() === 'q' && v !== undefined) q = Number(v.trim());
    }
    out.push({ type, subtype, q: Number.isFinite(q) ? q : 0 });
  }
  return out;
}

/** True when the Accept header allows `mediaType` (no header allows everything; an empty one nothing); the most specific range decides, q=0 refuses. */
export function acceptsMediaType(header: string | undefined, mediaType: string): boolean {
  if (header === undefined) return true;
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const e of parseAccept(header)) {
    let specificity = -1;
    if (e.type === type && e.subtype === subtype) specificity = 2;
    else if (e.type === type && e.subtype === '*') specificity = 1;
    else if (e.type === '*' && e.subtype === '*') specificity = 0;
    if (specificity >= 0 && (!best || specificity > best.specificity)) best = { specificity, q: e.q };
  }
  return best !== undefined && best.q > 0;
}

/** The principal of valid `Authorization: Basic` credentials, or undefined. */
export function authenticate(header: string | undefined, credentials: ReadonlyMap<string, string>): string | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const principal = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return credentials.get(principal) === secret ? principal : undefined;
}
