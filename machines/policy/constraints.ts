/**
 * Placement constraints with Marathon's syntax and semantics (pure): may one
 * more task of a job go on the agent of this offer, given where the job's
 * tasks that run or are being launched already are?
 *
 * A constraint is `[field, operator]` or `[field, operator, value]`. The field
 * is `hostname` (or `@hostname`) or the name of an agent attribute. Attribute
 * values are compared as text, formatted as Mesos formats them: a scalar with
 * at most three decimals and no trailing zeros (`2`, `1.5`), a range set as
 * `[1-5,7-9]` (ordered by begin), a set as `{a,b}` (sorted).
 *
 * An offer whose agent lacks the attribute meets only UNLIKE. Otherwise:
 * - UNIQUE: no placed task has the offer's value.
 * - CLUSTER v: the offer's value is v. CLUSTER alone: the first task goes
 *   anywhere, the others where the first one's value is.
 * - GROUP_BY n: spread evenly over n values. A value that has tasks takes one
 *   more while it holds fewer than wanted/n, or exactly that many while the
 *   remainder (wanted mod n) is not used up; a new value is taken while fewer
 *   than n values are used. GROUP_BY alone: a new value, or one of the values
 *   with the fewest tasks.
 * - MAX_PER n: fewer than n placed tasks have the offer's value.
 * - LIKE re / UNLIKE re: the value does / does not match the regular
 *   expression as a whole (Java's String.matches; here ECMAScript syntax).
 * - IS v: the value equals v (a number in v is formatted as a scalar, `2.0` is `2`).
 * Every constraint of a job must hold.
 */
import type { Attribute, Offer } from '../../src/mesos/types.js';

export const CONSTRAINT_OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

export interface Constraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

/** Where a task of the job runs or is being launched. */
export interface Placement {
  hostname: string;
  attributes?: readonly Attribute[];
}

/** Where an offer's agent is. */
export type OfferPlace = Pick<Offer, 'hostname' | 'attributes'>;

/** Checks one constraint's shape; returns what is wrong, or undefined when it is fine. */
export function constraintProblem(c: { field: string; operator: string; value?: string }): string | undefined {
  if (c.field === '') return 'the field must not be empty';
  if (c.field === '@region' || c.field === '@zone') return `field '${c.field}' is not supported (offers carry no fault domain here)`;
  if (!(CONSTRAINT_OPERATORS as readonly string[]).includes(c.operator)) {
    return `unknown operator '${c.operator}' (one of ${CONSTRAINT_OPERATORS.join(', ')})`;
  }
  const v = c.value;
  switch (c.operator as ConstraintOperator) {
    case 'UNIQUE':
      return v === undefined ? undefined : 'UNIQUE takes no value';
    case 'CLUSTER':
      return undefined;
    case 'GROUP_BY':
      return v === undefined || /^[1-9]\d*$/.test(v) ? undefined : `GROUP_BY takes a whole number of groups >= 1 or no value, got '${v}'`;
    case 'MAX_PER':
      return v !== undefined && /^[1-9]\d*$/.test(v) ? undefined : `MAX_PER needs a whole number >= 1, got ${v === undefined ? 'none' : `'${v}'`}`;
    case 'LIKE':
    case 'UNLIKE':
      if (v === undefined || v === '') return `${c.operator} needs a regular expression`;
      try {
        new RegExp(v);
        return undefined;
      } catch (err) {
        return `${c.operator}: '${v}' is not a valid regular expression (${(err as Error).message})`;
      }
    case 'IS':
      return /^[a-zA-Z0-9_/.-]*$/.test(v ?? '') ? undefined : `IS takes a text or number value (letters, digits, '_', '/', '.', '-'), got '${v ?? ''}'`;
  }
}

/** A scalar as Mesos/Marathon print it: at most 3 decimals (half-even), no trailing zeros. */
export function formatScalar(x: number): string {
  // A tie at the fourth decimal is exact only for odd multiples of 1/16; round those half to even.
  const tie = Number.isInteger(x * 16) && !Number.isInteger(x * 8);
  let text: string;
  if (tie) {
    const four = x.toFixed(4);
    const last3 = Number(four.slice(-2, -1));
    text = last3 % 2 === 0 ? four.slice(0, -1) : x.toFixed(3); // toFixed rounds a tie away from zero
  } else {
    text = x.toFixed(3);
  }
  text = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return text === '-0' ? '0' : text;
}

