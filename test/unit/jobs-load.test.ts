import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem, jobsFileProblemLines, JobsFileError, loadJobsFile, parseJobsFile } from '../../src/jobs/load.js';
import { parseDuration } from '../../src/jobs/duration.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const defaults = { username: 'etl' };
const root = join(import.meta.dirname, '..', '..');

/** The problem lines of a file's text (empty when it loads). */
function problems(text: string, file = 'jobs.yaml'): string[] {
  const result = parseJobsFile(file, text, defaults);
  return result.ok ? [] : result.problems.map(formatProblem);
}

function only(text: string, file = 'jobs.yaml'): string {
  const lines = problems(text, file);
  assert.equal(lines.length, 1, `one problem expected, got:\n${lines.join('\n')}`);
  return lines[0]!;
}

test('the sample file loads: the issue\'s three jobs with their fields and the flags\' defaults', () => {
  const result = parseJobsFile('examples/jobs.yaml', readFileSync(join(root, 'examples/jobs.yaml'), 'utf8'), defaults);
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  const [extract, load, drain] = result.jobs;
  assert.deepEqual(extract, {
    name: 'extract', cmd: './extract.sh', cpus: Number(DEFAULTS.cpu), memMb: Number(DEFAULTS.mem), maxTasks: 4,
    waitSeconds: Number(DEFAULTS.wait), rounds: 0, role: '*', graceSeconds: Number(DEFAULTS.grace), env: {}, uris: [],
    containerizer: 'docker', user: 'etl', labels: {},
    schedule: { kind: 'cron', cron: '0 3 * * *', timezone: 'Europe/Berlin', concurrency: 'forbid' },
    retries: { max: 2, backoffMs: 10_000, backoffMaxMs: 600_000 },
    constraints: [], after: [], priority: 0,
  });
  assert.deepEqual(load!.after, ['extract']);
  assert.deepEqual(load!.constraints, [{ field: 'rack', operator: 'GROUP_BY', value: '2' }]);
  assert.equal(load!.schedule, undefined);
  assert.equal(drain!.waitSeconds, 60);
  assert.equal(drain!.maxTasks, 5);
  assert.ok(Object.isFrozen(result.jobs) && Object.isFrozen(extract) && Object.isFrozen(extract!.schedule) && Object.isFrozen(load!.constraints));
});

test('every field is read: kebab-case keys, durations, maps, lists', () => {
  const result = parseJobsFile('all.yaml', `
jobs:
  - name: all.fields_1
    cmd: run --it
    cpu: 0.5
    mem: 256
    disk: 1024
    maxtasks: 3
    rounds: 7
    img: busybox:1
    containerizer: mesos
    env: { A: x, PORT: 8080, ON: true }
    uris: [http://h/a.tgz]
    user: batch
    role: etl
    task-timeout: 1h30m
    grace: 500ms
    labels: { team: data, tier: 2 }
    schedule: { every: 15m, concurrency: allow, starting-deadline: 2m, max-in-flight: 3 }
    retries: { max: 3, backoff: 5s, backoff-max: 1m }
    constraints: [["hostname", "UNIQUE"], ["rack", "GROUP_BY", 3], ["zone", "LIKE", "eu-.*"]]
    priority: -2
`, defaults);
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
  assert.deepEqual(result.jobs[0], {
    name: 'all.fields_1', cmd: 'run --it', cpus: 0.5, memMb: 256, diskMb: 1024, maxTasks: 3, waitSeconds: 60, rounds: 7,
    role: 'etl', graceSeconds: 0.5, env: { A: 'x', PORT: '8080', ON: 'true' }, uris: ['http://h/a.tgz'], image: 'busybox:1',
    containerizer: 'mesos', user: 'batch', taskTimeoutSeconds: 5400, labels: { team: 'data', tier: '2' },
    schedule: { kind: 'every', everyMs: 900_000, concurrency: 'allow', startingDeadlineMs: 120_000, maxInFlight: 3 },
    retries: { max: 3, backoffMs: 5_000, backoffMaxMs: 60_000 },
    constraints: [{ field: 'hostname', operator: 'UNIQUE' }, { field: 'rack', operator: 'GROUP_BY', value: '3' }, { field: 'zone', operator: 'LIKE', value: 'eu-.*' }],
    after: [], priority: -2,
  });
});

test('a JSON file loads the same way, and an empty jobs list is allowed', () => {
  const result = parseJobsFile('jobs.json', '{\n\t"$schema": "./schema/jobs.schema.json",\n\t"jobs": [ { "name": "a", "wait": "2m" } ]\n}\n', defaults);
  assert.ok(result.ok);
  assert.equal(result.jobs[0]!.waitSeconds, 120);
  assert.deepEqual(parseJobsFile('e.yaml', 'jobs: []\n', defaults), { ok: true, jobs: [] });
});

