import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import { chartOf, describeGuard } from '../../src/observability/statechart.js';
import { toDot } from '../../src/observability/statechart-dot.js';
import { toMermaid } from '../../src/observability/statechart-mermaid.js';
import { visualizationFiles } from '../../src/observability/visualization-files.js';
import { demoMachine } from './fixtures.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const committed = join(root, 'visualizations');

function runVisualize(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', join(root, 'scripts/visualize.ts'), ...args], { cwd: root }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

test('the committed state charts match the machine code (run `npm run visualize` if this fails)', async () => {
  const result = await runVisualize(['--check']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /up to date/);
});

test('--check names the stale and the missing files and exits 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'viz-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(committed, dir, { recursive: true });
  await writeFile(join(dir, 'job.mmd'), 'stateDiagram-v2\n  [*] --> drawnByHand\n');
  await rm(join(dir, 'task.svg'));
  await writeFile(join(dir, 'retired.mmd'), 'stateDiagram-v2\n');
  const result = await runVisualize(['--check', '--out', dir]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /job\.mmd\n/);
  assert.match(result.stderr, /task\.svg \(missing\)/);
  assert.match(result.stderr, /retired\.mmd \(no such machine\)/);
  assert.doesNotMatch(result.stderr, /framework\.mmd/);
});

test('Mermaid names every state, transition, guard, delay and invoked actor', () => {
  assert.equal(
    toMermaid(chartOf(demoMachine)),
    [
      'stateDiagram-v2',
      // Lines of a composite state go in its title (Mermaid allows no description there).
      '  state "demo<br/>on ping<br/>on stop → done" as s_demo {',
      '    [*] --> s_demo_idle',
      '    state "idle" as s_demo_idle',
      '    state "working" as s_demo_working',
      '    s_demo_working : invoke fetchOffers',
      '    s_demo_working : invoke stream as conn',
      // A re-entry of a composite state is written in it.
      '    state "both<br/>on go ↻" as s_demo_both {',
      '      state "left" as s_demo_both_left {',
      '        [*] --> s_demo_both_left_a',
      '        state "a" as s_demo_both_left_a',
      '        state "b" as s_demo_both_left_b',
      '        s_demo_both_left_a --> s_demo_both_left_b : always [isLast]',
      '      }',
      '      --',
      '      state "right" as s_demo_both_right {',
      '        [*] --> s_demo_both_right_c',
      '        state "c" as s_demo_both_right_c',
      // No arrow to a composite state inside a parallel region (Mermaid would crash).
      '        s_demo_both_right_c : on ping → d',
      '        state "d" as s_demo_both_right_d {',
      '          [*] --> s_demo_both_right_d_e',
      '          state "e" as s_demo_both_right_d_e',
      '        }',
      '      }',
      '    }',
      '    state "done" as s_demo_done',
      '    s_demo_done --> [*]',
      '    s_demo_idle --> s_demo_working : go [hasCapacity]',
      '    s_demo_idle --> s_demo_done : go [!hasCapacity]',
      '    s_demo_idle --> s_demo_working : after cooldown',
      '    s_demo_working --> s_demo_idle : stop',
      '    s_demo_working --> s_demo_working : retry',
      '    s_demo_working --> s_demo_both : done#58; fetchOffers',
      '    s_demo_working --> s_demo_idle : error#58; fetchOffers',
      // c (inside both.right) → done: drawn from the composite state it leaves.
      '    s_demo_both --> s_demo_done : stop',
      '  }',
      '',
    ].join('\n'),
  );
});

