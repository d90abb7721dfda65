/**
 * A picture of what the Stately inspector shows for one `--inspect` session,
 * drawn from the relay's recorded messages (scripts/inspector-picture.ts
 * records a real run and writes visualizations/inspector-session.svg):
 *   - the actor tree: every actor under its parent, with its machine (or
 *     actor logic), its last state value and its status;
 *   - a sequence diagram like the inspector's sequence view: a lifeline per
 *     actor, an arrow per event from its sender (`sourceId`; "outside" when no
 *     actor sent it) to its receiver, and on the right the state each event
 *     moved its receiver to.
 * Pure: messages in, an SVG string out; the same recording gives the same
 * SVG. Consecutive identical events are drawn once with "×N"; past
 * `maxArrows` the middle of the session is left out with a "… N more" line.
 */

/** One relay message (@statelyai/inspect 0.7 format); other fields are kept but not read. */
export interface InspectorMessage {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  sessionId: string;
  rootId?: string;
  /** @xstate.actor: the parent actor's sessionId. */
  parentId?: string;
  /** @xstate.actor: the actor's name (its id, or its machine's id; reported tasks are named `task`, their session id is `task:<task id>`). */
  name?: string;
  /** @xstate.actor: the machine (or actor logic) as JSON text. */
  definition?: string;
  /** @xstate.event: the sender's sessionId; none when sent from outside any actor. */
  sourceId?: string;
  /** @xstate.event: the event; @xstate.snapshot: the event that led to it. */
  event?: { type: string };
  snapshot?: { value?: unknown; status?: string; context?: unknown };
  /** Milliseconds since the epoch, as text. */
  createdAt?: string | number;
}

/** What scripts/inspector-picture.ts records and visualizations/inspector-session.json holds. */
export interface InspectorRecording {
  /** The command that ran, as shown in the picture's caption. */
  command: string;
  /** Lines drawn under the diagram (what an actor stands for, say). */
  notes?: string[];
  messages: InspectorMessage[];
}

export interface PictureOptions {
  /** Arrows drawn at most (consecutive repeats count once); default 40. */
  maxArrows?: number;
}

const MESSAGE_TYPES = new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);

/** A relay message, or undefined when the text is not one. */
export function parseInspectorMessage(text: string): InspectorMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const message = parsed as Partial<InspectorMessage>;
  if (typeof message.type !== 'string' || !MESSAGE_TYPES.has(message.type) || typeof message.sessionId !== 'string') return undefined;
  return message as InspectorMessage;
}

// ---------------------------------------------------------------- the session

interface Actor {
  sessionId: string;
  name: string;
  /** The machine's id, or the actor logic's. */
  logic: string;
  isMachine: boolean;
  parentId: string | undefined;
  /** Its last state value (from its snapshots, or from its announcement). */
  value: unknown;
  /** The value of its last snapshot: what the next one changed is drawn. */
  lastSnapshot: unknown;
  status: string;
  /** Index of the message that announced it (or first named it). */
  firstMessage: number;
  /** Index of the snapshot that ended it (status done, stopped or error). */
  endMessage: number | undefined;
}

interface Row {
  message: number;
  time: number | undefined;
  /** The sender's sessionId; undefined: from outside any actor. */
  from: string | undefined;
  to: string;
  type: string;
  count: number;
  /** "actor → state" lines for what this event changed. */
  notes: string[];
  /** Snapshots already matched to this event, by actor. */
  matched: Set<string>;
}

interface Session {
  actors: Map<string, Actor>;
  rows: Row[];
  events: number;
  snapshots: number;
  startedAt: number | undefined;
  endedAt: number | undefined;
  hasOutside: boolean;
}