test('durations: units, run together, bare numbers are seconds', () => {
  const table: [unknown, number | undefined][] = [
    [30, 30_000], ['30', 30_000], ['30s', 30_000], ['15m', 900_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1h30m', 5_400_000],
    ['500ms', 500], [0.25, 250], ['1.5s', 1_500], [0, 0],
    ['', undefined], ['5y', undefined], ['m', undefined], ['-1s', undefined], [-1, undefined], ['1 h', undefined], [true, undefined], [null, undefined],
  ];
  for (const [input, want] of table) assert.equal(parseDuration(input), want, String(input));
});

test('a YAML syntax error names the file, line and column', () => {
  assert.equal(only('jobs:\n  - name: a\n    cmd: [unclosed\n'), 'jobs.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]');
});

test('a duplicate key is a syntax error', () => {
  assert.match(only('jobs:\n  - name: a\n    name: b\n'), /^jobs\.yaml:3:5: Map keys must be unique/);
});

test('a JSON syntax error, and YAML-only syntax in a .json file', () => {
  assert.match(only('{"jobs": [ {"name": "a",, } ]}', 'jobs.json'), /^jobs\.json:1:25: Unexpected , in flow map/);
  assert.match(only('{"jobs": [ {name: "a"} ]}', 'jobs.json'), /^jobs\.json:1:\d+: not valid JSON: /);
});

test('an empty file or one without jobs', () => {
  assert.equal(only(''), "jobs.yaml:1:1: must be a map with a 'jobs' list");
  assert.deepEqual(problems('name: a\n'), ["jobs.yaml:1:1: missing field 'jobs'", "jobs.yaml:1:1: name: unknown field 'name'"]);
  assert.equal(only('other: 1\njobs: []\n'), "jobs.yaml:1:1: other: unknown field 'other'");
  assert.equal(only('jobs: {}\n'), 'jobs.yaml:1:7: jobs: must be a list');
});

test('a wrong type names the job and field', () => {
  assert.equal(only('jobs:\n  - name: a\n    cpu: lots\n'), "jobs.yaml:3:10: job 'a', cpu: must be a number");
  assert.equal(only('jobs:\n  - name: a\n    maxtasks: 2.5\n'), "jobs.yaml:3:15: job 'a', maxtasks: must be a whole number");
  assert.equal(only('jobs:\n  - name: a\n    maxtasks: 0\n'), "jobs.yaml:3:15: job 'a', maxtasks: must be >= 1");
  assert.equal(only('jobs:\n  - name: a\n    cpu: 0\n'), "jobs.yaml:3:10: job 'a', cpu: must be > 0");
  assert.equal(only('jobs:\n  - name: a\n    uris: http://x\n'), "jobs.yaml:3:11: job 'a', uris: must be a list");
  assert.equal(only('jobs:\n  - name: a\n    env: { A: [1] }\n'), "jobs.yaml:3:15: job 'a', env.A: must be text (or a number or true/false)");
  assert.equal(only('jobs:\n  - name: a\n    containerizer: podman\n'), "jobs.yaml:3:20: job 'a', containerizer: must be one of docker, mesos");
  assert.equal(only('jobs:\n  - name: "a b"\n'), "jobs.yaml:2:11: job 'a b', name: may use only letters, digits, '.', '_' and '-'");
  assert.equal(only('jobs:\n  - name: a\n    role: "x/y"\n'), "jobs.yaml:3:11: job 'a', role: is not a valid Mesos role (no spaces or '/', not starting with '-', not '.' or '..')");
  assert.equal(only('jobs:\n  - name: a\n    cmd: "  "\n'), "jobs.yaml:3:10: job 'a', cmd: must not be empty");
  assert.equal(only('jobs:\n  - name: a\n    env: { 9X: y }\n'), "jobs.yaml:3:12: job 'a', env.9X: '9X' must be made of letters, digits and _ (not starting with a digit)");
});

test('a job without a name is named by its place', () => {
  assert.equal(only('jobs:\n  - name: a\n  - cmd: x\n'), 'jobs.yaml:3:5: job #2: missing field \'name\'');
});

test('an unknown key points at the key and suggests the known one', () => {
  assert.equal(only('jobs:\n  - name: a\n    maxtask: 3\n'), "jobs.yaml:3:5: job 'a', maxtask: unknown field 'maxtask' (did you mean 'maxtasks'?)");
  assert.equal(only('jobs:\n  - name: a\n    task_timeout: 3\n'), "jobs.yaml:3:5: job 'a', task_timeout: unknown field 'task_timeout' (did you mean 'task-timeout'?)");
  assert.equal(only('jobs:\n  - name: a\n    color: red\n'), "jobs.yaml:3:5: job 'a', color: unknown field 'color'");
  assert.equal(only('jobs:\n  - name: a\n    retries: { max: 1, backof: 2s }\n'), "jobs.yaml:3:24: job 'a', retries.backof: unknown field 'backof' (did you mean 'backoff'?)");
});

test('a bad duration', () => {
  const message = "must be a duration like '30s', '15m', '2h' or a number of seconds";
  assert.equal(only('jobs:\n  - name: a\n    grace: 5y\n'), `jobs.yaml:3:12: job 'a', grace: ${message}`);
  assert.equal(only('jobs:\n  - name: a\n    task-timeout: -3\n'), "jobs.yaml:3:19: job 'a', task-timeout: must not be negative");
  assert.equal(only('jobs:\n  - name: a\n    schedule: { every: soon }\n'), `jobs.yaml:3:24: job 'a', schedule.every: ${message}`);
  assert.equal(only('jobs:\n  - name: a\n    schedule: { every: 0s }\n'), "jobs.yaml:3:24: job 'a', schedule.every: must be longer than 0");
  assert.equal(only('jobs:\n  - name: a\n    retries: { max: 2, backoff: 1m, backoff-max: 10s }\n'), "jobs.yaml:3:50: job 'a', retries.backoff-max: must not be shorter than backoff");
});

test('a bad cron expression', () => {
  assert.equal(only('jobs:\n  - name: a\n    schedule: { cron: "61 * * * *" }\n'), "jobs.yaml:3:23: job 'a', schedule.cron: not a valid cron expression: Invalid value for minute: 61");
  assert.match(only('jobs:\n  - name: a\n    schedule: { cron: "0 3 * *" }\n'), /^jobs\.yaml:3:23: job 'a', schedule\.cron: not a valid cron expression: /);
  assert.match(only('jobs:\n  - name: a\n    schedule: { cron: "0 0 3 * * *" }\n'), /schedule\.cron: not a valid cron expression/, 'five fields, not six');
  assert.equal(only('jobs:\n  - name: a\n    schedule: { cron: "0 0 30 2 *" }\n'), "jobs.yaml:3:23: job 'a', schedule.cron: '0 0 30 2 *' never fires");
});

test('a bad time zone', () => {
  assert.equal(
    only('jobs:\n  - name: a\n    schedule: { cron: "0 3 * * *", timezone: Europe/Berlim }\n'),
    "jobs.yaml:3:46: job 'a', schedule.timezone: unknown IANA time zone 'Europe/Berlim' (like 'Europe/Berlin', 'America/New_York', 'UTC')",
  );
});

test('schedule shapes: every or cron, not both, timezone only with cron, concurrency', () => {
  assert.equal(only('jobs:\n  - name: a\n    schedule: { every: 1m, cron: "0 3 * * *" }\n'), "jobs.yaml:3:15: job 'a', schedule: takes 'every' or 'cron', not both");
  assert.equal(only('jobs:\n  - name: a\n    schedule: { concurrency: allow }\n'), "jobs.yaml:3:15: job 'a', schedule: needs 'every' or 'cron'");
  assert.equal(only('jobs:\n  - name: a\n    schedule: { every: 1m, timezone: UTC }\n'), "jobs.yaml:3:15: job 'a', schedule: 'timezone' goes with 'cron'");
  assert.equal(only('jobs:\n  - name: a\n    schedule: { every: 1m, concurrency: replace }\n'), "jobs.yaml:3:41: job 'a', schedule.concurrency: must be one of forbid, allow");
  assert.match(only('jobs:\n  - name: a\n    schedule: { every: 1m, concurrency: allow, max-in-flight: 0 }\n'), /^jobs\.yaml:3:\d+: job 'a', schedule\.max-in-flight: /);
  assert.equal(only('jobs:\n  - name: a\n    wait: 10\n    schedule: { every: 1m }\n'), "jobs.yaml:3:11: job 'a', wait: 'wait' is the cooldown of jobs without 'schedule' or 'after'; this job has 'schedule'");
});

test('a cycle names the jobs in it', () => {
  assert.equal(
    only('jobs:\n  - name: a\n    after: [c]\n  - name: b\n    after: [a]\n  - name: c\n    after: [b]\n'),
    "jobs.yaml:3:13: job 'a', after[0]: the jobs wait for each other in a cycle: c -> a -> b -> c",
  );
  assert.equal(only('jobs:\n  - name: self\n    after: [self]\n'), "jobs.yaml:3:13: job 'self', after[0]: the jobs wait for each other in a cycle: self -> self");
});

test('an unknown parent', () => {
  assert.equal(only('jobs:\n  - name: a\n  - name: b\n    after: [a, extrct]\n'), "jobs.yaml:4:16: job 'b', after[1]: no job is named 'extrct'");
  assert.equal(only('jobs:\n  - name: a\n  - name: b\n    after: [a, a]\n'), "jobs.yaml:4:12: job 'b', after: names the same entry twice (items 1 and 2)");
});

test('a job with parents takes no schedule', () => {
  assert.equal(
    only('jobs:\n  - name: a\n  - name: b\n    after: [a]\n    schedule: { every: 1h }\n'),
    "jobs.yaml:5:15: job 'b', schedule: a job with 'after' runs when its parents succeed and takes no 'schedule'",
  );
});

test('a duplicate name', () => {
  assert.equal(only('jobs:\n  - name: a\n  - name: b\n  - name: a\n'), "jobs.yaml:4:11: job 'a', name: another job (#1) has the name 'a'");
});

test('bad constraints: operator, arity, value, regular expression', () => {
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "NEAR"]]\n'), "jobs.yaml:3:28: job 'a', constraints[0][1]: must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: must be [field, operator] or [field, operator, value]");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "LIKE", "a", "b"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: must be [field, operator] or [field, operator, value]");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["hostname", "UNIQUE", "x"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: UNIQUE takes no value");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "MAX_PER"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: MAX_PER needs a whole number >= 1, got none");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "GROUP_BY", "many"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: GROUP_BY takes a whole number of groups >= 1 or no value, got 'many'");
  assert.match(only('jobs:\n  - name: a\n    constraints: [["zone", "LIKE", "eu-(.*"]]\n'), /^jobs\.yaml:3:19: job 'a', constraints\[0\]: LIKE: 'eu-\(\.\*' is not a valid regular expression/);
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["zone", "LIKE"]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: LIKE needs a regular expression");
  assert.equal(only('jobs:\n  - name: a\n    constraints: "hostname:UNIQUE"\n'), "jobs.yaml:3:18: job 'a', constraints: must be a list");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "MAX_PER", 1.5]]\n'), "jobs.yaml:3:19: job 'a', constraints[0]: MAX_PER needs a whole number >= 1, got '1.5'");
  assert.equal(only('jobs:\n  - name: a\n    constraints: [["rack", "IS", [1]]]\n'), "jobs.yaml:3:34: job 'a', constraints[0][2]: must be text or a number");
});

