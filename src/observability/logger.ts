/**
 * The root pino logger. JSON lines when stdout is not a terminal (or with
 * `--log-format json`), readable lines through pino-pretty on a terminal (or
 * with `--log-format pretty`). `--debug` lowers the level to debug, which adds
 * protocol detail (every call and event by type) and each task's launch and
 * states on the way (src/runtime/notifications.ts).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  format?: LogFormat;
  debug?: boolean;
  /** Where lines go; default stdout. Tests pass a sink. */
  destination?: DestinationStream & { isTTY?: boolean };
  /** Extra fields on every line (e.g. the framework name). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.debug ? 'debug' : 'info';
  const useTty = options.destination ? Boolean(options.destination.isTTY) : Boolean(process.stdout.isTTY);
  const prettyLines = options.format === 'pretty' || ((options.format ?? 'auto') === 'auto' && useTty);
  const base = options.base ?? {};
  if (prettyLines) {
    const stream = pretty({
      colorize: useTty,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // Messages say everything a reader needs; the fields are for JSON consumers and --debug.
      hideObject: !options.debug,
      ...(options.destination ? { destination: options.destination } : { destination: 1 }),
    });
    return pino({ level, base }, stream);
  }
  return pino({ level, base }, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

export type { Logger };