function readSession(messages: InspectorMessage[]): Session {
  const actors = new Map<string, Actor>();
  const rows: Row[] = [];
  let events = 0;
  let snapshots = 0;
  let startedAt: number | undefined;
  let endedAt: number | undefined;
  const actorOf = (sessionId: string, index: number): Actor => {
    let actor = actors.get(sessionId);
    if (actor === undefined) {
      actor = { sessionId, name: sessionId, logic: '?', isMachine: false, parentId: undefined, value: undefined, lastSnapshot: undefined, status: 'active', firstMessage: index, endMessage: undefined };
      actors.set(sessionId, actor);
    }
    return actor;
  };
  messages.forEach((message, index) => {
    const time = timeOf(message.createdAt);
    if (time !== undefined) {
      startedAt = Math.min(startedAt ?? time, time);
      endedAt = Math.max(endedAt ?? time, time);
    }
    if (message.type === '@xstate.actor') {
      const known = actors.has(message.sessionId);
      const actor = actorOf(message.sessionId, index);
      const definition = parseDefinition(message.definition);
      actor.name = message.name ?? actor.name;
      actor.logic = definition.id ?? actor.name;
      actor.isMachine = definition.isMachine;
      actor.parentId = message.parentId;
      if (!known && message.snapshot?.value !== undefined) actor.value = message.snapshot.value;
    } else if (message.type === '@xstate.event') {
      events += 1;
      actorOf(message.sessionId, index);
      if (message.sourceId !== undefined) actorOf(message.sourceId, index);
      rows.push({
        message: index, time, from: message.sourceId, to: message.sessionId, type: message.event?.type ?? '?',
        count: 1, notes: [], matched: new Set(),
      });
    } else {
      snapshots += 1;
      const actor = actorOf(message.sessionId, index);
      const value = message.snapshot?.value;
      const status = message.snapshot?.status ?? actor.status;
      const changed = changedLeaves(actor.lastSnapshot, value);
      const ended = status !== actor.status && status !== 'active' && status !== 'stopped' ? ` (${status})` : '';
      const notes: string[] = [];
      if (changed.length > 0) notes.push(`${shortName(actor.name)} → ${compactPaths(changed)}${ended}`);
      else if (ended !== '') notes.push(`${shortName(actor.name)} is ${status}`);
      // The event this snapshot followed: the latest one of its type to this actor.
      const cause = message.event?.type;
      for (let i = rows.length - 1; i >= 0 && i >= rows.length - 60; i -= 1) {
        const row = rows[i];
        if (row === undefined || row.to !== actor.sessionId || row.type !== cause || row.matched.has(actor.sessionId)) continue;
        row.matched.add(actor.sessionId);
        row.notes.push(...notes);
        notes.length = 0;
        break;
      }
      if (notes.length > 0) rows.at(-1)?.notes.push(...notes);
      if (value !== undefined) actor.value = actor.lastSnapshot = value;
      actor.status = status;
      if (status !== 'active') actor.endMessage ??= index;
    }
  });
  return { actors, rows: collapse(rows), events, snapshots, startedAt, endedAt, hasOutside: rows.some((row) => row.from === undefined) };
}

function timeOf(createdAt: string | number | undefined): number | undefined {
  if (createdAt === undefined) return undefined;
  const time = typeof createdAt === 'number' ? createdAt : /^\d+$/.test(createdAt) ? Number(createdAt) : Date.parse(createdAt);
  return Number.isFinite(time) ? time : undefined;
}

function parseDefinition(definition: string | undefined): { id?: string; isMachine: boolean } {
  if (definition === undefined) return { isMachine: false };
  try {
    const parsed = JSON.parse(definition) as { id?: unknown; states?: unknown; initial?: unknown };
    return {
      ...(typeof parsed.id === 'string' ? { id: parsed.id } : {}),
      isMachine: parsed.states !== undefined || parsed.initial !== undefined,
    };
  } catch {
    return { isMachine: false };
  }
}

/** Consecutive events with the same sender, receiver and type become one row "×N". */
function collapse(rows: Row[]): Row[] {
  const out: Row[] = [];
  for (const row of rows) {
    const last = out.at(-1);
    const sameNotes = row.notes.length === 0 || row.notes.join('\n') === last?.notes.join('\n');
    if (last !== undefined && last.from === row.from && last.to === row.to && last.type === row.type && sameNotes) {
      last.count += 1;
    } else {
      out.push(row);
    }
  }
  return out;
}

/** `{a: {b: 'c'}, d: 'e'}` → `a.b.c`, `d.e`. */
function leafPaths(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object') return [String(value)];
  const out: string[] = [];
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const below = leafPaths(inner);
    if (below.length === 0) out.push(key);
    else for (const path of below) out.push(`${key}.${path}`);
  }
  return out;
}

function changedLeaves(before: unknown, after: unknown): string[] {
  if (after === undefined) return [];
  const old = new Set(leafPaths(before));
  return leafPaths(after).filter((path) => !old.has(path));
}

