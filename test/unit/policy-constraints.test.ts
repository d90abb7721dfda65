import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attributeText, constraintProblem, formatScalar, meetsConstraint, meetsConstraints, tasksAllowedOn,
  type Constraint, type OfferPlace, type Placement,
} from '../../machines/policy/constraints.js';
import type { Attribute } from '../../src/mesos/types.js';

const text = (name: string, value: string): Attribute => ({ name, type: 'TEXT', text: { value } });
const scalar = (name: string, value: number): Attribute => ({ name, type: 'SCALAR', scalar: { value } });

/** `host` with attributes written `rack:r1;gpu:2` (numbers become scalars, as Mesos reads agent attributes). */
function place(host: string, attrs = ''): OfferPlace & Placement {
  const attributes = attrs === '' ? [] : attrs.split(';').map((kv) => {
    const [k, v] = kv.split(':') as [string, string];
    return /^\d+(\.\d+)?$/.test(v) ? scalar(k, Number(v)) : text(k, v);
  });
  return { hostname: host, attributes };
}

const c = (field: string, operator: Constraint['operator'], value?: string): Constraint => ({ field, operator, ...(value !== undefined ? { value } : {}) });

interface Case { name: string; constraint: Constraint; offer: OfferPlace; placed?: Placement[]; wanted?: number; meets: boolean }