test('every problem of a file is reported, one line each, in the order of the file', () => {
  const lines = problems('jobs:\n  - name: a\n    cpu: x\n    maxtask: 1\n  - name: a\n    after: [ghost]\n');
  assert.deepEqual(lines, [
    "jobs.yaml:3:10: job 'a', cpu: must be a number",
    "jobs.yaml:4:5: job 'a', maxtask: unknown field 'maxtask' (did you mean 'maxtasks'?)",
    "jobs.yaml:5:11: job 'a', name: another job (#1) has the name 'a'",
    "jobs.yaml:6:13: job 'a', after[0]: no job is named 'ghost'",
  ]);
});

test('JSON files get positions too', () => {
  const text = '{\n  "jobs": [\n    { "name": "a", "cpu": "x" },\n    { "name": "b", "after": ["zz"] }\n  ]\n}\n';
  assert.deepEqual(problems(text, 'jobs.json'), [
    "jobs.json:3:27: job 'a', cpu: must be a number",
    "jobs.json:4:30: job 'b', after[0]: no job is named 'zz'",
  ]);
});

test('loadJobsFile reads the file; problems come as a JobsFileError with one line each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobs-load-'));
  try {
    const env = { username: 'etl', readFile: (p: string) => readFileSync(p, 'utf8') };
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'jobs:\n  - name: a\n');
    assert.equal(loadJobsFile(good, env)[0]!.name, 'a');
    assert.deepEqual(jobsFileProblemLines(good, env), []);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'jobs:\n  - name: a\n    cpu: x\n');
    assert.throws(() => loadJobsFile(bad, env), (err: unknown) => {
      assert.ok(err instanceof JobsFileError);
      assert.equal(err.code, 'JOBS_FILE');
      assert.deepEqual(err.lines, [`${bad}:3:10: job 'a', cpu: must be a number`]);
      return true;
    });
    assert.deepEqual(jobsFileProblemLines(bad, env), [`${bad}:3:10: job 'a', cpu: must be a number`]);
    assert.deepEqual(jobsFileProblemLines(join(dir, 'none.yaml'), env), [`${join(dir, 'none.yaml')}:1:1: the jobs file does not exist`]);
    assert.deepEqual(jobsFileProblemLines(dir, env), [`${dir}:1:1: the jobs file is a directory`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
