/**
 * The JSON Schema (draft 2020-12) of a jobs file. The loader validates with
 * it; `schema/jobs.schema.json` is this object written out for editors
 * (`npm run gen:schema`; a unit test fails when the file is stale).
 *
 * `x-messages` (an annotation editors ignore) gives the loader a plainer
 * message per failing keyword than ajv's own.
 */
import { DEFAULTS } from '../config/defaults.js';
import { CONSTRAINT_OPERATORS } from '../../machines/policy/constraints.js';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEZONE } from '../../machines/policy/schedule.js';
import { DEFAULT_RETRY_BACKOFF_MAX_MS, DEFAULT_RETRY_BACKOFF_MS } from '../../machines/policy/retry.js';

/** `30s`, `15m`, `2h`, `1h30m`, `500ms`, `1d`, or a number of seconds. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?|([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+)$';
const DURATION_MESSAGE = "must be a duration like '30s', '15m', '2h' or a number of seconds";

const duration = (description: string, defaultValue?: string | number): Record<string, unknown> => ({
  description,
  type: ['number', 'string'],
  minimum: 0,
  pattern: DURATION_PATTERN,
  ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  'x-messages': { pattern: DURATION_MESSAGE, type: DURATION_MESSAGE, minimum: 'must not be negative' },
});

const nonBlank = (description: string): Record<string, unknown> => ({
  description,
  type: 'string',
  pattern: '\\S',
  'x-messages': { pattern: 'must not be empty' },
});

const stringMap = (description: string, keyPattern?: string, keyMessage?: string): Record<string, unknown> => ({
  description,
  type: 'object',
  ...(keyPattern ? { propertyNames: { pattern: keyPattern, 'x-messages': { pattern: keyMessage } } } : {}),
  additionalProperties: { type: ['string', 'number', 'boolean'], 'x-messages': { type: 'must be text (or a number or true/false)' } },
});

const job = {
  type: 'object',
  description: 'One job: rounds of tasks on Mesos.',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: {
      description: 'The job\'s name: unique in the file, prefix of its task ids.',
      type: 'string',
      pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]+$',
      'x-messages': { pattern: "may use only letters, digits, '.', '_' and '-'" },
    },
    cmd: { ...nonBlank('Shell command of every task.'), default: DEFAULTS.cmd },
    cpu: { description: 'CPUs per task.', type: 'number', exclusiveMinimum: 0, default: Number(DEFAULTS.cpu) },
    mem: { description: 'Memory per task, MB.', type: 'number', exclusiveMinimum: 0, default: Number(DEFAULTS.mem) },
    disk: { description: 'Disk per task, MB (default: none asked for).', type: 'number', exclusiveMinimum: 0 },
    maxtasks: { description: 'Tasks per round.', type: 'integer', minimum: 1, default: Number(DEFAULTS.maxtasks) },
    wait: duration('Cooldown between rounds (jobs without schedule or after).', Number(DEFAULTS.wait)),
    rounds: { description: 'Rounds to run; 0 = forever.', type: 'integer', minimum: 0, default: Number(DEFAULTS.rounds) },
    img: nonBlank('Docker image of the tasks.'),
    containerizer: { description: 'Containerizer for img.', enum: ['docker', 'mesos'], default: DEFAULTS.containerizer },
    env: stringMap('Environment variables of the tasks.', '^[A-Za-z_][A-Za-z0-9_]*$', 'must be made of letters, digits and _ (not starting with a digit)'),
    uris: { description: 'URIs the Mesos fetcher downloads into the sandbox.', type: 'array', items: nonBlank('A URI.') },
    user: nonBlank('Unix user the tasks run as (default: the user running the scheduler).'),
    role: {
      description: 'Mesos role of the job.',
      type: 'string',
      pattern: '^(?!\\.{1,2}$)(?!-)[^\\s/]+$',
      default: DEFAULTS.role,
      'x-messages': { pattern: "is not a valid Mesos role (no spaces or '/', not starting with '-', not '.' or '..')" },
    },
    'task-timeout': duration('How long a task may run before Mesos kills it (default: no limit).'),
    grace: duration('How long running tasks may finish after a stop before they are killed.', Number(DEFAULTS.grace)),
    labels: stringMap('Labels set on every task.'),
    schedule: {
      description: 'Start rounds by the clock instead of the cooldown: every or cron.',
      type: 'object',
      additionalProperties: false,
      properties: {
        every: duration('Start a round this often (the first at once).'),
        cron: { description: 'Five-field cron expression (minute hour day-of-month month day-of-week), quoted.', type: 'string' },
        timezone: { description: 'IANA time zone of cron.', type: 'string', default: DEFAULT_TIMEZONE },
        concurrency: {
          description: 'forbid: skip a start while the last round still runs; allow: start a new round at once, alongside the running ones.',
          enum: ['forbid', 'allow'], default: 'forbid',
        },
        'max-in-flight': {
          description: 'concurrency allow: the most rounds of the job in flight at once; a start beyond is skipped (logged and counted).',
          type: 'integer', minimum: 1, default: DEFAULT_MAX_IN_FLIGHT,
        },
        'starting-deadline': duration('A start missed while the scheduler was down runs at startup if it is younger than this (default: never).'),
      },
      anyOf: [{ required: ['every'] }, { required: ['cron'] }],
      not: { required: ['every', 'cron'] },
      dependentRequired: { timezone: ['cron'] },
      'x-messages': {
        anyOf: "needs 'every' or 'cron'",
        not: "takes 'every' or 'cron', not both",
        dependentRequired: "'timezone' goes with 'cron'",
      },
    },
    retries: {
      description: 'Relaunch a task that ends in anything but TASK_FINISHED.',
      type: 'object',
      additionalProperties: false,
      required: ['max'],
      properties: {
        max: { description: 'Relaunches per task at most.', type: 'integer', minimum: 0 },
        backoff: duration('Delay before the first relaunch.', `${DEFAULT_RETRY_BACKOFF_MS / 1000}s`),
        'backoff-max': duration('The delay doubles up to this.', `${DEFAULT_RETRY_BACKOFF_MAX_MS / 60_000}m`),
      },
    },
    constraints: {
      description: 'Placement constraints in Marathon\'s syntax: [field, operator] or [field, operator, value].',
      type: 'array',
      items: {
        type: 'array',
        minItems: 2,
        maxItems: 3,
        prefixItems: [
          { type: 'string', minLength: 1, 'x-messages': { minLength: 'the field must not be empty' } },
          { enum: [...CONSTRAINT_OPERATORS] },
          { type: ['string', 'number'] },
        ],
        'x-messages': { minItems: 'must be [field, operator] or [field, operator, value]', maxItems: 'must be [field, operator] or [field, operator, value]' },
      },
    },
    after: {
      description: 'Parent jobs: run a round when each has completed a successful round since this job\'s last one.',
      type: 'array',
      items: { type: 'string' },
      uniqueItems: true,
    },
    priority: { description: 'Jobs with higher priority are served offers first; equal ones share.', type: 'integer', default: 0 },
  },
} as const;

export const JOBS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:mesos-http-scheduler:jobs',
  title: 'mesos-http-scheduler jobs file',
  description: 'Jobs run by one mesos-http-scheduler framework (--jobs FILE). See docs/jobs-file.md.',
  type: 'object',
  required: ['jobs'],
  additionalProperties: false,
  properties: {
    $schema: { description: 'Where editors find this schema.', type: 'string' },
    jobs: { description: 'The jobs.', type: 'array', items: { $ref: '#/$defs/job' } },
  },
  patternProperties: {
    '^x-': { description: 'Ignored: a place for YAML anchors shared by jobs (`x-defaults: &defaults`, then `<<: *defaults`).' },
  },
  $defs: { job },
  'x-messages': { type: "must be a map with a 'jobs' list" },
} as const;

/** The schema as written to schema/jobs.schema.json. */
export function jobsSchemaText(): string {
  return `${JSON.stringify(JOBS_SCHEMA, null, 2)}\n`;
}
