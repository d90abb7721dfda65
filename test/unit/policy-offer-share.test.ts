import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offerServesRole, planSharedOffers, type JobDemand, type SharedPlan } from '../../machines/policy/offer-share.js';
import { carveTasks, tasksFitting } from '../../machines/policy/offer-plan.js';
import type { Attribute, Offer, Resource } from '../../src/mesos/types.js';

const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...extra });

function offer(id: string, cpus: number, memMb: number, extra: Partial<Offer> = {}, more: Resource[] = []): Offer {
  return { id: { value: id }, framework_id: { value: 'fw' }, agent_id: { value: `agent-${id}` }, hostname: `host-${id}`, resources: [scalar('cpus', cpus), scalar('mem', memMb), ...more], ...extra };
}

function demand(job: string, wanted: number, extra: Partial<JobDemand> = {}): JobDemand {
  return { job, wanted, priority: 0, role: '*', needs: { cpus: 1, memMb: 100 }, constraints: [], placed: [], roundSize: wanted, ...extra };
}

/** Tasks per job, and per offer which jobs, in order. */
function summary(plan: SharedPlan): { perJob: Record<string, number>; perOffer: Record<string, string[]>; declined: string[] } {
  const perJob: Record<string, number> = {};
  const perOffer: Record<string, string[]> = {};
  for (const use of plan.accept) {
    perOffer[use.offer.id.value] = use.tasks.map((t) => t.job);
    for (const t of use.tasks) perJob[t.job] = (perJob[t.job] ?? 0) + 1;
  }
  return { perJob, perOffer, declined: plan.decline.map((o) => o.id.value) };
}

test('two equal jobs that together want more than the first offers hold both launch from them', () => {
  // Room for 4 one-cpu tasks in all; each job wants 3.
  const plan = planSharedOffers([offer('o1', 2, 1000), offer('o2', 2, 1000)], [demand('a', 3), demand('b', 3)], 0);
  assert.deepEqual(summary(plan), { perJob: { a: 2, b: 2 }, perOffer: { o1: ['a', 'b'], o2: ['a', 'b'] }, declined: [] });
});

test('higher priority first: the lower job gets what is left', () => {
  const plan = planSharedOffers([offer('o1', 3, 1000)], [demand('batch', 3, { priority: 0 }), demand('urgent', 2, { priority: 5 })], 0);
  assert.deepEqual(summary(plan).perJob, { urgent: 2, batch: 1 });
});

test('the rotation passes on: with room for one task per event, equal jobs alternate', () => {
  let rotation = 0;
  const served: string[] = [];
  for (let i = 0; i < 4; i++) {
    const plan = planSharedOffers([offer(`o${i}`, 1, 1000)], [demand('a', 5), demand('b', 5)], rotation);
    rotation = plan.rotation;
    served.push(...plan.accept.flatMap((u) => u.tasks.map((t) => t.job)));
  }
  assert.deepEqual(served, ['a', 'b', 'a', 'b']);
});

test('resources are carved per task and never handed out twice', () => {
  const plan = planSharedOffers([offer('o1', 2.5, 250)], [demand('a', 5, { needs: { cpus: 1, memMb: 100 } }), demand('b', 5, { needs: { cpus: 0.5, memMb: 50 } })], 0);
  const use = plan.accept[0]!;
  const total = (name: string): number => use.tasks.flatMap((t) => t.resources).filter((r) => r.name === name).reduce((n, r) => n + Math.round(r.scalar!.value * 1000), 0);
  assert.ok(total('cpus') <= 2500 && total('mem') <= 250_000, `${total('cpus')} milli-cpus, ${total('mem')} milli-MB`);
  // a (1 cpu, 100 MB), b (0.5, 50), a (1, 100) = 2.5 cpus, 250 MB: then nothing fits.
  assert.deepEqual(use.tasks.map((t) => t.job), ['a', 'b', 'a']);
  assert.deepEqual(use.tasks.map((t) => t.resources.map((r) => [r.name, r.scalar?.value])), [
    [['cpus', 1], ['mem', 100]], [['cpus', 0.5], ['mem', 50]], [['cpus', 1], ['mem', 100]],
  ]);
});

