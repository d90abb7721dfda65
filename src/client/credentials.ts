/**
 * HTTP basic credentials for `--principal` / `--secret-file`. The secret is
 * kept inside a closure so that logging, JSON.stringify or util.inspect of a
 * config object never shows it.
 */
import { inspect } from 'node:util';

export class Credentials {
  readonly principal: string;
  readonly #authorization: string;

  constructor(principal: string, secret: string) {
    this.principal = principal;
    this.#authorization = `Basic ${Buffer.from(`${principal}:${secret}`, 'utf8').toString('base64')}`;
  }

  /** The `Authorization` header value sent on every request. */
  authorizationHeader(): string {
    return this.#authorization;
  }

  toJSON(): { principal: string; secret: string } {
    return { principal: this.principal, secret: '[redacted]' };
  }

  [inspect.custom](): string {
    return `Credentials { principal: '${this.principal}', secret: [redacted] }`;
  }
}
