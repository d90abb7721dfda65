/**
 * The defaults of the command-line flags, as commander shows them in --help.
 * One source of truth: the flags (src/cli/config.ts) and the jobs file
 * (src/jobs/) both fill missing values from here.
 */
export const PROGRAM_NAME = 'mesos-http-scheduler';
export const DEFAULT_MASTER = '127.0.0.1:5050';

export const DEFAULTS = Object.freeze({
  master: DEFAULT_MASTER,
  cmd: "echo 'Hello World'",
  cpu: '0.1',
  mem: '64',
  maxtasks: '5',
  wait: '60',
  rounds: '0',
  name: PROGRAM_NAME,
  role: '*',
  failoverTimeout: '604800',
  contentType: 'protobuf',
  grace: '30',
  containerizer: 'docker',
  logFormat: 'auto',
  callTimeout: '75',
  stateTimeout: '10',
  httpHost: '127.0.0.1',
  history: '100',
});