/** `a.b.c`, `a.d` → `a.{b.c, d}`. */
function compactPaths(paths: string[]): string {
  if (paths.length === 1) return paths[0] ?? '';
  const split = paths.map((path) => path.split('.'));
  const first = split[0] ?? [];
  let shared = 0;
  while (shared < first.length - 1 && split.every((parts) => parts.length - 1 > shared && parts[shared] === first[shared])) shared += 1;
  const rest = split.map((parts) => parts.slice(shared).join('.')).join(', ');
  return shared === 0 ? `{${rest}}` : `${first.slice(0, shared).join('.')}.{${rest}}`;
}

/** A state value as the inspector's state names: `operating.{connection.session.subscribed, lifecycle.running}`. */
function formatStateValue(value: unknown): string {
  const paths = leafPaths(value);
  return paths.length === 0 ? '—' : compactPaths(paths);
}

const SHORT_NAME = 16;

/** Long actor ids keep their distinguishing end. */
function shortName(name: string): string {
  return name.length <= SHORT_NAME ? name : `…${name.slice(-(SHORT_NAME - 1))}`;
}

// ---------------------------------------------------------------- drawing

const SANS = 'Helvetica, Arial, sans-serif';
const MONO = 'Menlo, Consolas, monospace';
const INK = '#1f2328';
const MUTED = '#57606a';
const LINE = '#d0d7de';
const EVENT = '#0969da';
const INTERNAL = '#8c959f';
const FROM_OUTSIDE = '#bc4c00';
/** Arrow colours; marker `head<i>` is the arrow head in colour i. */
const ARROW_COLORS = [EVENT, INTERNAL, FROM_OUTSIDE];
const OUTSIDE = '\u0000outside';
const STATUS_COLORS: Record<string, string> = { active: '#1a7f37', done: '#0969da', stopped: '#6e7781', error: '#cf222e' };

const MARGIN = 20;
const TREE_ROW = 22;
/** Tree columns, from the left margin. */
const STATUS_X = 320;
const LOGIC_X = 400;
const VALUE_X = 540;
const GUTTER = 70;
const COLUMN = 132;
const STATE_COLUMN = 520;
const SEQ_ROW = 24;
const MAX_LIFELINES = 10;
const MAX_TREE_ROWS = 30;

