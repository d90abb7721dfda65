/**
 * The real CLI with --http-port and --inspect: the status endpoint answers
 * while the job runs (health follows the subscription, /state and /metrics
 * show the round), and the inspector relay hands the live actors to a
 * WebSocket client, as the Stately inspector page would receive them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { request } from 'undici';
import WebSocket from 'ws';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, freePort, runCli } from './cli-harness.js';

before(() => ensureBuilt());

async function get(url: string): Promise<{ status: number; text: string; type: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text(), type: String(res.headers['content-type'] ?? '') };
}

describe('CLI observability flags', () => {
  it('--http-port serves /health, /state and /metrics of the running job', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 1', '--maxtasks', '2', '--wait', '2', '--rounds', '2', '--http-port', '0']);
    const line = await cli.waitFor((l) => typeof l.status === 'string', 'the status endpoint line');
    const base = String(line.status);
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback by default');

    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');
    const health = await get(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.text).subscribed, true);

    const state = JSON.parse((await get(`${base}/state`)).text) as {
      framework: { id: string; subscribed: boolean }; job: { round: number; phase: string }; tasks: { taskId: string; state: string }[]; machines: unknown;
    };
    assert.equal(state.framework.id, cluster.frameworks()[0]!.id);
    assert.ok(state.job.round >= 1);
    assert.ok(state.tasks.length === 2 && state.tasks.every((x) => /-r\d+-t\d-/.test(x.taskId)));
    assert.ok(state.machines && typeof state.machines === 'object', '/state shows the machines');

    const metrics = await get(`${base}/metrics`);
    assert.match(metrics.type, /^text\/plain/);
    const launchedTotal = /^mesos_scheduler_tasks_launched_total\{job="[^"]+"\} (\d+)$/m.exec(metrics.text);
    assert.ok(launchedTotal && Number(launchedTotal[1]) >= 2, metrics.text.slice(0, 500));
    assert.match(metrics.text, /^mesos_scheduler_offer_hold_seconds_count\{[^}]*\} \d+$/m);

    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
  });

  it('--inspect relays the live framework and job actors, and the tasks as task actors, to a WebSocket client', async (t) => {
    const cluster = await withCluster(t);
    const port = await freePort();
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 1', '--maxtasks', '1', '--wait', '3', '--rounds', '2', '--inspect', String(port)]);
    const line = await cli.waitFor((l) => typeof l.inspector === 'string', 'the inspector line');
    assert.equal(line.inspector, `http://127.0.0.1:${port}`);

    const page = await get(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<iframe/);

    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    t.after(() => ws.close());
    const seen: { type: string; name?: string; definition?: string }[] = [];
    ws.on('message', (data) => { seen.push(JSON.parse(String(data)) as { type: string }); });
    const machineIds = (): Set<string> => new Set(seen.filter((m) => m.type === '@xstate.actor' && m.definition)
      .map((m) => (JSON.parse(m.definition!) as { id?: string }).id ?? ''));
    await cli.waitFor((l) => /^round 2: launching/.test(String(l.msg)), 'round 2');
    await cli.waitFor((l) => /in state TASK_RUNNING$/.test(String(l.msg)) && /-r2-/.test(String(l.msg)), 'a task of round 2 running');
    const ids = machineIds();
    for (const id of ['framework', 'job', 'task']) assert.ok(ids.has(id), `inspector saw the ${id} actor (saw ${[...ids].join(', ')})`);
    assert.ok(seen.some((m) => m.type === '@xstate.snapshot'), 'snapshots arrive');
    assert.ok(seen.some((m) => m.type === '@xstate.event'), 'events arrive');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
  });
});
