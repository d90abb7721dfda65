import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareOffers, turnOrder, type Demand } from '../../machines/policy/priority.js';

/** An offer event with room for `slots` tasks of any job. */
function room(slots: number): { tryPlace: (job: string) => boolean; order: string[] } {
  let left = slots;
  const order: string[] = [];
  return {
    order,
    tryPlace(job) {
      if (left === 0) return false;
      left--;
      order.push(job);
      return true;
    },
  };
}

test('two equal jobs that together want more than the event holds both launch from it', () => {
  const demands: Demand[] = [{ job: 'a', priority: 0, wanted: 3 }, { job: 'b', priority: 0, wanted: 3 }];
  const event = room(4);
  const share = shareOffers(demands, 0, event.tryPlace);
  assert.deepEqual(share.placed, { a: 2, b: 2 });
  assert.deepEqual(event.order, ['a', 'b', 'a', 'b']);
});

test('higher priority is served first; lower gets what is left', () => {
  const demands: Demand[] = [{ job: 'low', priority: 1, wanted: 5 }, { job: 'high', priority: 10, wanted: 3 }];
  const event = room(4);
  assert.deepEqual(shareOffers(demands, 0, event.tryPlace).placed, { high: 3, low: 1 });
  assert.deepEqual(event.order, ['high', 'high', 'high', 'low']);
});

test('with room for one task per event, equal jobs alternate: none starves', () => {
  const demands: Demand[] = [{ job: 'a', priority: 0, wanted: 9 }, { job: 'b', priority: 0, wanted: 9 }, { job: 'c', priority: 0, wanted: 9 }];
  let rotation = 0;
  const served: string[] = [];
  for (let i = 0; i < 6; i++) {
    const event = room(1);
    rotation = shareOffers(demands, rotation, event.tryPlace).rotation;
    served.push(...event.order);
  }
  assert.deepEqual(served, ['a', 'b', 'c', 'a', 'b', 'c']);
});

test('a job whose task does not fit is skipped and the others go on', () => {
  const demands: Demand[] = [{ job: 'big', priority: 5, wanted: 2 }, { job: 'small', priority: 5, wanted: 2 }];
  const order: string[] = [];
  const share = shareOffers(demands, 0, (job) => {
    if (job === 'big') return false;
    order.push(job);
    return true;
  });
  assert.deepEqual(share.placed, { small: 2 });
  assert.deepEqual(order, ['small', 'small']);
});

test('jobs that want nothing are left out; a demand is never exceeded', () => {
  const demands: Demand[] = [{ job: 'idle', priority: 9, wanted: 0 }, { job: 'one', priority: 0, wanted: 1 }];
  assert.deepEqual(shareOffers(demands, 0, room(10).tryPlace).placed, { one: 1 });
  assert.deepEqual(turnOrder(demands, 0).map((tier) => tier.map((d) => d.job)), [['one']]);
});

test('turn order: tiers by priority, names within a tier, turned by the rotation', () => {
  const demands: Demand[] = [
    { job: 'c', priority: 0, wanted: 1 }, { job: 'a', priority: 0, wanted: 1 }, { job: 'b', priority: 0, wanted: 1 }, { job: 'z', priority: 3, wanted: 1 },
  ];
  assert.deepEqual(turnOrder(demands, 0).map((t) => t.map((d) => d.job)), [['z'], ['a', 'b', 'c']]);
  assert.deepEqual(turnOrder(demands, 1).map((t) => t.map((d) => d.job)), [['z'], ['b', 'c', 'a']]);
  assert.deepEqual(turnOrder(demands, 5).map((t) => t.map((d) => d.job)), [['z'], ['c', 'a', 'b']]);
});