/** The picture of a recorded session as SVG text. */
export function renderInspectorSession(recording: InspectorRecording, options: PictureOptions = {}): string {
  const session = readSession(recording.messages);
  const maxArrows = Math.max(4, options.maxArrows ?? 40);
  const tree = treeOrder(session.actors);
  const lifelines = lifelineOrder(session, tree);
  const width = Math.max(960, GUTTER + lifelines.length * COLUMN + STATE_COLUMN + MARGIN);
  const svg: string[] = [];
  let y = MARGIN;

  // Title, caption, counts.
  svg.push(text(MARGIN, y + 16, 'What the Stately inspector shows for one --inspect session', { size: 18, weight: 'bold' }));
  y += 30;
  svg.push(text(MARGIN, y + 13, 'Rendered from a recorded --inspect session of a real run (the relay\'s WebSocket messages), not a screenshot of stately.ai/inspect.', { size: 12.5, fill: '#9a6700', style: 'italic' }));
  y += 20;
  svg.push(text(MARGIN, y + 13, clip(`Run: ${recording.command}`, (width - 2 * MARGIN) / 6.6), { size: 11, fill: MUTED, family: MONO }));
  y += 20;
  const seconds = session.startedAt !== undefined && session.endedAt !== undefined ? ` · ${((session.endedAt - session.startedAt) / 1000).toFixed(2)} s` : '';
  svg.push(text(MARGIN, y + 13, `${count(session.actors.size, 'actor')} · ${count(session.events, 'event')} · ${count(session.snapshots, 'snapshot')}${seconds}`, { size: 12, fill: MUTED }));
  y += 32;

  // The actor tree.
  svg.push(text(MARGIN, y + 14, 'Actors', { size: 15, weight: 'bold' }));
  svg.push(text(MARGIN + STATUS_X, y + 14, 'status', { size: 11, fill: MUTED }));
  svg.push(text(MARGIN + LOGIC_X, y + 14, 'machine', { size: 11, fill: MUTED }));
  svg.push(text(MARGIN + VALUE_X, y + 14, 'last state', { size: 11, fill: MUTED }));
  y += 24;
  const rowOf = new Map<string, number>();
  const shownTree = tree.slice(0, MAX_TREE_ROWS);
  shownTree.forEach(({ actor, depth }, i) => {
    const rowY = y + i * TREE_ROW;
    rowOf.set(actor.sessionId, rowY);
    if (i % 2 === 0) svg.push(`<rect x="${MARGIN - 6}" y="${rowY}" width="${width - 2 * MARGIN + 12}" height="${TREE_ROW}" fill="#f6f8fa"/>`);
    const x = MARGIN + depth * 22;
    const parentY = actor.parentId === undefined ? undefined : rowOf.get(actor.parentId);
    if (depth > 0 && parentY !== undefined) {
      const stem = x - 14;
      svg.push(`<path d="M${stem} ${parentY + 17} V${rowY + 11} H${x - 4}" fill="none" stroke="${INTERNAL}"/>`);
    }
    svg.push(text(x, rowY + 15, clip(actor.name, (STATUS_X - 10 - depth * 22) / 7.4), { size: 12.5, weight: 'bold' }));
    svg.push(statusPill(MARGIN + STATUS_X, rowY + 3, actor.status));
    svg.push(text(MARGIN + LOGIC_X, rowY + 15, `${actor.logic}${actor.isMachine ? '' : ' (actor)'}`, { size: 12 }));
    svg.push(text(MARGIN + VALUE_X, rowY + 15, clip(formatStateValue(actor.value), (width - 2 * MARGIN - VALUE_X) / 7.3), { size: 12, family: MONO }));
  });
  y += shownTree.length * TREE_ROW;
  if (tree.length > shownTree.length) {
    svg.push(text(MARGIN, y + 15, `… ${tree.length - shownTree.length} more actors`, { size: 12, fill: MUTED }));
    y += TREE_ROW;
  }
  y += 28;

  // The sequence diagram.
  svg.push(text(MARGIN, y + 14, 'Sequence', { size: 15, weight: 'bold' }));
  svg.push(text(GUTTER + lifelines.length * COLUMN + 16, y + 14, 'state the event moved its receiver to', { size: 11, fill: MUTED }));
  y += 26;
  const columnOf = new Map<string, number>();
  lifelines.forEach((line, i) => {
    for (const id of line.ids) columnOf.set(id, i);
  });
  const xOf = (id: string | undefined): number => GUTTER + (columnOf.get(id ?? OUTSIDE) ?? lifelines.length - 1) * COLUMN + COLUMN / 2;
  const headerY = y;
  lifelines.forEach((line, i) => {
    const cx = GUTTER + i * COLUMN + COLUMN / 2;
    const fill = line.ids[0] === OUTSIDE ? '#fff8c5' : '#ddf4ff';
    svg.push(`<rect x="${cx - COLUMN / 2 + 5}" y="${headerY}" width="${COLUMN - 10}" height="38" rx="6" fill="${fill}" stroke="${LINE}"/>`);
    svg.push(text(cx, headerY + 16, line.title, { size: 11.5, weight: 'bold', anchor: 'middle' }));
    svg.push(text(cx, headerY + 31, line.subtitle, { size: 10.5, fill: MUTED, anchor: 'middle' }));
  });
  y += 50;

  const rows = session.rows;
  const tail = Math.min(10, Math.floor(maxArrows / 4));
  const cut = rows.length > maxArrows;
  const shown: Array<Row | { gap: Row[] }> = cut ? [...rows.slice(0, maxArrows - tail), { gap: rows.slice(maxArrows - tail, rows.length - tail) }, ...rows.slice(-tail)] : rows;
  const top = y;
  const bottom = top + shown.length * SEQ_ROW + 8;

  // Lifelines, then each actor's life as a bar from its first to its last message.
  lifelines.forEach((_, i) => {
    const cx = GUTTER + i * COLUMN + COLUMN / 2;
    svg.push(`<line x1="${cx}" y1="${headerY + 38}" x2="${cx}" y2="${bottom}" stroke="${LINE}" stroke-dasharray="4 4"/>`);
  });
  const firstMessage = (item: Row | { gap: Row[] }): number => ('gap' in item ? (item.gap[0]?.message ?? 0) : item.message);
  const lastMessage = (item: Row | { gap: Row[] }): number => ('gap' in item ? (item.gap.at(-1)?.message ?? 0) : item.message);
  /** The top of the first row drawn at or after message `index`. */
  const startY = (index: number): number => {
    const at = shown.findIndex((item) => lastMessage(item) >= index);
    return at < 0 ? bottom : top + at * SEQ_ROW + 4;
  };
  /** The middle of the last row drawn before or at message `index`. */
  const endY = (index: number): number => {
    let at = 0;
    shown.forEach((item, i) => {
      if (firstMessage(item) <= index) at = i;
    });
    return top + at * SEQ_ROW + 16;
  };
  for (const actor of session.actors.values()) {
    const column = columnOf.get(actor.sessionId);
    const line = column === undefined ? undefined : lifelines[column];
    if (column === undefined || line === undefined || line.ids.length > 1) continue;
    const cx = GUTTER + column * COLUMN + COLUMN / 2;
    const from = startY(actor.firstMessage);
    const to = actor.endMessage === undefined ? bottom : Math.min(bottom - 6, endY(actor.endMessage) + 10);
    svg.push(`<rect x="${cx - 3}" y="${from}" width="6" height="${Math.max(6, to - from)}" fill="#b6e3ff" stroke="#54aeff" stroke-width="0.8"/>`);
    if (actor.endMessage !== undefined) {
      svg.push(`<path d="M${cx - 5} ${to - 5} l10 10 M${cx + 5} ${to - 5} l-10 10" stroke="${STATUS_COLORS[actor.status] ?? MUTED}" stroke-width="2"/>`);
    }
  }

  const first = session.startedAt;
  shown.forEach((item, i) => {
    const rowY = top + i * SEQ_ROW + 16;
    if ('gap' in item) {
      const events = item.gap.reduce((sum, row) => sum + row.count, 0);
      svg.push(`<rect x="${GUTTER}" y="${rowY - 13}" width="${lifelines.length * COLUMN}" height="18" fill="#ffffff" opacity="0.9"/>`);
      svg.push(text(GUTTER + (lifelines.length * COLUMN) / 2, rowY, `… ${count(events, 'more event')} (${count(item.gap.length, 'arrow')}) left out here`, { size: 11.5, fill: MUTED, anchor: 'middle', style: 'italic' }));
      return;
    }
    if (item.time !== undefined && first !== undefined) {
      svg.push(text(GUTTER - 8, rowY + 3, `+${((item.time - first) / 1000).toFixed(3)} s`, { size: 10, fill: MUTED, anchor: 'end', family: MONO }));
    }
    const x1 = xOf(item.from);
    const x2 = xOf(item.to);
    const color = item.type.startsWith('xstate.') ? INTERNAL : item.from === undefined ? FROM_OUTSIDE : EVENT;
    const head = `url(#head${ARROW_COLORS.indexOf(color)})`;
    const label = item.count > 1 ? `${item.type} ×${item.count}` : item.type;
    if (x1 === x2) {
      svg.push(`<path d="M${x1 + 3} ${rowY - 4} h22 v8 h-19" fill="none" stroke="${color}" stroke-width="1.4" marker-end="${head}"/>`);
      svg.push(text(x1 + 30, rowY - 2, label, { size: 11, fill: color, halo: true }));
    } else {
      const dir = x2 > x1 ? 1 : -1;
      svg.push(`<line x1="${x1 + dir * 3}" y1="${rowY}" x2="${x2 - dir * 6}" y2="${rowY}" stroke="${color}" stroke-width="1.4" marker-end="${head}"/>`);
      svg.push(text((x1 + x2) / 2, rowY - 4, label, { size: 11, fill: color, anchor: 'middle', halo: true }));
    }
    if (item.notes.length > 0) {
      svg.push(`<circle cx="${x2}" cy="${rowY}" r="3.5" fill="#fff" stroke="${EVENT}" stroke-width="1.5"/>`);
      const note = item.notes.join('; ');
      svg.push(text(GUTTER + lifelines.length * COLUMN + 16, rowY + 3, clip(note, (STATE_COLUMN - 24) / 6.6), { size: 11, family: MONO }));
    }
  });
  y = bottom + 22;

  const notes = [
    'Arrows go from the sending actor to the receiving one; "outside" is an event sent by no actor. Grey arrows are XState\'s own events.',
    'A bar is an actor\'s life, from its first message to the snapshot that ended it (×). Repeated events in a row are drawn once with ×N.',
    'The live inspector (stately.ai/inspect, opened through the page --inspect serves) shows these actors, states and events, and each actor\'s chart and context.',
    ...(recording.notes ?? []),
  ];
  for (const line of notes.flatMap((note) => wrap(note, (width - 2 * MARGIN) / 6.2))) {
    svg.push(text(MARGIN, y, line, { size: 11.5, fill: MUTED }));
    y += 18;
  }
  const height = y + MARGIN;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${SANS}">`,
    '<!-- Generated by `npm run picture:inspector` (scripts/inspector-picture.ts) from a recorded inspector session. Do not edit. -->',
    `<defs>${ARROW_COLORS.map((color, i) => `<marker id="head${i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="${color}"/></marker>`).join('')}</defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...svg,
    '</svg>',
    '',
  ].join('\n');
}