/** An attribute's value as text, as Marathon compares it. */
export function attributeText(a: Attribute): string | undefined {
  switch (a.type) {
    case 'SCALAR':
      return a.scalar === undefined ? undefined : formatScalar(a.scalar.value);
    case 'TEXT':
      return a.text?.value;
    case 'RANGES': {
      const ranges = [...(a.ranges?.range ?? [])].sort((x, y) => Number(x.begin) - Number(y.begin));
      return `[${ranges.map((r) => `${r.begin}-${r.end}`).join(',')}]`;
    }
    case 'SET':
      return `{${[...(a.set?.item ?? [])].sort().join(',')}}`;
    default:
      return undefined;
  }
}

function isHostnameField(field: string): boolean {
  return field === 'hostname' || field === '@hostname';
}

/** The value of a constraint's field at a place (hostname or attribute), undefined when the agent lacks it. */
export function fieldValue(field: string, place: { hostname: string; attributes?: readonly Attribute[] | undefined }): string | undefined {
  if (isHostnameField(field)) return place.hostname;
  const attribute = place.attributes?.find((a) => a.name === field);
  return attribute === undefined ? undefined : attributeText(attribute);
}

function fullMatch(text: string, pattern: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(text);
}

function countsByValue(values: readonly (string | undefined)[]): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function groupByAllows(offerValue: string, placed: readonly (string | undefined)[], groups: number | undefined, wanted: number): boolean {
  const counts = countsByValue(placed);
  const here = counts.get(offerValue);
  if (groups === undefined) {
    if (here === undefined) return true;
    return here === Math.min(...counts.values());
  }
  const perGroup = Math.floor(wanted / groups);
  const remainder = wanted % groups;
  let remainderUsed = 0;
  for (const count of counts.values()) remainderUsed += Math.max(0, count - perGroup);
  if (here === undefined) return counts.size < groups;
  return here < perGroup || (here === perGroup && remainder - remainderUsed > 0);
}

/**
 * Whether one more task may be placed on the offer's agent under one
 * constraint. `wanted` is how many tasks the job places in all (its round's
 * size; GROUP_BY with a count spreads that many).
 */
export function meetsConstraint(c: Constraint, offer: OfferPlace, placed: readonly Placement[], wanted: number): boolean {
  const offerValue = fieldValue(c.field, offer);
  if (offerValue === undefined) return c.operator === 'UNLIKE';
  const placedValues = (): (string | undefined)[] => placed.map((p) => fieldValue(c.field, p));
  const value = c.value ?? '';
  switch (c.operator) {
    case 'LIKE':
      return value !== '' && fullMatch(offerValue, value);
    case 'UNLIKE':
      return value !== '' && !fullMatch(offerValue, value);
    case 'UNIQUE':
      return placedValues().every((v) => v !== offerValue);
    case 'CLUSTER':
      if (value !== '') return offerValue === value;
      return placed.length === 0 || placedValues()[0] === offerValue;
    case 'GROUP_BY':
      return groupByAllows(offerValue, placedValues(), c.value === undefined || c.value === '' ? undefined : Number(c.value), wanted);
    case 'MAX_PER':
      return (countsByValue(placedValues()).get(offerValue) ?? 0) < Number(value);
    case 'IS':
      return offerValue === (/^[0-9]+(?:\.[0-9]+)?$/.test(value) ? formatScalar(Number(value)) : value);
  }
}

/** Whether one more task may go on the offer's agent under every constraint. */
export function meetsConstraints(constraints: readonly Constraint[], offer: OfferPlace, placed: readonly Placement[], wanted: number): boolean {
  return constraints.every((c) => meetsConstraint(c, offer, placed, wanted));
}

/**
 * How many of `count` tasks may go on one offer, placing them one by one
 * (each placed task counts for the next, as UNIQUE and MAX_PER need).
 */
export function tasksAllowedOn(constraints: readonly Constraint[], offer: OfferPlace, placed: readonly Placement[], wanted: number, count: number): number {
  if (constraints.length === 0) return count;
  const here: Placement = { hostname: offer.hostname, ...(offer.attributes ? { attributes: offer.attributes } : {}) };
  const sofar = [...placed];
  let n = 0;
  while (n < count && meetsConstraints(constraints, offer, sofar, wanted)) {
    sofar.push(here);
    n++;
  }
  return n;
}
