/**
 * The OpenAPI 3.1 document of the status port's API, shipped in the package
 * and served at /api/openapi.json. test/observability/api-openapi.test.ts holds
 * the server to it: it validates real answers of a real CLI run against these
 * schemas.
 */
import { API_ERRORS } from './api-error.js';

const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Error${code}` }]));

const jobName = { name: 'name', in: 'path', required: true, description: 'the job\'s name (`--name`)', schema: str };
const bearer = [{ bearer: [] }];

const jobRequired = ['name', 'state', 'round', 'nextStartAt', 'paused', 'controls', 'definition', 'lastRun', 'recentRuns', 'roundsInFlight'];
const jobProperties = {
  name: str, state: ref('JobState'), round: int,
  nextStartAt: { ...nullable(time), description: 'when the next round starts (during cooldown)' },
  paused: { type: 'boolean', description: 'a pause was asked for: no new round starts until resumed (a round in progress finishes first)' },
  controls: { type: 'boolean', description: 'whether POST run, pause, resume and kill are served for this job' },
  definition: ref('Definition'), lastRun: nullable(ref('Run')),
  recentRuns: { type: 'array', items: ref('RunBrief'), description: 'the last 30 runs, oldest first (the sparkline)' },
  roundsInFlight: {
    type: 'array', items: ref('RunBrief'),
    description: 'the runs in progress, oldest first: one while a round runs, several while rounds overlap (`concurrency: allow`)',
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'mesos-http-scheduler status API',
    version: '1',
    description: 'Jobs, their run history and their current round, on the status port (`--http-port`). '
      + 'Off loopback (`--http-host`), every path but /api/openapi.json needs `Authorization: Bearer <token>` (`--http-token-file`).',
  },
  servers: [{ url: '/' }],
  security: bearer,
  paths: {
    '/api/jobs': {
      get: {
        operationId: 'listJobs', summary: 'every job with its state, next start and recent runs',
        responses: { 200: json(ref('JobList'), 'the jobs'), ...errors(401) },
      },
    },
    '/api/jobs/{name}': {
      get: {
        operationId: 'getJob', summary: 'one job with its current run and the counts of its tasks by state', parameters: [jobName],
        responses: { 200: json(ref('JobDetail'), 'the job'), ...errors(401, 404) },
      },
    },
    '/api/jobs/{name}/runs': {
      get: {
        operationId: 'listRuns', summary: 'the job\'s run history, newest first (the last `--history` runs)', parameters: [jobName],
        responses: { 200: json(ref('RunList'), 'the runs'), ...errors(401, 404) },
      },
    },
    '/api/jobs/{name}/runs/{run}': {
      get: {
        operationId: 'getRun', summary: 'one run', parameters: [jobName, { name: 'run', in: 'path', required: true, description: 'the run\'s number (`run`), which counts on across restarts and resets', schema: { type: 'integer', minimum: 1 } }],
        responses: { 200: json(ref('Run'), 'the run'), ...errors(401, 404) },
      },
    },
    '/api/jobs/{name}/tasks': {
      get: {
        operationId: 'listTasks', summary: 'a page of the tasks of the job\'s current round (its latest until the next starts), in launch order',
        parameters: [
          jobName,
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'filter', in: 'query', schema: { type: 'string', enum: ['all', 'active', 'finished', 'failed'], default: 'all' } },
        ],
        responses: { 200: json(ref('TaskPage'), 'the page'), ...errors(400, 401, 404) },
      },
    },
    '/api/jobs/{name}/tasks/{taskId}/{file}': {
      get: {
        operationId: 'getTaskOutput', summary: 'the end of a task\'s stdout or stderr (embedded master only)',
        parameters: [
          jobName,
          { name: 'taskId', in: 'path', required: true, schema: str },
          { name: 'file', in: 'path', required: true, schema: { type: 'string', enum: ['stdout', 'stderr'] } },
          { name: 'tail', in: 'query', description: 'bytes from the end of the file', schema: { type: 'integer', minimum: 0, maximum: 16777216, default: 1048576 } },
        ],
        responses: { 200: { description: 'the output', content: { 'text/plain': { schema: str } } }, ...errors(400, 401, 404) },
      },
    },
    ...Object.fromEntries((['run', 'pause', 'resume', 'kill'] as const).map((action) => [`/api/jobs/{name}/${action}`, {
      post: {
        operationId: `${action}Job`,
        summary: {
          run: 'start a round now: during the cooldown (or a pause) the next round starts at once; during a round 409 ROUND_IN_PROGRESS, '
            + 'unless the job\'s schedule has `concurrency: allow`: then the next round starts at once, alongside (409 while `max-in-flight` rounds run)',
          pause: 'start no new round until resumed; a round in progress finishes first',
          resume: 'a paused job carries on: the next round starts after a cooldown of --wait (a job with a schedule or parents: when they say; '
            + 'a start that came while it was paused runs at once)',
          kill: 'kill the tasks of the rounds in flight (KILL with a kill policy of --grace); no more of their tasks are launched or retried, '
            + 'the rounds end killed (not a success: no after: child runs on them)',
        }[action],
        parameters: [jobName],
        responses: { 200: json(ref('ControlResult'), 'what was done'), ...errors(401, 403, 404, 409, 503) },
      },
    }])),
    '/api/openapi.json': {
      get: { operationId: 'getOpenApi', summary: 'this document', security: [], responses: { 200: json({ type: 'object' }, 'the document') } },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the token of `--http-token-file`' } },
    responses: Object.fromEntries([400, 401, 403, 404, 405, 409, 503].map((code) => [`Error${code}`, json(ref('Error'), `error ${code}`)])),
    schemas: {
      Error: {
        type: 'object', additionalProperties: false, required: ['error'],
        properties: {
          error: {
            type: 'object', additionalProperties: false, required: ['code', 'message'],
            properties: { code: { type: 'string', enum: Object.keys(API_ERRORS) }, message: str },
          },
        },
      },
      JobState: { type: 'string', enum: ['waiting', 'running', 'cooldown', 'paused', 'done'] },
      Outcome: {
        type: 'string', enum: ['running', 'succeeded', 'failed', 'killed', 'interrupted'],
        description: 'killed: ended by us (POST kill, or a stop or removal that cut it short), never a success; '
          + 'interrupted: the round never finished here (the scheduler stopped or its state was reset first)',
      },
      Definition: {
        type: 'object', additionalProperties: false, required: ['cmd', 'cpus', 'memMb', 'maxTasks', 'waitSeconds', 'rounds', 'role'],
        properties: { cmd: str, cpus: { type: 'number' }, memMb: { type: 'number' }, maxTasks: int, waitSeconds: { type: 'number' }, rounds: int, role: str, image: str },
      },
      RunBrief: {
        type: 'object', additionalProperties: false, required: ['run', 'round', 'outcome', 'startedAt', 'durationMs'],
        properties: { run: int, round: int, outcome: ref('Outcome'), startedAt: time, durationMs: nullable(int) },
      },
      Job: { type: 'object', additionalProperties: false, required: jobRequired, properties: jobProperties },
      JobList: { type: 'object', additionalProperties: false, required: ['jobs'], properties: { jobs: { type: 'array', items: ref('Job') } } },
      JobDetail: {
        type: 'object', additionalProperties: false, required: [...jobRequired, 'currentRun', 'tasks', 'framework'],
        properties: {
          ...jobProperties,
          currentRun: nullable(ref('Run')),
          tasks: {
            type: 'object', additionalProperties: false, required: ['total', 'states'],
            properties: { total: int, states: { type: 'object', additionalProperties: int } },
          },
          framework: {
            type: 'object', additionalProperties: false, required: ['id', 'master', 'subscribed', 'fatal'],
            properties: { id: nullable(str), master: nullable(str), subscribed: { type: 'boolean' }, fatal: nullable(str) },
          },
        },
      },
      ControlResult: {
        type: 'object', additionalProperties: false, required: ['job', 'action', 'changed', 'message', 'state'],
        properties: {
          job: str, action: { type: 'string', enum: ['run', 'pause', 'resume', 'kill'] }, changed: { type: 'boolean' }, message: str,
          state: {
            type: 'object', additionalProperties: false, required: ['phase', 'paused', 'round', 'active', 'rounds'],
            properties: {
              phase: {
                type: 'string', enum: ['waiting', 'idle', 'round', 'cooldown', 'paused', 'draining', 'done'],
                description: 'idle: a job with a schedule or parents (--jobs) between rounds, waiting for them',
              },
              paused: { type: 'boolean' }, round: int, active: int,
              triggered: { type: 'boolean', description: 'its rounds start by its schedule or its parents (--jobs): a resume goes back to waiting for them' },
              rounds: { type: 'array', items: int, description: 'the rounds in flight, oldest first' },
              overlap: { type: 'boolean', description: '`concurrency: allow`: whether a run now starts another round alongside' },
            },
          },
        },
      },
      FailedTask: {
        type: 'object', additionalProperties: false, required: ['taskId', 'state', 'endedAt'],
        properties: { taskId: str, state: str, reason: str, source: str, message: str, agentId: str, endedAt: time },
      },
      Run: {
        type: 'object', additionalProperties: false,
        required: ['run', 'round', 'startedAt', 'outcome', 'tasks', 'launched', 'finished', 'failed', 'retried', 'failures', 'failuresNotListed'],
        properties: {
          run: { type: 'integer', minimum: 1 }, round: int, frameworkId: str, startedAt: time, endedAt: time, durationMs: int, outcome: ref('Outcome'),
          tasks: int, launched: int, finished: int, failed: int, retried: int,
          failures: { type: 'array', maxItems: 20, items: ref('FailedTask'), description: 'the first 20 failed tasks' },
          failuresNotListed: { ...int, description: 'failed tasks beyond the first 20' },
        },
      },
      RunList: {
        type: 'object', additionalProperties: false, required: ['job', 'limit', 'runs'],
        properties: { job: str, limit: int, runs: { type: 'array', items: ref('Run') } },
      },
      Task: {
        type: 'object', additionalProperties: false, required: ['taskId', 'round', 'state', 'updatedAt'],
        properties: {
          taskId: str, round: { ...int, description: 'the round of the task (rounds overlap with `concurrency: allow`)' },
          state: { type: 'string', description: 'TASK_* as Mesos says, PENDING before the first update' },
          agentId: str, reason: str, source: str, message: str, launchedAt: time, updatedAt: time, endedAt: time, ok: { type: 'boolean' },
          output: {
            oneOf: [
              { type: 'object', additionalProperties: false, required: ['stdout', 'stderr'], properties: { stdout: str, stderr: str } },
              { type: 'object', additionalProperties: false, required: ['sandbox'], properties: { sandbox: str } },
            ],
          },
        },
      },
      TaskPage: {
        type: 'object', additionalProperties: false, required: ['job', 'run', 'round', 'rounds', 'filter', 'offset', 'limit', 'total', 'tasks'],
        properties: {
          job: str, run: nullable(int), round: nullable(int), rounds: { type: 'array', items: int, description: 'the rounds whose tasks are listed: those in flight, else the latest' },
          filter: { type: 'string', enum: ['all', 'active', 'finished', 'failed'] },
          offset: int, limit: int, total: int, tasks: { type: 'array', items: ref('Task') },
        },
      },
    },
  },
} as const;