interface TreeEntry {
  actor: Actor;
  depth: number;
}

/** Depth first from the root actors, children in the order they appeared. */
function treeOrder(actors: Map<string, Actor>): TreeEntry[] {
  const children = new Map<string | undefined, Actor[]>();
  for (const actor of actors.values()) {
    const parent = actor.parentId !== undefined && actors.has(actor.parentId) ? actor.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), actor]);
  }
  const out: TreeEntry[] = [];
  const visit = (actor: Actor, depth: number): void => {
    out.push({ actor, depth });
    for (const child of children.get(actor.sessionId) ?? []) visit(child, depth + 1);
  };
  for (const root of children.get(undefined) ?? []) visit(root, 0);
  return out;
}

interface Lifeline {
  /** SessionIds drawn on it (more than one on the last when there are too many actors). */
  ids: string[];
  title: string;
  subtitle: string;
}

/**
 * "outside" first, then the tree, with actors that are not machines (the
 * callbacks and promises that feed events in) left of their parent.
 */
function lifelineOrder(session: Session, tree: TreeEntry[]): Lifeline[] {
  const order: Actor[] = [];
  for (const { actor } of tree) {
    if (!actor.isMachine && actor.parentId !== undefined) {
      const parentAt = order.findIndex((a) => a.sessionId === actor.parentId);
      if (parentAt >= 0) {
        order.splice(parentAt, 0, actor);
        continue;
      }
    }
    order.push(actor);
  }
  const lines: Lifeline[] = session.hasOutside ? [{ ids: [OUTSIDE], title: 'outside', subtitle: 'no actor' }] : [];
  for (const actor of order) {
    lines.push({ ids: [actor.sessionId], title: shortName(actor.name), subtitle: actor.isMachine ? `${actor.logic} machine` : `${actor.logic} actor` });
  }
  if (lines.length <= MAX_LIFELINES) return lines;
  const kept = lines.slice(0, MAX_LIFELINES - 1);
  const rest = lines.slice(MAX_LIFELINES - 1);
  return [...kept, { ids: rest.flatMap((line) => line.ids), title: `${rest.length} more actors`, subtitle: 'drawn on one line' }];
}

