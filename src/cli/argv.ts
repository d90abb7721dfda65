/**
 * The original Go tool took single-dash long flags (`-master 10.0.0.1:5050`,
 * `-maxtasks=3`). Commander reads `-m...` as short options, so known long
 * names written with one dash are rewritten to two dashes before parsing.
 * Values of flags that take one are never rewritten, and nothing after `--`.
 */
export function normalizeGoFlags(argv: readonly string[], longNames: ReadonlySet<string>, takesValue: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let expectValue = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (expectValue) {
      out.push(arg);
      expectValue = false;
      continue;
    }
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([A-Za-z][\w-]+)(=.*)?$/.exec(arg);
    if (m && longNames.has(m[1]!)) {
      out.push(`--${m[1]}${m[2] ?? ''}`);
      expectValue = m[2] === undefined && takesValue.has(m[1]!);
      continue;
    }
    out.push(arg);
  }
  return out;
}