const cases: Case[] = [
  // UNIQUE
  { name: 'UNIQUE hostname: first task anywhere', constraint: c('hostname', 'UNIQUE'), offer: place('h1'), meets: true },
  { name: 'UNIQUE hostname: a new host', constraint: c('hostname', 'UNIQUE'), offer: place('h4'), placed: [place('h1'), place('h2')], meets: true },
  { name: 'UNIQUE hostname: a host with a task', constraint: c('hostname', 'UNIQUE'), offer: place('h2'), placed: [place('h1'), place('h2')], meets: false },
  { name: 'UNIQUE attribute: a new rack', constraint: c('rack', 'UNIQUE'), offer: place('h3', 'rack:r3'), placed: [place('h1', 'rack:r1')], meets: true },
  { name: 'UNIQUE attribute: a used rack on another host', constraint: c('rack', 'UNIQUE'), offer: place('h3', 'rack:r1'), placed: [place('h1', 'rack:r1')], meets: false },
  { name: 'UNIQUE attribute: a task placed without the attribute does not count', constraint: c('rack', 'UNIQUE'), offer: place('h3', 'rack:r1'), placed: [place('h1')], meets: true },
  { name: 'UNIQUE attribute: an agent without the attribute', constraint: c('rack', 'UNIQUE'), offer: place('h3'), meets: false },
  { name: '@hostname is hostname', constraint: c('@hostname', 'UNIQUE'), offer: place('h1'), placed: [place('h1')], meets: false },
  // CLUSTER
  { name: 'CLUSTER hostname with a value: that host', constraint: c('hostname', 'CLUSTER', 'right.com'), offer: place('right.com'), meets: true },
  { name: 'CLUSTER hostname with a value: another host', constraint: c('hostname', 'CLUSTER', 'right.com'), offer: place('wrong.com'), meets: false },
  { name: 'CLUSTER hostname alone: the first task anywhere', constraint: c('hostname', 'CLUSTER'), offer: place('any'), meets: true },
  { name: 'CLUSTER hostname alone: the others with the first', constraint: c('hostname', 'CLUSTER'), offer: place('h1'), placed: [place('h1')], meets: true },
  { name: 'CLUSTER hostname alone: not elsewhere', constraint: c('hostname', 'CLUSTER'), offer: place('h2'), placed: [place('h1')], meets: false },
  { name: 'CLUSTER attribute with a value', constraint: c('rack', 'CLUSTER', 'rack-1'), offer: place('h', 'rack:rack-1'), meets: true },
  { name: 'CLUSTER attribute with another value', constraint: c('rack', 'CLUSTER', 'rack-1'), offer: place('h', 'rack:rack-2'), meets: false },
  { name: 'CLUSTER attribute alone follows the first task', constraint: c('rack', 'CLUSTER'), offer: place('h9', 'rack:r2'), placed: [place('h1', 'rack:r2')], meets: true },
  { name: 'CLUSTER attribute: an agent without it', constraint: c('rack', 'CLUSTER', 'rack-1'), offer: place('h'), meets: false },
  // GROUP_BY with a count (Marathon's even spread of `wanted` tasks over n values)
  { name: 'GROUP_BY 2: the first placement', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r1'), wanted: 5, meets: true },
  { name: 'GROUP_BY 2: a second value', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r2'), placed: [place('a', 'rack:r1')], wanted: 5, meets: true },
  { name: 'GROUP_BY 2: no third value', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r3'), placed: [place('a', 'rack:r1'), place('b', 'rack:r2')], wanted: 5, meets: false },
  { name: 'GROUP_BY 2 of 5: a value up to its share', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r1'), placed: [place('a', 'rack:r1')], wanted: 5, meets: true },
  { name: 'GROUP_BY 2 of 5: the remainder task', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r1'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1')], wanted: 5, meets: true },
  { name: 'GROUP_BY 2 of 5: not two remainders on one value', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r1'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1'), place('c', 'rack:r1')], wanted: 5, meets: false },
  { name: 'GROUP_BY 2 of 5: the remainder is used up elsewhere', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h', 'rack:r2'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1'), place('c', 'rack:r1'), place('d', 'rack:r2'), place('e', 'rack:r2')], wanted: 5, meets: false },
  { name: 'GROUP_BY 4 of 5: one remainder in all', constraint: c('rack', 'GROUP_BY', '4'), offer: place('h', 'rack:r2'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1'), place('c', 'rack:r2')], wanted: 5, meets: false },
  { name: 'GROUP_BY hostname 3', constraint: c('hostname', 'GROUP_BY', '3'), offer: place('host-3'), placed: [place('host-1'), place('host-2')], wanted: 5, meets: true },
  { name: 'GROUP_BY: an agent without the attribute', constraint: c('rack', 'GROUP_BY', '2'), offer: place('h'), wanted: 5, meets: false },
  // GROUP_BY without a count: a new value, or a value with the fewest tasks
  { name: 'GROUP_BY alone: a new value', constraint: c('rack', 'GROUP_BY'), offer: place('h', 'rack:r3'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1')], meets: true },
  { name: 'GROUP_BY alone: the smallest group', constraint: c('rack', 'GROUP_BY'), offer: place('h', 'rack:r2'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1'), place('c', 'rack:r2')], meets: true },
  { name: 'GROUP_BY alone: not a bigger group', constraint: c('rack', 'GROUP_BY'), offer: place('h', 'rack:r1'), placed: [place('a', 'rack:r1'), place('b', 'rack:r1'), place('c', 'rack:r2')], meets: false },
  // MAX_PER
  { name: 'MAX_PER 2 hostname: a fresh host', constraint: c('hostname', 'MAX_PER', '2'), offer: place('h1'), meets: true },
  { name: 'MAX_PER 2 hostname: one task there', constraint: c('hostname', 'MAX_PER', '2'), offer: place('h1'), placed: [place('h1')], meets: true },
  { name: 'MAX_PER 2 hostname: two tasks there', constraint: c('hostname', 'MAX_PER', '2'), offer: place('h1'), placed: [place('h1'), place('h1'), place('h2')], meets: false },
  { name: 'MAX_PER 2 rack: another rack', constraint: c('rack', 'MAX_PER', '2'), offer: place('x', 'rack:2'), placed: [place('a', 'rack:1'), place('b', 'rack:1')], meets: true },
  { name: 'MAX_PER 2 rack: a full rack', constraint: c('rack', 'MAX_PER', '2'), offer: place('x', 'rack:1'), placed: [place('a', 'rack:1'), place('b', 'rack:1')], meets: false },
  // LIKE / UNLIKE: the whole value must match
  { name: 'LIKE: a full match', constraint: c('zone', 'LIKE', 'eu-.*'), offer: place('h', 'zone:eu-west'), meets: true },
  { name: 'LIKE: a partial match is no match', constraint: c('zone', 'LIKE', 'eu'), offer: place('h', 'zone:eu-west'), meets: false },
  { name: 'LIKE: alternatives', constraint: c('rack', 'LIKE', 'rack-[1-3]|spare'), offer: place('h', 'rack:spare'), meets: true },
  { name: 'LIKE: no match', constraint: c('zone', 'LIKE', 'eu-.*'), offer: place('h', 'zone:us-east'), meets: false },
  { name: 'LIKE hostname', constraint: c('hostname', 'LIKE', 'worker-\\d+'), offer: place('worker-12'), meets: true },
  { name: 'LIKE: an agent without the attribute', constraint: c('zone', 'LIKE', '.*'), offer: place('h'), meets: false },
  { name: 'UNLIKE: a match is refused', constraint: c('rack', 'UNLIKE', 'rack-[7-9]'), offer: place('h', 'rack:rack-8'), meets: false },
  { name: 'UNLIKE: a partial match is accepted', constraint: c('rack', 'UNLIKE', 'rack-[7-9]'), offer: place('h', 'rack:rack-80'), meets: true },
  { name: 'UNLIKE: an agent without the attribute is accepted', constraint: c('rack', 'UNLIKE', 'rack-[7-9]'), offer: place('h'), meets: true },
  // IS
  { name: 'IS text', constraint: c('os', 'IS', 'linux'), offer: place('h', 'os:linux'), meets: true },
  { name: 'IS text, other value', constraint: c('os', 'IS', 'linux'), offer: place('h', 'os:windows'), meets: false },
  { name: 'IS: a scalar compares formatted (2.0 is 2)', constraint: c('gpus', 'IS', '2.0'), offer: place('h', 'gpus:2'), meets: true },
  { name: 'IS: a scalar value', constraint: c('mem', 'IS', '1.5'), offer: { hostname: 'h', attributes: [scalar('mem', 1.5)] }, meets: true },
  { name: 'IS: an agent without the attribute', constraint: c('os', 'IS', 'linux'), offer: place('h'), meets: false },
];

for (const k of cases) {
  test(`meetsConstraint: ${k.name}`, () => {
    assert.equal(meetsConstraint(k.constraint, k.offer, k.placed ?? [], k.wanted ?? 1), k.meets);
  });
}

test('attribute values are compared as Marathon formats them', () => {
  assert.equal(attributeText(text('a', 'x')), 'x');
  assert.equal(attributeText(scalar('a', 2)), '2');
  assert.equal(attributeText(scalar('a', 1.50)), '1.5');
  assert.equal(attributeText({ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }, { begin: 100, end: 200 }] } }), '[100-200,31000-32000]');
  assert.equal(attributeText({ name: 's', type: 'SET', set: { item: ['c', 'a', 'b'] } }), '{a,b,c}');
  // A range and a set match LIKE on their formatted text.
  assert.equal(meetsConstraint(c('p', 'LIKE', '\\[100-200\\]'), { hostname: 'h', attributes: [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 100, end: 200 }] } }] }, [], 1), true);
  assert.equal(meetsConstraint(c('s', 'CLUSTER', '{0,1}'), { hostname: 'h', attributes: [{ name: 's', type: 'SET', set: { item: ['1', '0'] } }] }, [], 1), true);
});

