#!/usr/bin/env node
/**
 * The `mesos-http-scheduler` command. Parses flags, turns bad input into one
 * line on stderr and exit status 2, and otherwise runs the scheduler and exits
 * with its status. Nothing else happens here.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { CommanderError } from 'commander';
import { createLogger } from '../observability/logger.js';
import { runFromConfig } from '../runtime/run-from-config.js';
import { normalizeGoFlags } from './argv.js';
import { registerLocalMasterCommand } from './commands/local-master.js';
import { ConfigError, PROGRAM_NAME, buildConfig, defaultStateFile, type Config, type ConfigEnv, type RawFlags } from './config.js';
import { buildProgram, longName, schedulerFlags } from './program.js';

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PROGRAM_NAME && pkg.version) return pkg.version;
    } catch { /* try the next location */ }
  }
  return '0.0.0';
}

function configEnv(): ConfigEnv {
  let username = process.env.USER ?? '';
  try { username = userInfo().username; } catch { /* no passwd entry: keep $USER */ }
  return { username, homedir: homedir(), env: process.env, readFile: (path) => readFileSync(path, 'utf8') };
}

function usageError(message: string): number {
  const line = message.replace(/^error:\s*/, '').replace(/^unknown option/, 'unknown flag').replace(/\s*\n\s*/g, ' ').trim();
  process.stderr.write(`${PROGRAM_NAME}: ${line}\nTry '${PROGRAM_NAME} --help'.\n`);
  return EXIT_USAGE;
}

export async function main(argv: readonly string[]): Promise<number | undefined> {
  const env = configEnv();
  const stateFileHelp = defaultStateFile('<name>', env);
  const program = buildProgram(stateFileHelp, env.username, version())
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  registerLocalMasterCommand(program);
  let flags: RawFlags | undefined;
  program.action((opts: RawFlags) => { flags = opts; });

  const specs = schedulerFlags(stateFileHelp, env.username);
  const names = new Set(specs.map((s) => longName(s.flags)));
  const withValue = new Set(specs.filter((s) => s.flags.includes('<')).map((s) => longName(s.flags)));
  const subcommands = new Set(program.commands.map((c) => c.name()));
  const args = argv[0] !== undefined && subcommands.has(argv[0]) ? [...argv] : normalizeGoFlags(argv, names, withValue);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return usageError(err.message);
    }
    throw err;
  }
  if (!flags) return undefined; // a subcommand ran and owns the process from here

  let config: Config;
  try {
    config = buildConfig(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) return usageError(err.message);
    throw err;
  }
  const log = createLogger({ format: config.logFormat, debug: config.debug });
  try {
    return await runFromConfig(config, log);
  } catch (err) {
    log.error({ err }, (err as Error).message);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${PROGRAM_NAME}: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
