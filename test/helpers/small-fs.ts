/**
 * A small tmpfs of its own (the tests run as root), for state writes that
 * fail for real: `fill()` takes the free space (writes then fail with
 * ENOSPC), `free()` gives it back. Unmounted after the test.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export interface SmallFs {
  dir: string;
  /** Takes every free byte (a filler file); writes fail with ENOSPC until free(). */
  fill(): void;
  free(): void;
}

export function withSmallFs(t: Pick<TestContext, 'after'>, bytes = 1024 * 1024): SmallFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mhs-smallfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const filler = path.join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      // Byte by byte for the last partial block.
      try {
        for (;;) fs.writeSync(fd, chunk, 0, 1);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
  };
}
