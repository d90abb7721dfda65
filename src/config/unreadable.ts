/** Why a file the user named could not be read, in words (for one-line errors). */
export function whyUnreadable(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES') return 'is not readable';
  if (code === 'EISDIR') return 'is a directory';
  return `cannot be read (${err instanceof Error ? err.message : String(err)})`;
}
