/** Where the repository and the built CLI are, for the bench's child processes. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliMain = join(repoRoot, 'dist/src/cli/main.js');