test('disk is carved when a job asks for it, and limits how many tasks fit', () => {
  const o = offer('o1', 8, 8000, {}, [scalar('disk', 2500)]);
  const needs = { cpus: 1, memMb: 100, diskMb: 1000 };
  assert.equal(tasksFitting(o, needs), 2);
  assert.deepEqual(carveTasks(o, needs, 1)[0]!.map((r) => r.name), ['cpus', 'mem', 'disk']);
  assert.equal(tasksFitting(offer('o2', 8, 8000), needs), 0, 'no disk offered');
  assert.deepEqual(carveTasks(o, { cpus: 1, memMb: 100 }, 1)[0]!.map((r) => r.name), ['cpus', 'mem'], 'no disk asked for');
  const plan = planSharedOffers([o], [demand('a', 5, { needs })], 0);
  assert.equal(plan.accept[0]!.tasks.length, 2);
});

test('constraints: UNIQUE hostname puts one task per agent; the next offer takes the next task', () => {
  const plan = planSharedOffers(
    [offer('o1', 4, 1000), offer('o2', 4, 1000), offer('o3', 4, 1000)],
    [demand('spread', 2, { constraints: [{ field: 'hostname', operator: 'UNIQUE' }] }), demand('free', 2)],
    0,
  );
  assert.deepEqual(summary(plan), { perJob: { spread: 2, free: 2 }, perOffer: { o1: ['free', 'spread', 'free'], o2: ['spread'] }, declined: ['o3'] });
});

test('constraints count the tasks already placed', () => {
  const plan = planSharedOffers(
    [offer('o1', 4, 1000), offer('o2', 4, 1000)],
    [demand('spread', 1, { constraints: [{ field: 'hostname', operator: 'UNIQUE' }], placed: [{ hostname: 'host-o1' }] })],
    0,
  );
  assert.deepEqual(summary(plan), { perJob: { spread: 1 }, perOffer: { o2: ['spread'] }, declined: ['o1'] });
});

test('an attribute constraint keeps tasks on agents that have it', () => {
  const gpu: Attribute[] = [{ name: 'gpu', type: 'TEXT', text: { value: 'yes' } }];
  const plan = planSharedOffers(
    [offer('plain', 4, 1000), offer('gpu', 4, 1000, { attributes: gpu })],
    [demand('train', 3, { constraints: [{ field: 'gpu', operator: 'IS', value: 'yes' }] })],
    0,
  );
  assert.deepEqual(summary(plan), { perJob: { train: 3 }, perOffer: { gpu: ['train', 'train', 'train'] }, declined: ['plain'] });
});

test('roles: a job uses only offers allocated to its role', () => {
  const forA = offer('oa', 4, 1000, { allocation_info: { role: 'etl' } });
  const forB = offer('ob', 4, 1000, { allocation_info: { role: 'web' } });
  assert.equal(offerServesRole(forA, 'etl'), true);
  assert.equal(offerServesRole(forA, 'web'), false);
  assert.equal(offerServesRole(offer('old', 1, 1), 'any'), true, 'an offer without allocation_info serves any role');
  const plan = planSharedOffers([forA, forB], [demand('e', 2, { role: 'etl' })], 0);
  assert.deepEqual(summary(plan), { perJob: { e: 2 }, perOffer: { oa: ['e', 'e'] }, declined: ['ob'] });
});

test('nobody wants anything: every offer is declined', () => {
  const plan = planSharedOffers([offer('o1', 4, 1000)], [demand('a', 0)], 3);
  assert.deepEqual(summary(plan), { perJob: {}, perOffer: {}, declined: ['o1'] });
  assert.equal(plan.rotation, 4);
});
