/**
 * Problems found in a jobs file, each placed at a line and column and named
 * by job and field, and printed one per line:
 *
 *   jobs.yaml:7:15: job 'load', schedule.cron: not a valid cron expression (...)
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface JobsFileProblem {
  file: string;
  line: number;
  column: number;
  /** The job's name, or `#n` (1-based) when it has no usable name. */
  job?: string;
  /** The field inside the job (`schedule.cron`, `constraints[0]`), or at the top (`jobs`). */
  field?: string;
  message: string;
}

export function formatProblem(p: JobsFileProblem): string {
  const where = [p.job !== undefined ? `job ${p.job.startsWith('#') ? p.job : `'${p.job}'`}` : undefined, p.field].filter((x) => x !== undefined).join(', ');
  return `${p.file}:${p.line}:${p.column}: ${where === '' ? '' : `${where}: `}${p.message}`;
}

/** A jobs file that cannot be used; `lines` has one line per problem. */
export class JobsFileError extends Error {
  readonly code = 'JOBS_FILE';
  readonly lines: readonly string[];
  constructor(readonly problems: readonly JobsFileProblem[]) {
    const lines = problems.map(formatProblem);
    super(lines.join('\n'));
    this.name = 'JobsFileError';
    this.lines = lines;
  }
}

export type PathSegment = string | number;

/** Maps paths in the parsed data to line and column in the text. */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  position(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The node at `path`, or the deepest node on the way there. */
  private deepest(path: readonly PathSegment[]): { node: Node | null; depth: number } {
    let node = this.doc.contents as Node | null;
    let depth = 0;
    for (const segment of path) {
      const child = childOf(node, segment);
      if (child === undefined) break;
      node = child.value;
      depth++;
    }
    return { node, depth };
  }

  /** Where the value at `path` starts (or its nearest existing parent). */
  at(path: readonly PathSegment[]): { line: number; column: number } {
    const { node } = this.deepest(path);
    return this.position(node?.range?.[0] ?? 0);
  }

  /** Where the key `name` of the map at `path` starts (the map itself when the key is missing). */
  keyAt(path: readonly PathSegment[], name: string): { line: number; column: number } {
    const { node, depth } = this.deepest(path);
    if (depth === path.length) {
      const key = childOf(node, name)?.key;
      if (key?.range) return this.position(key.range[0]);
    }
    return this.position(node?.range?.[0] ?? 0);
  }
}

function childOf(node: Node | null, segment: PathSegment): { key?: Node; value: Node | null } | undefined {
  if (isSeq(node)) {
    const index = typeof segment === 'number' ? segment : /^\d+$/.test(segment) ? Number(segment) : -1;
    const item = node.items[index];
    return item === undefined ? undefined : { value: item as Node | null };
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const keyValue = isScalar(key) ? key.value : key;
      if (String(keyValue) === String(segment)) return { ...(key ? { key } : {}), value: pair.value as Node | null };
    }
  }
  return undefined;
}

/** `schedule.cron`, `constraints[0][1]`, `env.FOO` from path segments inside a job. */
export function fieldName(path: readonly PathSegment[]): string | undefined {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? undefined : out;
}