test('scalars print with at most three decimals, half to even, no trailing zeros', () => {
  const table: [number, string][] = [
    [2, '2'], [2.5, '2.5'], [0.1, '0.1'], [1.23456, '1.235'], [1.0005, '1'], [1.00051, '1.001'],
    [0.0625, '0.062'], [0.1875, '0.188'], [3.0000001, '3'], [-1.5, '-1.5'], [1000000, '1000000'],
  ];
  for (const [x, want] of table) assert.equal(formatScalar(x), want, String(x));
});

test('all constraints must hold', () => {
  const both = [c('hostname', 'UNIQUE'), c('zone', 'LIKE', 'eu-.*')];
  assert.equal(meetsConstraints(both, place('h1', 'zone:eu-1'), [], 2), true);
  assert.equal(meetsConstraints(both, place('h1', 'zone:us-1'), [], 2), false);
  assert.equal(meetsConstraints(both, place('h1', 'zone:eu-1'), [place('h1', 'zone:eu-1')], 2), false);
  assert.equal(meetsConstraints([], place('h1'), [place('h1')], 2), true);
});

test('tasksAllowedOn places tasks one by one: UNIQUE allows one per agent, MAX_PER n', () => {
  assert.equal(tasksAllowedOn([c('hostname', 'UNIQUE')], place('h1'), [], 5, 4), 1);
  assert.equal(tasksAllowedOn([c('hostname', 'UNIQUE')], place('h1'), [place('h1')], 5, 4), 0);
  assert.equal(tasksAllowedOn([c('hostname', 'MAX_PER', '3')], place('h1'), [place('h1')], 5, 4), 2);
  assert.equal(tasksAllowedOn([], place('h1'), [], 5, 4), 4);
  assert.equal(tasksAllowedOn([c('rack', 'GROUP_BY', '2')], place('h1', 'rack:r1'), [], 4, 4), 2);
});

test('constraint shapes are checked as Marathon checks them', () => {
  const ok = (field: string, operator: string, value?: string): string | undefined => constraintProblem({ field, operator, ...(value !== undefined ? { value } : {}) });
  assert.equal(ok('hostname', 'UNIQUE'), undefined);
  assert.match(ok('hostname', 'UNIQUE', 'x')!, /UNIQUE takes no value/);
  assert.equal(ok('rack', 'CLUSTER'), undefined);
  assert.equal(ok('rack', 'CLUSTER', 'r1'), undefined);
  assert.equal(ok('rack', 'GROUP_BY'), undefined);
  assert.equal(ok('rack', 'GROUP_BY', '3'), undefined);
  assert.match(ok('rack', 'GROUP_BY', 'three')!, /GROUP_BY takes a whole number/);
  assert.match(ok('rack', 'GROUP_BY', '0')!, /GROUP_BY/);
  assert.match(ok('rack', 'MAX_PER')!, /MAX_PER needs a whole number/);
  assert.match(ok('rack', 'MAX_PER', '1.5')!, /MAX_PER needs a whole number/);
  assert.equal(ok('rack', 'MAX_PER', '2'), undefined);
  assert.match(ok('zone', 'LIKE')!, /LIKE needs a regular expression/);
  assert.match(ok('zone', 'UNLIKE', '')!, /UNLIKE needs a regular expression/);
  assert.match(ok('zone', 'LIKE', '([a-z')!, /not a valid regular expression/);
  assert.equal(ok('zone', 'LIKE', 'eu-.*'), undefined);
  assert.equal(ok('os', 'IS', 'linux'), undefined);
  assert.match(ok('os', 'IS', 'a b')!, /IS takes a text or number value/);
  assert.match(ok('rack', 'NEAR')!, /unknown operator 'NEAR'/);
  assert.match(ok('', 'UNIQUE')!, /field must not be empty/);
  assert.match(ok('@zone', 'UNIQUE')!, /not supported/);
});
