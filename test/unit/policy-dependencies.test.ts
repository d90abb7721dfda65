import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childrenOf, consume, findCycles, isReady, unknownParents, type JobNode } from '../../machines/policy/dependencies.js';

const graph = (spec: Record<string, string[]>): JobNode[] => Object.entries(spec).map(([name, after]) => ({ name, after }));

test('unknown parents are listed with the job that names them', () => {
  assert.deepEqual(unknownParents(graph({ a: [], b: ['a', 'x'], c: ['y'] })), [['b', 'x'], ['c', 'y']]);
  assert.deepEqual(unknownParents(graph({ a: [], b: ['a'] })), []);
});

test('a graph without cycles has none, diamonds included', () => {
  assert.deepEqual(findCycles(graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] })), []);
});

test('a cycle is reported once, in run order, naming every job in it', () => {
  // a after c, b after a, c after b: c would run before a, a before b, b before c.
  const spec = { a: ['c'], b: ['a'], c: ['b'], d: ['a'] };
  const cycles = findCycles(graph(spec));
  assert.equal(cycles.length, 1);
  const cycle = cycles[0]!;
  assert.equal(cycle.length, 4);
  assert.equal(cycle[0], cycle[3], 'it ends where it starts');
  assert.deepEqual([...cycle.slice(0, 3)].sort(), ['a', 'b', 'c']);
  for (let i = 0; i + 1 < cycle.length; i++) {
    assert.ok(spec[cycle[i + 1] as keyof typeof spec].includes(cycle[i]!), `${cycle[i + 1]} is after ${cycle[i]}`);
  }
});

test('a two-job cycle and a job after itself', () => {
  assert.deepEqual(findCycles(graph({ x: ['y'], y: ['x'] })), [['y', 'x', 'y']]);
  assert.deepEqual(findCycles(graph({ self: ['self'] })), [['self', 'self']]);
});

test('two separate cycles are both reported', () => {
  const cycles = findCycles(graph({ a: ['b'], b: ['a'], c: ['d'], d: ['c'], e: [] }));
  assert.equal(cycles.length, 2);
  assert.deepEqual(cycles.map((c) => [...new Set(c)].sort()), [['a', 'b'], ['c', 'd']]);
});

test('unknown parents do not make cycles', () => {
  assert.deepEqual(findCycles(graph({ a: ['ghost'] })), []);
});

test("Chronos's rule: a child runs when every parent has succeeded since the child's last round", () => {
  const parents = ['extract', 'fetch'];
  let consumed = consume(parents, {});
  assert.deepEqual(consumed, { extract: 0, fetch: 0 });
  assert.equal(isReady(parents, {}, consumed), false);
  assert.equal(isReady(parents, { extract: 1 }, consumed), false, 'one parent is not enough');
  assert.equal(isReady(parents, { extract: 1, fetch: 1 }, consumed), true);

  // The child starts: it consumes the parents' counts.
  consumed = consume(parents, { extract: 1, fetch: 1 });
  assert.equal(isReady(parents, { extract: 1, fetch: 1 }, consumed), false, 'one round per parents\' success');
  // extract succeeds twice more, fetch once: one more round of the child, not two.
  assert.equal(isReady(parents, { extract: 3, fetch: 1 }, consumed), false);
  assert.equal(isReady(parents, { extract: 3, fetch: 2 }, consumed), true);
  consumed = consume(parents, { extract: 3, fetch: 2 });
  assert.equal(isReady(parents, { extract: 3, fetch: 2 }, consumed), false);
});

test('a job without parents is never held back', () => {
  assert.equal(isReady([], {}, {}), true);
});

test('childrenOf lists the jobs after a parent', () => {
  assert.deepEqual(childrenOf(graph({ a: [], b: ['a'], c: ['a', 'b'], d: [] }), 'a'), ['b', 'c']);
});
