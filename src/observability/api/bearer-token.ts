/**
 * The status port's bearer token (`--http-token-file`). It is never printed:
 * logging or serialising the config shows `[redacted]`. Comparison takes the
 * same time whatever the guess (both sides hashed, then timingSafeEqual).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

export class BearerToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = digest(token);
  }

  /** True when `authorization` is `Bearer <the token>`. */
  matches(authorization: string | undefined): boolean {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), this.#digest);
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'BearerToken [redacted]';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