test('DOT keeps the exact ends: clusters for composite states, clipped edges, final states', () => {
  const dot = toDot(chartOf(demoMachine));
  assert.match(dot, /^digraph "demo" \{/);
  assert.match(dot, /subgraph "cluster_demo\.both" \{\n\s+graph \[label=<<b>both \(parallel\)<\/b><br\/><font point-size="9">on go ↻<\/font>>, style="rounded,dashed"/);
  assert.match(dot, /subgraph "cluster_demo\.both\.left" \{/);
  assert.match(dot, /"demo\.both\.left#anchor" -> "demo\.both\.left\.a";/, 'initial state of a region');
  assert.match(dot, /"demo\.done" \[label=<<b>done<\/b>>, peripheries=2\];/);
  assert.match(dot, /"demo\.working" \[label=<<b>working<\/b><br\/><font point-size="9">invoke fetchOffers<\/font><br\/><font point-size="9">invoke stream as conn<\/font>>\];/);
  assert.match(dot, /"demo\.idle" -> "demo\.working" \[label=" go \[hasCapacity\] \\n after cooldown "\];/);
  assert.match(dot, /"demo\.working" -> "demo\.both#anchor" \[xlabel=" done: fetchOffers ", lhead="cluster_demo\.both"\];/);
  assert.match(dot, /"demo\.both\.right\.c" -> "demo\.done" \[label=" stop "\];/);
  assert.match(dot, /"demo\.both\.left\.a" -> "demo\.both\.left\.b" \[label=" always \[isLast\] "\];/);
  assert.match(dot, /"demo\.working" -> "demo\.working" \[label=" retry "\];/, 'self-transition of an atomic state');
  assert.match(dot, /"demo\.both\.right\.c" -> "demo\.both\.right\.d#anchor" \[xlabel=" ping ", lhead="cluster_demo\.both\.right\.d"\];/);
  assert.match(dot, /<b>demo<\/b><br\/><font point-size="9">on ping<\/font><br\/><font point-size="9">on stop → done<\/font>/);
});

test('guards read as written: names, negation, and/or', async () => {
  const { and, not, or, stateIn } = await import('xstate');
  assert.equal(describeGuard('isOk'), 'isOk');
  assert.equal(describeGuard({ type: 'isOk', params: { n: 1 } }), 'isOk');
  assert.equal(describeGuard(not('isOk')), '!isOk');
  assert.equal(describeGuard(and(['a', or(['b', 'c'])])), 'a && (b || c)');
  assert.equal(describeGuard(not(and(['a', 'b']))), '!(a && b)');
  assert.equal(describeGuard(stateIn('busy')), 'in("busy")');
});

test('the files are the same on every run and the SVG is drawn offline from the DOT', async () => {
  const graphviz = await Graphviz.load();
  const render = () => visualizationFiles([{ name: 'demo', machine: demoMachine, summary: 'A demo.' }], (dot) => graphviz.dot(dot));
  const first = render();
  assert.deepEqual([...first.keys()], ['demo.mmd', 'demo.svg', 'README.md']);
  assert.deepEqual(render(), first);
  const svg = first.get('demo.svg') ?? '';
  assert.match(svg, /^<\?xml/);
  for (const text of ['idle', 'working', 'invoke fetchOffers', 'go [hasCapacity]', 'after cooldown', 'done: fetchOffers', 'always [isLast]']) {
    assert.ok(svg.includes(`>${text}</text>`) || svg.includes(`> ${text} </text>`), `svg shows ${text}`);
  }
  const readme = first.get('README.md') ?? '';
  assert.ok(readme.includes(`\`\`\`mermaid\n${(first.get('demo.mmd') ?? '').trimEnd()}\n\`\`\``), 'README embeds the Mermaid chart');
  assert.ok(readme.includes('[demo.svg](demo.svg)'), 'README links the SVG');
});

test('the committed README embeds each committed Mermaid chart', async () => {
  const readme = await readFile(join(committed, 'README.md'), 'utf8');
  for (const name of ['framework', 'supervisor', 'clock', 'job', 'task']) {
    const mermaid = await readFile(join(committed, `${name}.mmd`), 'utf8');
    assert.ok(readme.includes(mermaid.trimEnd()), `${name}.mmd in README`);
    assert.ok(readme.includes(`(${name}.svg)`), `${name}.svg linked`);
  }
});
