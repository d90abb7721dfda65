import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carveTasks, offeredMilli, planOffers, plannedTaskCount, tasksFitting, toMilli } from '../../machines/policy/offer-plan.js';
import type { Offer, Resource } from '../../src/mesos/types.js';

function offer(id: string, resources: Resource[], agent = 'a1'): Offer {
  return { id: { value: id }, framework_id: { value: 'fw' }, agent_id: { value: agent }, hostname: 'h', resources };
}
const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...extra });

test('milli-unit rounding makes 0.1 + 0.2 cpus exactly 0.3', () => {
  assert.equal(toMilli(0.1) + toMilli(0.2), toMilli(0.3));
  const o = offer('o', [scalar('cpus', 0.1), scalar('cpus', 0.2), scalar('mem', 100)]);
  assert.equal(tasksFitting(o, { cpus: 0.3, memMb: 100 }), 1);
  assert.equal(tasksFitting(o, { cpus: 0.1, memMb: 10 }), 3);
});

test('tasks fitting is the minimum over cpus and mem', () => {
  const o = offer('o', [scalar('cpus', 4), scalar('mem', 1000)]);
  assert.equal(tasksFitting(o, { cpus: 1, memMb: 300 }), 3);
  assert.equal(tasksFitting(o, { cpus: 1.5, memMb: 100 }), 2);
  assert.equal(tasksFitting(offer('o', [scalar('cpus', 4)]), { cpus: 1, memMb: 1 }), 0);
});

test('fractional cpus: 2.4 cpus hold three 0.8-cpu tasks, not two', () => {
  const o = offer('o', [scalar('cpus', 2.4), scalar('mem', 1024)]);
  assert.equal(tasksFitting(o, { cpus: 0.8, memMb: 10 }), 3);
  const tasks = carveTasks(o, { cpus: 0.8, memMb: 10 }, 3);
  assert.deepEqual(tasks.map((t) => t[0]?.scalar?.value), [0.8, 0.8, 0.8]);
});

test('revocable and non-scalar resources are not used', () => {
  const o = offer('o', [scalar('cpus', 8, { revocable: {} }), scalar('cpus', 1), scalar('mem', 512), { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }]);
  assert.equal(offeredMilli(o, 'cpus'), 1000);
  assert.equal(tasksFitting(o, { cpus: 0.5, memMb: 1 }), 2);
});

test('several tasks share one offer; the rest is declined; never more than wanted', () => {
  const offers = [offer('big', [scalar('cpus', 4), scalar('mem', 4096)]), offer('small', [scalar('cpus', 0.1), scalar('mem', 4096)]), offer('more', [scalar('cpus', 4), scalar('mem', 4096)])];
  const plan = planOffers(offers, 5, { cpus: 1, memMb: 128 });
  assert.deepEqual(plan.accept.map((u) => [u.offer.id.value, u.tasks.length]), [['big', 4], ['more', 1]]);
  assert.deepEqual(plan.decline.map((o) => o.id.value), ['small']);
  assert.equal(plannedTaskCount(plan), 5);
  const none = planOffers(offers, 0, { cpus: 1, memMb: 128 });
  assert.equal(none.accept.length, 0);
  assert.equal(none.decline.length, 3);
});

test('every offer is either accepted or declined, exactly once', () => {
  const offers = Array.from({ length: 7 }, (_, i) => offer(`o${i}`, [scalar('cpus', i * 0.5), scalar('mem', 256)]));
  for (let wanted = 0; wanted < 10; wanted++) {
    const plan = planOffers(offers, wanted, { cpus: 0.5, memMb: 64 });
    const ids = [...plan.accept.map((u) => u.offer.id.value), ...plan.decline.map((o) => o.id.value)].sort();
    assert.deepEqual(ids, offers.map((o) => o.id.value).sort());
    assert.ok(plannedTaskCount(plan) <= wanted);
  }
});

test('carved resources keep role, allocation and reservations and split across entries', () => {
  const reserved = scalar('cpus', 0.5, { role: 'etl', reservations: [{ type: 'STATIC', role: 'etl' }], allocation_info: { role: 'etl' } });
  const unreserved = scalar('cpus', 1, { role: '*', allocation_info: { role: 'etl' } });
  const o = offer('o', [reserved, unreserved, scalar('mem', 256, { allocation_info: { role: 'etl' } })]);
  const [first, second] = carveTasks(o, { cpus: 0.75, memMb: 100 }, 2);
  assert.deepEqual(first, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: 'etl', allocation_info: { role: 'etl' }, reservations: [{ type: 'STATIC', role: 'etl' }] },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.25 }, role: '*', allocation_info: { role: 'etl' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 100 }, allocation_info: { role: 'etl' } },
  ]);
  assert.deepEqual(second, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.75 }, role: '*', allocation_info: { role: 'etl' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 100 }, allocation_info: { role: 'etl' } },
  ]);
  // The offer itself is untouched.
  assert.equal(reserved.scalar?.value, 0.5);
});

test('plain resources (role *, no allocation) stay plain', () => {
  const o = offer('o', [scalar('cpus', 1), scalar('mem', 64)]);
  assert.deepEqual(carveTasks(o, { cpus: 0.1, memMb: 32 }, 1)[0], [scalar('cpus', 0.1), scalar('mem', 32)]);
});
