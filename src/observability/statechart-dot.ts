/**
 * A chart as Graphviz DOT text (scripts/visualize.ts draws it as SVG).
 */
import { ancestry, describeState, indexStates, isContainer, type Chart, type ChartState } from './statechart.js';

/** Graphviz DOT: composite and parallel states are clusters; edges keep their exact ends. */
export function toDot(chart: Chart): string {
  const index = indexStates(chart.root);
  const out: string[] = [
    `digraph ${dotId(chart.name)} {`,
    '  graph [compound=true, rankdir=LR, forcelabels=true, pad=0.3, nodesep=0.35, ranksep=0.45, fontname="Helvetica", fontsize=13, labelloc=t, labeljust=l];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f6f8fa", color="#57606a", fontname="Helvetica", fontsize=11, margin="0.15,0.06"];',
    '  edge [color="#57606a", fontname="Helvetica", fontsize=10];',
  ];
  const anchorOf = (state: ChartState): string => (isContainer(state) ? `${state.id}#anchor` : state.id);
  const emit = (state: ChartState, depth: number): void => {
    const pad = '  '.repeat(depth);
    if (isContainer(state)) {
      const dashed = state.type === 'parallel' ? ',dashed' : '';
      out.push(`${pad}subgraph ${dotId(`cluster_${state.id}`)} {`);
      out.push(`${pad}  graph [label=${htmlLabel(state.key + (state.type === 'parallel' ? ' (parallel)' : ''), describeState(state))}, style="rounded${dashed}", color="#57606a", bgcolor="#ffffff"];`);
      if (state.initial !== undefined) {
        out.push(`${pad}  ${dotId(anchorOf(state))} [shape=point, width=0.12, style=filled, fillcolor=black, color=black, label=""];`);
        out.push(`${pad}  ${dotId(anchorOf(state))} -> ${dotId(entryNode(state.initial))};`);
      } else {
        out.push(`${pad}  ${dotId(anchorOf(state))} [shape=point, width=0.01, style=invis, label=""];`);
      }
      for (const child of state.children) emit(child, depth + 1);
      out.push(`${pad}}`);
    } else if (state.type === 'history') {
      out.push(`${pad}${dotId(state.id)} [shape=circle, label="H", width=0.3];`);
    } else {
      const final = state.type === 'final' ? ', peripheries=2' : '';
      out.push(`${pad}${dotId(state.id)} [label=${htmlLabel(state.key, describeState(state))}${final}];`);
    }
  };
  const entryNode = (id: string): string => {
    const entry = index.get(id);
    return entry === undefined ? id : anchorOf(entry.state);
  };
  emit(chart.root, 1);
  // One arrow per pair of states, carrying every transition between them.
  const grouped = new Map<string, { source: string; target: string; labels: string[] }>();
  for (const edge of chart.edges) {
    const key = `${edge.source}\u0000${edge.target}`;
    const group = grouped.get(key) ?? { source: edge.source, target: edge.target, labels: [] };
    group.labels.push(edge.label);
    grouped.set(key, group);
  }
  for (const edge of grouped.values()) {
    const source = index.get(edge.source)?.state;
    const target = index.get(edge.target)?.state;
    if (source === undefined || target === undefined) continue;
    const clip: string[] = [];
    if (isContainer(source) && !ancestry(target.id, index).includes(source)) clip.push(`ltail=${dotId(`cluster_${source.id}`)}`);
    if (isContainer(target) && !ancestry(source.id, index).includes(target)) clip.push(`lhead=${dotId(`cluster_${target.id}`)}`);
    // Graphviz places a label on the unclipped edge; an xlabel follows the clipped one.
    const label = `"${edge.labels.map((l) => escapeDot(` ${l} `)).join('\\n')}"`;
    const attrs = [`${clip.length > 0 ? 'xlabel' : 'label'}=${label}`, ...clip];
    out.push(`  ${dotId(anchorOf(source))} -> ${dotId(anchorOf(target))} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

function dotId(text: string): string {
  return dotString(text);
}

function dotString(text: string): string {
  return `"${escapeDot(text)}"`;
}

function escapeDot(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlLabel(title: string, lines: string[]): string {
  const rest = lines.map((line) => `<br/><font point-size="9">${html(line)}</font>`).join('');
  return `<<b>${html(title)}</b>${rest}>`;
}
