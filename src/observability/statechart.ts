/**
 * State charts from machine definitions: walks an XState v5 machine's
 * `machine.root` into a small chart model (states, transitions, guards,
 * invoked actors), which statechart-mermaid.ts and statechart-dot.ts render.
 * Pure and deterministic: the same machine gives the same chart, in
 * definition order.
 */
import type { AnyStateMachine } from 'xstate';

/** One state of the chart (the machine's root is a state too). */
export interface ChartState {
  /** XState id, e.g. `framework.subscribed`. */
  id: string;
  /** Key in its parent (the machine id for the root). */
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  children: ChartState[];
  /** Id of the initial child (compound states). */
  initial?: string;
  /** Invoked actors, as `src` or `src as id`. */
  invokes: string[];
  /**
   * Transitions written in the state rather than drawn: those without a
   * target (`event`), those into the state's own inner states
   * (`event → inner.path`) and re-entries of a composite state (`event ↻`).
   */
  internal: string[];
}

/** A transition with a target, as a display label. */
export interface ChartEdge {
  source: string;
  target: string;
  label: string;
}

export interface Chart {
  name: string;
  root: ChartState;
  edges: ChartEdge[];
}

// The parts of xstate's StateNode / TransitionDefinition the walk reads.
interface NodeLike {
  id: string;
  key: string;
  type: ChartState['type'];
  parent?: NodeLike;
  states: Record<string, NodeLike>;
  initial?: { target: NodeLike[] };
  invoke: Array<{ id: string; src: unknown }>;
  after: Array<{ delay: unknown; eventType: string }>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}
interface TransitionLike {
  target?: readonly NodeLike[] | undefined;
  guard?: unknown;
}

/** Builds the chart model of a machine. */
export function chartOf(machine: AnyStateMachine, name: string = machine.id): Chart {
  const root = machine.root as unknown as NodeLike;
  const actorNames = new Map<string, string>();
  const delays = new Map<string, string>();
  collectNames(root, actorNames, delays);
  const edges: ChartEdge[] = [];
  const seen = new Set<string>();
  const visit = (node: NodeLike): ChartState => {
    const internal: string[] = [];
    const add = (eventLabel: string, t: TransitionLike): void => {
      const label = t.guard === undefined ? eventLabel : `${eventLabel} [${describeGuard(t.guard)}]`;
      const targets = t.target ?? [];
      if (targets.length === 0) {
        if (!internal.includes(label)) internal.push(label);
        return;
      }
      for (const target of targets) {
        const container = node.type === 'compound' || node.type === 'parallel';
        if (isDescendant(target, node) || (container && target === node)) {
          // Into its own inner states, or re-entering a composite state: written
          // in the state as `event → inner` or `event ↻` (no edge would read well).
          const line = target === node ? `${label} ↻` : `${label} → ${target.id.slice(node.id.length + 1)}`;
          if (!internal.includes(line)) internal.push(line);
          continue;
        }
        const key = `${node.id}\u0000${target.id}\u0000${label}`;
        if (seen.has(key)) continue;
        seen.add(key);
        edges.push({ source: node.id, target: target.id, label });
      }
    };
    for (const [eventType, transitions] of node.transitions) {
      const eventLabel = displayEvent(eventType, actorNames, delays);
      for (const t of transitions) add(eventLabel, t);
    }
    for (const t of node.always ?? []) add('always', t);
    const chartState: ChartState = {
      id: node.id,
      key: node.key,
      type: node.type,
      children: Object.values(node.states).map(visit),
      invokes: node.invoke.map((inv, i) => {
        const src = srcName(inv.src);
        return inv.id === src || isAutoInvokeId(inv.id, node.id, i) ? src : `${src} as ${inv.id}`;
      }),
      internal,
    };
    const initial = node.type === 'compound' ? node.initial?.target[0]?.id : undefined;
    if (initial !== undefined) chartState.initial = initial;
    return chartState;
  };
  return { name, root: visit(root), edges };
}

function isDescendant(node: NodeLike, ancestor: NodeLike): boolean {
  for (let p = node.parent; p !== undefined; p = p.parent) if (p === ancestor) return true;
  return false;
}

