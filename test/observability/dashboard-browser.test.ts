/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core; no browser download) against the real CLI on the embedded
 * master: the page lists the job, a round appears and its tasks turn
 * finished, a failed task shows its message, "Run now" starts a round, the
 * live job chart's active state changes; every request the page makes goes to
 * the scheduler on 127.0.0.1 (any other is blocked, and none is made). It
 * takes a screenshot to a temporary file and checks it is a real PNG of the
 * page; with DASHBOARD_PICTURE=1 (`npm run picture:dashboard`) it also
 * replaces visualizations/dashboard.png, the one shown in the README. With a
 * --jobs file of two jobs, the page lists both, each with its own state, and
 * follows a SIGHUP reload that adds one and removes the other.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import { ensureBuilt, runCli } from '../integration/cli-harness.js';

before(() => ensureBuilt());

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '../..');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the screenshot starts with the PNG signature');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR', 'the first PNG chunk is IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A page in Debian's chromium that may reach only the scheduler at `base`:
 * every other request is blocked and recorded, as are script errors.
 */
async function openPage(t: TestContext, base: string) {
  const origin = new URL(base).origin;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-default-apps'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const requested: string[] = [];
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requested.push(url);
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { origin, page, requested, blocked, errors };
}

describe('dashboard in a browser', () => {
  it('shows the job, its rounds and tasks, a failed task\'s message, runs a round now, and lights the live chart', async (t) => {
    const scratch = mkdtempSync(join(tmpdir(), 'browser-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    // The first task to take the lock fails with a message; the others run a little while.
    const cmd = `if mkdir ${scratch}/lock 2>/dev/null; then echo "disk full" >&2; exit 3; fi; echo "loading batch"; sleep 2`;
    const cli = runCli(t, ['--master', 'local', '--name', 'etl', '--cmd', cmd, '--maxtasks', '3', '--wait', '600', '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const { origin, page, requested, blocked, errors } = await openPage(t, base);

    await page.goto(`${base}/`);
    await page.locator('[data-job="etl"]').waitFor();

    // Round 1 appears in the history, and its tasks turn finished (two of three; the first fails).
    await page.locator('[data-section="history"] tr[data-run="1"]').waitFor({ timeout: 60_000 });
    await page.locator('tr[data-task][data-state="TASK_FINISHED"]').nth(1).waitFor({ timeout: 60_000 });
    await page.locator('[data-job="etl"] .badge.s-cooldown').waitFor();

    // The failed task, with its message, and its stderr served by the scheduler.
    await page.locator('button[data-filter="failed"]').click();
    const failed = page.locator('tr[data-task][data-state="TASK_FAILED"]');
    await failed.waitFor();
    assert.match(await failed.locator('td.message').innerText(), /exited with status 3/);
    const stderrHref = await failed.locator('a', { hasText: 'stderr' }).getAttribute('href');
    assert.equal(await page.evaluate(async (href) => (await fetch(href!)).text(), stderrHref), 'disk full\n');
    await page.locator('tr[data-run="1"]').click();
    assert.match(await page.locator('[data-run-detail="1"]').innerText(), /TASK_FAILED[\s\S]*exited with status 3/);

    // The live job chart: cooldown is lit; "Run now" starts round 2 and the lit state moves to the round.
    const lit = (chart: string) => page.locator(`[data-chart="${chart}"] g.node.active > title`).allTextContents();
    /** Waits until the chart's lit states satisfy `ok` (a broken page fails the test's timeout instead). */
    const waitForLit = async (chart: string, ok: (states: string[]) => boolean): Promise<void> => {
      while (!ok(await lit(chart))) await page.waitForTimeout(100);
    };
    await waitForLit('job', (states) => states.includes('job.active.phase.cooldown'));
    await page.locator('button[data-filter="all"]').click();
    await page.locator('button[data-action="run"]').click();
    await waitForLit('job', (states) => states.some((id) => id.startsWith('job.active.phase.round.')));
    assert.ok(!(await lit('job')).includes('job.active.phase.cooldown'), 'cooldown is no longer lit');
    await page.locator('[data-section="history"] tr[data-run="2"]').waitFor();
    await page.locator('tr[data-task*="-r2-"][data-state="TASK_RUNNING"]').first().waitFor({ timeout: 30_000 });
    await waitForLit('task', (states) => states.includes('task.alive.running'));
    const shot = join(scratch, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    const { width, height } = pngSize(png);
    assert.equal(width, 1400, 'the screenshot is as wide as the viewport');
    assert.ok(height >= 1000 && height <= 20_000, `the screenshot is the full page (${width}x${height})`);
    assert.ok(png.length > 20_000, `the screenshot holds a drawn page (${png.length} bytes)`);
    if (process.env['DASHBOARD_PICTURE'] === '1') copyFileSync(shot, join(root, 'visualizations/dashboard.png'));

    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(blocked, [], 'no request left 127.0.0.1');
    assert.ok(requested.length > 0 && requested.every((u) => u.startsWith(`${origin}/`)), requested.join('\n'));
    assert.ok(cli.messages().some((m) => /^control: run job etl \(from 127\.0\.0\.1\): started round 2 now$/.test(m)));
    cli.child.kill('SIGTERM');
    await cli.exited;
  });

  it('lists every job of a --jobs file, each with its own rounds and tasks, and the jobs a reload adds and removes', async (t) => {
    const scratch = mkdtempSync(join(tmpdir(), 'browser-jobs-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const jobsFile = join(scratch, 'jobs.yaml');
    writeFileSync(jobsFile, [
      'jobs:',
      '  - { name: alpha, cmd: "echo alpha", maxtasks: 2, wait: 600 }',
      '  - { name: beta, cmd: "echo beta", maxtasks: 1, wait: 600 }',
      '',
    ].join('\n'));
    const cli = runCli(t, ['--master', 'local', '--name', 'etl-jobs', '--jobs', jobsFile, '--http-port', '0']);
    const base = String((await cli.waitFor((l) => typeof l.status === 'string', 'the status line')).status);
    const { page, blocked, errors } = await openPage(t, base);
    await page.goto(`${base}/`);
    await page.locator('[data-job="alpha"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-job="beta"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-job="alpha"] .badge.s-cooldown').waitFor({ timeout: 60_000 });
    await page.locator('[data-job="beta"] .badge.s-cooldown').waitFor({ timeout: 60_000 });
    // SIGHUP with gamma added and beta removed: the open page follows.
    writeFileSync(jobsFile, [
      'jobs:',
      '  - { name: alpha, cmd: "echo alpha", maxtasks: 2, wait: 600 }',
      '  - { name: gamma, cmd: "echo gamma", maxtasks: 1, wait: 600 }',
      '',
    ].join('\n'));
    cli.child.kill('SIGHUP');
    await page.locator('[data-job="gamma"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-job="beta"]').waitFor({ state: 'detached', timeout: 60_000 });
    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(blocked, [], 'no request left 127.0.0.1');
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
});
