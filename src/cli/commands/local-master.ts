/**
 * `mesos-http-scheduler local-master`: runs the embedded Mesos-compatible
 * masters and agents as their own process, so a scheduler (ours or any other
 * Mesos v1 client) can be pointed at it. Prints one line per master on stdout,
 * runs until SIGINT/SIGTERM, then stops everything (task processes included)
 * and exits 0. The admin/fault endpoint is under /emulator/ on each master's
 * port (see src/emulator/admin.ts).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import { KEEP_CALLS_LONG_LIVED, startCluster, type Cluster, type ClusterOptions } from '../../emulator/index.js';

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

function mode(value: string): 'process' | 'simulated' {
  if (value !== 'process' && value !== 'simulated') throw new InvalidArgumentError("expected 'process' or 'simulated'");
  return value;
}

function images(value: string): 'host' | 'refuse' {
  if (value !== 'host' && value !== 'refuse') throw new InvalidArgumentError("expected 'host' or 'refuse'");
  return value;
}

interface LocalMasterFlags {
  host: string;
  port: number;
  masters: number;
  agents: number;
  cpus?: number;
  mem?: number;
  disk?: number;
  agentAttributes?: string[];
  agentHostname?: string[];
  heartbeatInterval: number;
  allocationInterval: number;
  offerTimeout?: number;
  agentReregisterDelay: number;
  masterRestartTime: number;
  workDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  credentials?: string;
  mode: 'process' | 'simulated';
  taskDuration: number;
  containerImages: 'host' | 'refuse';
  logLevel: string;
}

class FlagError extends Error {}

function readCredentials(file: string): { principal: string; secret: string }[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FlagError(`--credentials: cannot read JSON from '${file}': ${(err as Error).message}`);
  }
  // Accept a plain list or Mesos' own credentials file form {"credentials": [...]}.
  const list = Array.isArray(value) ? value : (value as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => c && typeof c.principal === 'string' && typeof c.secret === 'string')) {
    throw new FlagError(`--credentials: '${file}' must hold a non-empty JSON list of {"principal": "...", "secret": "..."}`);
  }
  return list.map((c: { principal: string; secret: string }) => ({ principal: c.principal, secret: c.secret }));
}

function readFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FlagError(`${flag}: cannot read '${file}': ${(err as Error).message}`);
  }
}

export function toClusterOptions(flags: LocalMasterFlags): ClusterOptions {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new FlagError('--tls-cert and --tls-key must be given together');
  return {
    host: flags.host,
    port: flags.port,
    masters: flags.masters,
    agents: flags.agents,
    ...(flags.cpus !== undefined ? { cpusPerAgent: flags.cpus } : {}),
    ...(flags.mem !== undefined ? { memPerAgent: flags.mem } : {}),
    ...(flags.disk !== undefined ? { diskPerAgent: flags.disk } : {}),
    ...(flags.agentAttributes ? { agentAttributes: flags.agentAttributes } : {}),
    ...(flags.agentHostname ? { agentHostnames: flags.agentHostname } : {}),
    heartbeatIntervalSeconds: flags.heartbeatInterval,
    allocationIntervalMs: flags.allocationInterval,
    ...(flags.offerTimeout !== undefined ? { offerTimeoutMs: flags.offerTimeout * 1000 } : {}),
    agentReregisterDelayMs: flags.agentReregisterDelay,
    masterRestartMs: flags.masterRestartTime * 1000,
    ...(flags.workDir !== undefined ? { workDir: flags.workDir } : {}),
    ...(flags.tlsCert && flags.tlsKey ? { tls: { cert: readFile('--tls-cert', flags.tlsCert), key: readFile('--tls-key', flags.tlsKey) } } : {}),
    ...(flags.credentials ? { credentials: readCredentials(flags.credentials) } : {}),
    mode: flags.mode,
    simulatedTaskMs: flags.taskDuration * 1000,
    containerImages: flags.containerImages,
    keepCalls: KEEP_CALLS_LONG_LIVED,
  };
}

export function registerLocalMasterCommand(program: Command): void {
  program
    .command('local-master')
    .description('run embedded Mesos-compatible masters and agents on this machine (for trying things out and for tests)')
    .option('--host <address>', 'address to listen on and advertise', '127.0.0.1')
    .option('--port <port>', 'port of the first master; the others use the next ones (0 = ephemeral)', integer(0, 65535), 5050)
    .option('--masters <n>', 'number of masters (the first leads)', integer(1, 64), 1)
    .option('--agents <n>', 'number of agents', integer(0, 1_000_000), 1)
    .option('--cpus <n>', 'CPUs per agent (default: this machine\'s)', positiveNumber)
    .option('--mem <mb>', 'memory per agent in MB (default: this machine\'s)', positiveNumber)
    .option('--disk <mb>', 'disk per agent in MB (default 10240)', positiveNumber)
    .option('--agent-attributes <attributes>', "agent attributes as the Mesos agent's --attributes takes them ('rack:r1;zone:eu-1'; text, scalar or [ranges]); repeat to give agents different ones: agent i gets the i-th (cycling)", collect)
    .option('--agent-hostname <name>', 'hostname of an agent as offers show it (default: --host); repeat for different agents: agent i gets the i-th (cycling)', collect)
    .option('--heartbeat-interval <seconds>', 'seconds between HEARTBEAT events', positiveNumber, 15)
    .option('--allocation-interval <ms>', 'milliseconds between allocation runs', integer(1), 1000)
    .option('--offer-timeout <seconds>', 'rescind offers not answered within this many seconds', positiveNumber)
    .option('--agent-reregister-delay <ms>', 'after a leader change, agents re-register with the new leader after this long', integer(0), 0)
    .option('--master-restart-time <seconds>', 'a master that loses leadership exits (its connections are cut) and refuses connections this long before it answers as a non-leader', nonNegativeNumber, 2)
    .option('--work-dir <dir>', 'sandbox root (default: a temp dir removed at exit)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--credentials <file>', 'JSON list of {principal, secret}: require HTTP basic auth from schedulers')
    .option('--mode <mode>', "'process' runs tasks as local processes, 'simulated' only pretends", mode, 'process')
    .option('--task-duration <seconds>', 'how long simulated tasks run', positiveNumber, 1)
    .option('--container-images <policy>', "tasks with a container image: 'host' runs them on the host with a warning, 'refuse' fails them", images, 'host')
    .option('--log-level <level>', 'log level of the emulator (logs go to stderr)', 'warn')
    .action(async (flags: LocalMasterFlags) => {
      let cluster: Cluster;
      try {
        const logger = pino({ level: flags.logLevel }, pino.destination(2));
        cluster = await startCluster({ ...toClusterOptions(flags), logger });
      } catch (err) {
        process.stderr.write(`local-master: ${(err as Error).message}\n`);
        process.exit(2);
      }
      for (const m of cluster.masters) {
        process.stdout.write(`master ${m.index + 1}${m.index === cluster.leaderIndex() ? ' (leading)' : ''} listening on ${m.url}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await cluster.stop();
      process.exit(0);
    });
}