function collectNames(node: NodeLike, actorNames: Map<string, string>, delays: Map<string, string>): void {
  node.invoke.forEach((inv, i) => {
    actorNames.set(inv.id, isAutoInvokeId(inv.id, node.id, i) ? srcName(inv.src) : inv.id);
  });
  for (const a of node.after) {
    delays.set(a.eventType, typeof a.delay === 'number' ? `${a.delay}ms` : String(a.delay));
  }
  for (const child of Object.values(node.states)) collectNames(child, actorNames, delays);
}

/** XState names an invocation without an id `<index>.<stateId>`. */
function isAutoInvokeId(id: string, stateId: string, index: number): boolean {
  return id === `${index}.${stateId}`;
}

function srcName(src: unknown): string {
  if (typeof src === 'string') return src;
  if (src !== null && typeof src === 'object' && 'id' in src && typeof src.id === 'string') return src.id;
  return 'inline actor';
}

/** Rewrites XState's internal event types for display. */
export function displayEvent(eventType: string, actorNames: Map<string, string>, delays: Map<string, string>): string {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done?.[1] !== undefined) return `done: ${actorNames.get(done[1]) ?? done[1]}`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error?.[1] !== undefined) return `error: ${actorNames.get(error[1]) ?? error[1]}`;
  const doneState = /^xstate\.done\.state\.(.+)$/.exec(eventType);
  if (doneState?.[1] !== undefined) return `${doneState[1].split('.').pop() ?? doneState[1]} done`;
  if (eventType.startsWith('xstate.after.')) {
    const delay = delays.get(eventType) ?? eventType.slice('xstate.after.'.length).split('.')[0] ?? '?';
    return `after ${delay}`;
  }
  if (eventType === '*') return 'any event';
  return eventType;
}

/** Names a guard: `name`, `!name`, `a && b`, `a || b`, `in(state)`. */
export function describeGuard(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const fn = guard as { name?: string; guards?: unknown[]; stateValue?: unknown };
    const parts = (fn.guards ?? []).map(describeGuard);
    if (fn.name === 'not') return `!${wrap(parts[0] ?? '?')}`;
    if (fn.name === 'and') return parts.map(wrap).join(' && ');
    if (fn.name === 'or') return parts.map(wrap).join(' || ');
    if (fn.name === 'stateIn') return `in(${JSON.stringify(fn.stateValue)})`;
    return fn.name !== undefined && fn.name !== '' && fn.name !== 'guard' ? fn.name : 'inline guard';
  }
  if (guard !== null && typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  return 'guard';
}

function wrap(text: string): string {
  return / && | \|\| /.test(text) ? `(${text})` : text;
}

// ---------------------------------------------------------------------------
// Tree helpers

export type StateIndex = Map<string, { state: ChartState; parent?: ChartState }>;

export function indexStates(root: ChartState): StateIndex {
  const index = new Map<string, { state: ChartState; parent?: ChartState }>();
  const walk = (state: ChartState, parent?: ChartState): void => {
    index.set(state.id, parent === undefined ? { state } : { state, parent });
    for (const child of state.children) walk(child, state);
  };
  walk(root);
  return index;
}

export function ancestry(id: string, index: StateIndex): ChartState[] {
  const chain: ChartState[] = [];
  let entry = index.get(id);
  while (entry !== undefined) {
    chain.unshift(entry.state);
    entry = entry.parent === undefined ? undefined : index.get(entry.parent.id);
  }
  return chain;
}

export function isContainer(state: ChartState): boolean {
  return state.type === 'compound' || state.type === 'parallel';
}

/** The lines written inside a state: invoked actors and transitions not drawn as arrows. */
export function describeState(state: ChartState): string[] {
  return [...state.invokes.map((src) => `invoke ${src}`), ...state.internal.map(handlerLine)];
}

/** `on event ...`, but `always ...` and `after delay ...` read as they are. */
export function handlerLine(label: string): string {
  return /^(always|after )/.test(label) ? label : `on ${label}`;
}
