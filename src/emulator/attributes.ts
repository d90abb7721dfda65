/**
 * Agent attributes in the syntax of the Mesos agent's `--attributes` flag,
 * read as src/common/attributes.cpp and src/common/values.cpp read them:
 * `name:value` pairs separated by `;` (or newlines), spaces removed; a value
 * starting with `[` is RANGES (`[1-10,20-30]`), a number is SCALAR, anything
 * else TEXT. A SET (`{a,b}`) is refused, as the agent refuses it ("Bad type
 * for attribute").
 *
 *   parseAttributes('rack:r1;zone:eu-1;weight:2.5;ports:[1000-2000]')
 */
import type { Attribute, Range } from '../mesos/types.js';

export class AttributeError extends Error {}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function bracketsMatch(text: string, open: string, close: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === open) depth++;
    else if (ch === close && --depth < 0) return false;
  }
  return depth === 0;
}

function parseRanges(text: string): Range[] {
  const tokens = text.split(/[[\]\-,\n]/).filter((t) => t !== '');
  if (tokens.length % 2 !== 0 || tokens.length === 0) throw new AttributeError('Expecting one or more "ranges"');
  const ranges: Range[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const [b, e] = [tokens[i]!, tokens[i + 1]!];
    if (!/^\d+$/.test(b) || !/^\d+$/.test(e)) throw new AttributeError(`Expecting non-negative integers in '${b}'`);
    ranges.push({ begin: Number(b), end: Number(e) });
  }
  // coalesce, as values.cpp does
  ranges.sort((x, y) => x.begin - y.begin);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** One attribute from its name and value text. */
export function parseAttribute(name: string, text: string): Attribute {
  const value = text.replaceAll(' ', '');
  if (value === '') throw new AttributeError(`attribute '${name}': Expecting non-empty string`);
  if (!bracketsMatch(value, '{', '}') || !bracketsMatch(value, '[', ']') || !bracketsMatch(value, '(', ')')) {
    throw new AttributeError(`attribute '${name}': Mismatched brackets`);
  }
  const bracket = value.indexOf('[');
  if (bracket === 0) {
    try {
      return { name, type: 'RANGES', ranges: { range: parseRanges(value) } };
    } catch (err) {
      throw new AttributeError(`attribute '${name}': ${(err as Error).message}`);
    }
  }
  if (bracket > 0) throw new AttributeError(`attribute '${name}': Unexpected '[' found`);
  const brace = value.indexOf('{');
  if (brace === 0) throw new AttributeError(`attribute '${name}': a set value ('${value}') is not allowed for an attribute (Mesos: "Bad type for attribute")`);
  if (brace > 0) throw new AttributeError(`attribute '${name}': Unexpected '{' found`);
  if (NUMBER.test(value)) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new AttributeError(`attribute '${name}': Invalid scalar value '${value}'`);
    return { name, type: 'SCALAR', scalar: { value: n } };
  }
  return { name, type: 'TEXT', text: { value } };
}

/** Attributes from the agent flag's text. */
export function parseAttributes(spec: string): Attribute[] {
  const out: Attribute[] = [];
  for (const token of spec.split(/[;\n]/)) {
    if (token === '') continue;
    const colon = token.indexOf(':');
    const name = colon < 0 ? token : token.slice(0, colon);
    const value = colon < 0 ? '' : token.slice(colon + 1);
    if (colon < 0 || name === '' || value === '') throw new AttributeError(`Invalid attribute key:value pair '${token}'`);
    out.push(parseAttribute(name, value));
  }
  return out;
}

/** How /master/state shows attributes: an object of name to number or string (as Mesos' JSON model of Attributes). */
export function attributesJson(attributes: readonly Attribute[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const a of attributes) {
    if (a.type === 'SCALAR') out[a.name] = a.scalar!.value;
    else if (a.type === 'RANGES') out[a.name] = `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
    else if (a.type === 'TEXT') out[a.name] = a.text!.value;
  }
  return out;
}