function statusPill(x: number, y: number, status: string): string {
  const color = STATUS_COLORS[status] ?? MUTED;
  const width = 12 + status.length * 6.6;
  return `<rect x="${x}" y="${y}" width="${width}" height="16" rx="8" fill="${color}"/>${text(x + width / 2, y + 12, status, { size: 10.5, fill: '#ffffff', anchor: 'middle', weight: 'bold' })}`;
}

interface TextStyle {
  size: number;
  fill?: string;
  weight?: 'bold';
  style?: 'italic';
  anchor?: 'middle' | 'end';
  family?: string;
  /** A white outline so the text reads over lifelines. */
  halo?: boolean;
}

function text(x: number, y: number, content: string, style: TextStyle): string {
  const attrs = [`x="${round(x)}"`, `y="${round(y)}"`, `font-size="${style.size}"`, `fill="${style.fill ?? INK}"`];
  if (style.weight !== undefined) attrs.push(`font-weight="${style.weight}"`);
  if (style.style !== undefined) attrs.push(`font-style="${style.style}"`);
  if (style.anchor !== undefined) attrs.push(`text-anchor="${style.anchor}"`);
  if (style.family !== undefined) attrs.push(`font-family="${style.family}"`);
  if (style.halo === true) attrs.push('stroke="#ffffff" stroke-width="3" paint-order="stroke"');
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function clip(content: string, maxChars: number): string {
  const max = Math.max(4, Math.floor(maxChars));
  return content.length <= max ? content : `${content.slice(0, max - 1)}…`;
}

/** Lines of at most `maxChars` (a longer word gets a line of its own). */
function wrap(content: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of content.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

function escapeXml(content: string): string {
  return content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
