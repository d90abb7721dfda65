/** The real CLI and SIGTERM: a graceful drain within --grace, and a second signal that stops at once. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { withCluster } from '../helpers/emulator.js';
import { ensureBuilt, runCli } from './cli-harness.js';

before(() => ensureBuilt());

const running = (l: { msg?: unknown }) => /in state TASK_RUNNING$/.test(String(l.msg));

describe('CLI stop signals', () => {
  it('lets a running task finish within the grace period, launches nothing more, and exits 0', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 1', '--maxtasks', '1', '--rounds', '0', '--wait', '0', '--grace', '30']);
    await cli.waitFor(running, 'a running task');
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.messages().join('\n'));
    assert.ok(cli.messages().some((m) => m.startsWith('received SIGTERM')));
    assert.equal(cluster.received.filter((r) => r.call.type === 'KILL').length, 0);
    assert.deepEqual(cluster.tasks().map((x) => x.state), ['TASK_FINISHED']);
    assert.equal(cluster.received.filter((r) => r.call.type === 'TEARDOWN').length, 1);
  });

  it('kills tasks still running when the grace period ends', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 60', '--maxtasks', '1', '--rounds', '1', '--grace', '1']);
    await cli.waitFor(running, 'a running task');
    const signalledAt = Date.now();
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.notEqual(code, 0);
    const kills = cluster.received.filter((r) => r.call.type === 'KILL');
    assert.equal(kills.length >= 1, true, cli.messages().join('\n'));
    assert.ok(kills[0]!.at - signalledAt >= 1000, 'the kill waited for the grace period');
    assert.equal(kills[0]!.call.kill!.task_id.value, cluster.tasks()[0]!.taskId);
    assert.ok(['TASK_KILLED', 'TASK_KILLING'].includes(cluster.tasks()[0]!.state));
  });

  it('stops at once on a second signal', async (t) => {
    const cluster = await withCluster(t);
    const cli = runCli(t, ['--master', cluster.masters[0]!.hostPort, '--cmd', 'sleep 60', '--maxtasks', '1', '--rounds', '1', '--grace', '600']);
    await cli.waitFor(running, 'a running task');
    cli.child.kill('SIGTERM');
    await cli.waitFor((l) => String(l.msg).startsWith('received SIGTERM'), 'the first signal logged');
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 130, cli.messages().join('\n'));
    assert.ok(cli.messages().some((m) => m.startsWith('received SIGTERM again')));
    assert.ok(cluster.received.some((r) => r.call.type === 'KILL'));
  });
});
