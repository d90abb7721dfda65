/**
 * The dashboard as the scheduler serves it (the browser test drives the page
 * itself): its files come from the package without a token and say, in their
 * Content-Security-Policy, that nothing is loaded from elsewhere; the live
 * stream needs the token when there is one and starts with the active states
 * of the framework and job charts, state ids that name nodes of the charts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';

before(() => ensureBuilt());

const root = join(import.meta.dirname, '../..');

/** The first event of an SSE stream: its name and data. */
async function firstEvent(res: Response): Promise<{ event: string; data: any }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream stays open');
    buffer += value;
    const end = buffer.indexOf('\n\n', buffer.indexOf('data: '));
    if (end < 0) continue;
    const block = buffer.slice(0, end);
    await reader.cancel();
    return { event: /^event: (.*)$/m.exec(block)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) };
  }
}

describe('dashboard server', () => {
  it('serves the page from the package without a token; the live stream needs it and starts with the active states', async (t) => {
    const scratch = mkdtempSync(join(tmpdir(), 'dash-'));
    writeFileSync(join(scratch, 'token'), 'secret-dash-token\n');
    const cli = runCli(t, ['--master', 'local', '--name', 'etl', '--cmd', 'sleep 1', '--maxtasks', '1', '--wait', '30', '--rounds', '2',
      '--http-port', '0', '--http-token-file', join(scratch, 'token')]);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    await cli.waitFor((l) => /^round 1 done/.test(String(l.msg)), 'round 1 done');

    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const text = await page.text();
    for (const asset of text.match(/(?:src|href)="(assets\/[^"]+)"/g)!.map((m) => m.split('"')[1]!)) {
      const res = await fetch(`${base}/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.doesNotMatch(await res.text(), /https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\//i, `${asset} names no other origin to load from`);
    }
    const chart = await fetch(`${base}/assets/charts/job.svg`);
    assert.equal(chart.status, 200);
    assert.equal(await chart.text(), readFileSync(join(root, 'visualizations/job.svg'), 'utf8'), 'the charts generated from the machines');
    assert.equal((await fetch(`${base}/assets/../../package.json`)).status, 404);

    assert.equal((await fetch(`${base}/api/events`)).status, 401, 'the live stream needs the token');
    const live = await fetch(`${base}/api/events`, { headers: { authorization: 'Bearer secret-dash-token' } });
    assert.equal(live.status, 200);
    assert.match(live.headers.get('content-type') ?? '', /^text\/event-stream/);
    const hello = await firstEvent(live);
    assert.equal(hello.event, 'hello');
    assert.ok(hello.data.framework.includes('framework.operating.connection.session.subscribed'), JSON.stringify(hello.data));
    assert.ok(hello.data.job.includes('job.active.phase.cooldown'), JSON.stringify(hello.data));
    const svg = readFileSync(join(root, 'visualizations/job.svg'), 'utf8');
    for (const id of hello.data.job as string[]) assert.ok(svg.includes(`<title>${id}</title>`), `${id} is a node of the job chart`);
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
});
