/**
 * A chart as Mermaid `stateDiagram-v2` text (GitHub renders it in markdown).
 */
import { ancestry, describeState, handlerLine, indexStates, isContainer, type Chart, type ChartState, type StateIndex } from './statechart.js';

/**
 * Mermaid `stateDiagram-v2`. Mermaid cannot draw a transition between inner
 * states of different composite states, so each transition is drawn between
 * the outermost states that separate its ends (a transition leaving a
 * composite state starts at that composite state). The DOT chart keeps the
 * exact ends.
 */
export function toMermaid(chart: Chart): string {
  const index = indexStates(chart.root);
  const ids = mermaidIds(chart.root);
  const mid = (id: string): string => ids.get(id) ?? 'unknown';
  const blockEdges = new Map<string, string[]>();
  const extraLines = new Map<string, string[]>();
  /** A composite state with a parallel ancestor. */
  const insideParallel = (state: ChartState, index: StateIndex): boolean =>
    isContainer(state) && ancestry(state.id, index).some((a) => a !== state && a.type === 'parallel');
  for (const edge of chart.edges) {
    const from = ancestry(edge.source, index);
    const to = ancestry(edge.target, index);
    let common = 0;
    while (common < from.length && common < to.length && from[common] === to[common]) common++;
    // The block is the deepest state that is a proper ancestor of both ends.
    const blockDepth = Math.min(common, from.length - 1, to.length - 1) - 1;
    const block = blockDepth >= 0 ? from[blockDepth] : undefined;
    const blockId = block?.id ?? '';
    const source = from[blockDepth + 1] ?? chart.root;
    const target = to[blockDepth + 1] ?? chart.root;
    if (insideParallel(source, index) || insideParallel(target, index)) {
      // Mermaid crashes on arrows to or from a composite state inside a
      // parallel region (mermaid-js/mermaid#4052): written in the source instead.
      const text = handlerLine(`${edge.label} → ${target.key}`);
      const lines = extraLines.get(source.id) ?? [];
      if (!lines.includes(text)) lines.push(text);
      extraLines.set(source.id, lines);
      continue;
    }
    const line = `${mid(source.id)} --> ${mid(target.id)} : ${mermaidText(edge.label)}`;
    const lines = blockEdges.get(blockId) ?? [];
    if (!lines.includes(line)) lines.push(line);
    blockEdges.set(blockId, lines);
  }
  const out: string[] = ['stateDiagram-v2'];
  const emit = (state: ChartState, depth: number): void => {
    const pad = '  '.repeat(depth);
    const id = mid(state.id);
    if (isContainer(state)) {
      // Mermaid refuses descriptions on composite states: their lines go in the title.
      const title = [state.key, ...describeState(state), ...(extraLines.get(state.id) ?? [])].map(mermaidName).join('<br/>');
      out.push(`${pad}state "${title}" as ${id} {`);
      if (state.initial !== undefined) out.push(`${pad}  [*] --> ${mid(state.initial)}`);
      state.children.forEach((child, i) => {
        if (state.type === 'parallel' && i > 0) out.push(`${pad}  --`);
        emit(child, depth + 1);
      });
      for (const line of blockEdges.get(state.id) ?? []) out.push(`${pad}  ${line}`);
      out.push(`${pad}}`);
    } else {
      out.push(`${pad}state "${mermaidName(state.key)}" as ${id}`);
      for (const line of [...describeState(state), ...(extraLines.get(state.id) ?? [])]) out.push(`${pad}${id} : ${mermaidText(line)}`);
    }
    if (state.type === 'final') out.push(`${pad}${id} --> [*]`);
  };
  emit(chart.root, 1);
  for (const line of blockEdges.get('') ?? []) out.push(`  ${line}`);
  return `${out.join('\n')}\n`;
}

function mermaidIds(root: ChartState): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const walk = (state: ChartState): void => {
    const base = `s_${state.id.replace(/[^A-Za-z0-9]+/g, '_')}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(state.id, id);
    state.children.forEach(walk);
  };
  walk(root);
  return ids;
}

/** Text after `:` in Mermaid: `:` and `;` would end it, so they become entity codes. */
function mermaidText(text: string): string {
  const codes: Record<string, string> = { ':': '#58;', ';': '#59;', '"': '#quot;' };
  return text.replace(/[:;"]/g, (c) => codes[c] ?? c);
}

function mermaidName(text: string): string {
  return text.replace(/"/g, "'");
}
