/**
 * The commander program: flags, defaults and help text. Parsing only; the
 * values are validated by config.ts and acted on by main.ts.
 */
import { Command, Option } from 'commander';
import { DEFAULTS, DEFAULT_INSPECT_PORT, PROGRAM_NAME } from './config.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface FlagSpec {
  flags: string;
  description: string;
  defaultValue?: string;
  repeatable?: boolean;
}

/** Every long flag of the scheduler; `takesValue` tells the Go-style rewriter which ones eat the next argument. */
export function schedulerFlags(defaultStateFile: string, defaultUser: string, machine: { cpus: number; memMb: number }): FlagSpec[] {
  return [
    { flags: '--jobs <file>', description: 'run the jobs of this YAML or JSON file in one framework, instead of the one job the flags describe (docs/jobs-file.md)' },
    { flags: '--master <addresses>', description: "leading master: host:port[,host:port...] (https://host:port for TLS), zk://host:2181/mesos, or 'local' for an embedded master", defaultValue: DEFAULTS.master },
    { flags: '--cmd <command>', description: 'shell command every task runs', defaultValue: DEFAULTS.cmd },
    { flags: '--cpu <cpus>', description: 'CPUs per task', defaultValue: DEFAULTS.cpu },
    { flags: '--mem <mb>', description: 'memory per task in MB', defaultValue: DEFAULTS.mem },
    { flags: '--maxtasks <n>', description: 'tasks per round (also the most that run at once)', defaultValue: DEFAULTS.maxtasks },
    { flags: '--user <name>', description: `Unix user the tasks run as (default: the current user, ${defaultUser})` },
    { flags: '--wait <seconds>', description: 'cooldown between rounds; no resources are held meanwhile', defaultValue: DEFAULTS.wait },
    { flags: '--img <image>', description: 'Docker image to run the command in (none: plain command on the agent)' },
    { flags: '--debug', description: 'log protocol detail (every call and event) and each task\'s launch and states on the way' },
    { flags: '--rounds <n>', description: 'rounds to run, 0 = forever; exit 0 only if every task of every round finished', defaultValue: DEFAULTS.rounds },
    { flags: '--name <name>', description: 'framework name, prefix of task ids', defaultValue: DEFAULTS.name },
    { flags: '--role <role>', description: 'Mesos role to receive offers for', defaultValue: DEFAULTS.role },
    { flags: '--failover-timeout <seconds>', description: 'how long Mesos keeps tasks running while this scheduler is away', defaultValue: DEFAULTS.failoverTimeout },
    { flags: '--content-type <type>', description: 'wire format: protobuf or json', defaultValue: DEFAULTS.contentType },
    { flags: '--principal <name>', description: 'principal for HTTP basic authentication (also FrameworkInfo.principal)' },
    { flags: '--secret-file <path>', description: 'file holding the secret of --principal (never pass secrets as arguments)' },
    { flags: '--task-timeout <seconds>', description: 'Mesos kills a task that runs longer (TaskInfo.max_completion_time); 0 = no limit', defaultValue: '0' },
    { flags: '--grace <seconds>', description: 'on SIGINT/SIGTERM, time running tasks get to finish before they are killed', defaultValue: DEFAULTS.grace },
    { flags: '--ca-file <path>', description: 'PEM file of the CA that signs the masters\' certificates (https:// masters)' },
    { flags: '--env <KEY=VALUE>', description: 'environment variable of every task (repeatable)', repeatable: true },
    { flags: '--uri <url>', description: 'URI the Mesos fetcher downloads into every task sandbox (repeatable)', repeatable: true },
    { flags: '--containerizer <kind>', description: 'containerizer for --img: docker or mesos', defaultValue: DEFAULTS.containerizer },
    { flags: '--log-format <format>', description: 'auto (pretty on a terminal, JSON otherwise), json or pretty', defaultValue: DEFAULTS.logFormat },
    { flags: '--state-file <path>', description: `journal of the framework id, round and tasks in flight (default: ${defaultStateFile}, <name> = --name; with --master local a temporary file of that run)` },
    { flags: '--reset-state', description: 'start afresh: forget the stored state, e.g. one of another cluster (the tasks it had in flight are logged, not adopted)' },
    { flags: '--ha <zk-url>', description: 'run as one of several schedulers; leader election in ZooKeeper at this URL' },
    { flags: '--local-cpus <cpus>', description: `CPUs of the embedded agent with --master local (default: this machine's, ${machine.cpus})` },
    { flags: '--local-mem <mb>', description: `memory (MB) of the embedded agent with --master local (default: this machine's, ${machine.memMb})` },
    { flags: '--local-attributes <attributes>', description: "attributes of the embedded agent with --master local, as the Mesos agent's --attributes takes them ('rack:r1;zone:eu-1')" },
    { flags: '--call-timeout <seconds>', description: 'time limit of one call to the master', defaultValue: DEFAULTS.callTimeout },
    { flags: '--state-timeout <seconds>', description: 'with --ha, a state write to ZooKeeper not done in this time counts as failed and is retried', defaultValue: DEFAULTS.stateTimeout },
    { flags: '--http-port <port>', description: 'serve the dashboard, /api, /health, /state and /metrics (Prometheus) on this port (0 = any free port)' },
    { flags: '--http-host <host>', description: 'address the status endpoint listens on; off loopback it needs --http-token-file', defaultValue: DEFAULTS.httpHost },
    { flags: '--http-token-file <path>', description: 'file holding the bearer token of the API, live stream, /state and task output (required when --http-host is not loopback)' },
    { flags: '--history <n>', description: 'rounds kept in the run history of the job (dashboard and /api)', defaultValue: DEFAULTS.history },
    { flags: '--notify-url <url>', description: 'POST a JSON event here on round failure, recovery, framework errors and HA leadership changes (repeatable)', repeatable: true },
    { flags: '--inspect [port]', description: `show the live machines in the Stately inspector: open http://127.0.0.1:<port> (default port ${DEFAULT_INSPECT_PORT})` },
  ];
}

export function longName(flags: string): string {
  return /--([\w-]+)/.exec(flags)![1]!;
}

export function buildProgram(defaultStateFile: string, defaultUser: string, machine: { cpus: number; memMb: number }, version: string): Command {
  const program = new Command(PROGRAM_NAME)
    .description('Run a command as N Mesos tasks in rounds, with a cooldown between rounds, over the Mesos v1 HTTP scheduler API.')
    .version(version, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    // Options after a subcommand's name belong to the subcommand: `local-master --mem 1000`
    // must not be read as the scheduler's own --mem (memory per task).
    .enablePositionalOptions();
  for (const spec of schedulerFlags(defaultStateFile, defaultUser, machine)) {
    const option = new Option(spec.flags, spec.description);
    if (spec.repeatable) option.argParser(collect);
    else if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    program.addOption(option);
  }
  return program;
}
