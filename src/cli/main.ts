#!/usr/bin/env node
/**
 * The `mesos-http-scheduler` command. Parses flags, turns bad input into one
 * line on stderr and exit status 2, and otherwise runs the scheduler and exits
 * with its status. Nothing else happens here.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, homedir, totalmem, userInfo } from 'node:os';
import { CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { AnyActorRef } from 'xstate';
import type { LocalMaster } from '../runtime/local-master.js';
import { RunHistory } from '../history/index.js';
import { startNotifications } from '../notify/index.js';
import { aroundProgressLine, attachObservability, describeActors, type Observability } from '../observability/index.js';
import { createLogger } from '../observability/logger.js';
import { JobCatalogue } from '../runtime/job-catalogue.js';
import { Signals } from '../runtime/signals.js';
import { runFromConfig } from '../runtime/run-from-config.js';
import { StateStoreError } from '../state/store.js';
import { normalizeGoFlags } from './argv.js';
import { registerLocalMasterCommand } from './commands/local-master.js';
import { JobsFileError } from '../jobs/load.js';
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
  return {
    username, homedir: homedir(), env: process.env, readFile: (path) => readFileSync(path, 'utf8'),
    machine: { cpus: availableParallelism(), memMb: Math.floor(totalmem() / (1024 * 1024)) },
  };
}

/** https when every listed master is https (the master's UI is on the same port). */
function masterScheme(config: Config): 'http' | 'https' {
  return config.master.kind === 'static' && config.master.urls.every((u) => u.startsWith('https:')) ? 'https' : 'http';
}

/** commander's key of a long flag: `task-timeout` → `taskTimeout`. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function usageError(message: string): number {
  const line = message.replace(/^error:\s*/, '').replace(/^unknown option/, 'unknown flag').replace(/\s*\n\s*/g, ' ').trim();
  process.stderr.write(`${PROGRAM_NAME}: ${line}\nTry '${PROGRAM_NAME} --help'.\n`);
  return EXIT_USAGE;
}

export async function main(argv: readonly string[]): Promise<number | undefined> {
  const env = configEnv();
  const stateFileHelp = defaultStateFile('<name>', env);
  const program = buildProgram(stateFileHelp, env.username, env.machine, version())
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  registerLocalMasterCommand(program);
  let flags: RawFlags | undefined;
  program.action((opts: RawFlags) => { flags = opts; });

  const specs = schedulerFlags(stateFileHelp, env.username, env.machine);
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
    const explicit = new Set([...names].filter((name) => program.getOptionValueSource(camelCase(name)) === 'cli'));
    config = buildConfig(flags, env, explicit);
  } catch (err) {
    if (err instanceof ConfigError) return usageError(err.message);
    if (err instanceof JobsFileError) {
      // One line per problem; nothing has contacted a master.
      for (const line of err.lines) process.stderr.write(`${PROGRAM_NAME}: ${line}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const signals = new Signals();
  // The jobs the API, dashboard, history and metrics show; a SIGHUP reload changes them.
  const catalogue = new JobCatalogue(config.jobs ?? [config.job], signals);
  const history = new RunHistory({ limit: config.historyLimit });
  let actor: AnyActorRef | undefined;
  let local: LocalMaster | undefined;
  let controlLog: Logger | undefined;
  let observability: Observability;
  try {
    observability = await attachObservability({
      signals,
      ...(config.httpPort !== undefined ? { httpPort: config.httpPort, httpHost: config.httpHost } : {}),
      ...(config.inspectPort !== undefined ? { inspectPort: config.inspectPort } : {}),
      progress: config.logFormat !== 'json',
      getMachineStates: () => describeActors({ framework: actor }),
      ...(config.httpToken ? { httpToken: config.httpToken } : {}),
      api: {
        history,
        // --jobs: every job of the file, as reloads change it.
        definitions: () => catalogue.list(),
        ...(config.master.kind === 'local' ? { sandboxOf: (taskId: string) => local?.sandboxOf(taskId) } : {}),
        masterUi: (master: string) => `${masterScheme(config)}://${master}`,
        frameworkActor: () => actor,
        log: () => controlLog,
      },
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const what = config.httpPort !== undefined && config.inspectPort !== undefined ? '--http-port or --inspect' : config.httpPort !== undefined ? '--http-port' : '--inspect';
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') return usageError(`${what}: cannot listen (${(err as Error).message})`);
    throw err;
  }
  const log = createLogger({
    format: config.logFormat, debug: config.debug,
    ...(observability.progress ? { destination: aroundProgressLine(observability.progress, process.stdout) } : {}),
  });
  controlLog = log;
  if (observability.statusUrl) log.info({ status: observability.statusUrl }, `dashboard: open ${observability.statusUrl}/ (API ${observability.statusUrl}/api/jobs; also /health, /state, /metrics)`);
  if (observability.inspectUrl) log.info({ inspector: observability.inspectUrl }, `inspector: open ${observability.inspectUrl}`);
  const notifications = startNotifications(config.notifyUrls, config.job.name, signals, history, log);
  try {
    return await runFromConfig(config, log, {
      signals,
      history,
      catalogue,
      ...(observability.inspect ? { inspect: observability.inspect } : {}),
      ...(observability.inspectTask ? { inspectTask: observability.inspectTask } : {}),
      onActor: (ref) => { actor = ref; },
      onLocalMaster: (started) => { local = started; },
    });
  } catch (err) {
    if (err instanceof StateStoreError && err.code === 'STATE_OTHER_CLUSTER') {
      // Bad input: the state given belongs elsewhere.
      process.stderr.write(`${PROGRAM_NAME}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    log.error({ err }, (err as Error).message);
    return EXIT_FAILURE;
  } finally {
    await notifications?.close();
    await observability.close();
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
