/**
 * The chaos run of scripts/chaos.ts in CI: a fixed seed (printed), about a
 * minute of short rounds of the real CLI against a 3-master emulator while
 * leader changes, dropped connections, 503 periods, stalled streams, offer
 * rescinds, agent losses and scheduler SIGKILL + restart hit it; at the end
 * every count must reconcile exactly (see the script's header).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChaos } from '../../scripts/chaos.js';

const SEED = 20261125;
const DURATION_SECONDS = 50;

describe('chaos run', () => {
  it(`many short rounds under random faults reconcile exactly (seed ${SEED}, ${DURATION_SECONDS}s)`, async (t) => {
    const lines: string[] = [];
    const result = await runChaos({
      seed: SEED, durationSeconds: DURATION_SECONDS, maxTasks: 3, taskMs: 600, waitSeconds: 1, faultEveryMs: 1500, verbose: false,
      log: (line) => { lines.push(line); t.diagnostic(line); },
    });
    assert.match(lines[0] ?? '', new RegExp(`seed ${SEED}`), 'the seed is printed first');
    assert.deepEqual(result.violations, [], lines.join('\n'));
    assert.ok(result.ok);
    assert.equal(result.frameworkIds.length, 1, 'one framework id throughout');
    assert.ok(result.rounds >= 3, `${result.rounds} rounds`);
    assert.ok(result.restarts >= 1, 'the scheduler was killed and restarted at least once');
    assert.ok(Object.keys(result.faults).length >= 4, `several kinds of faults: ${JSON.stringify(result.faults)}`);
    assert.equal(result.launched, result.finished + result.failed);
  });
});
