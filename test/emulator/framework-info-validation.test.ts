/**
 * The FrameworkInfo checks of a SUBSCRIBE, as the Mesos master makes them
 * (src/master/validation.cpp framework::validate: roles by common/roles.cpp,
 * the framework id by validateID, the failover timeout by stout's
 * Duration::create, printed by stringify(double)).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringifyDouble } from '../../src/emulator/cpp-format.js';
import { roleNameError } from '../../src/emulator/role-name.js';
import { withCluster } from '../helpers/emulator.js';
import { Subscription, subscribeCall } from './wire-client.js';

test('numbers in the master\'s messages are printed as a C++ ostream prints a double (%g, 6 digits)', () => {
  const cases: [number, string][] = [
    [-1, '-1'], [0, '0'], [0.5, '0.5'], [60, '60'], [123456, '123456'], [1234567, '1.23457e+06'],
    [1e10, '1e+10'], [1.5e19, '1.5e+19'], [1e100, '1e+100'], [0.0001, '0.0001'], [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'],
  ];
  for (const [x, printed] of cases) assert.equal(stringifyDouble(x), printed, String(x));
});

test('role names are checked as common/roles.cpp does', () => {
  for (const ok of ['*', 'a', 'a/b', 'eng/etl-1', 'a.b', 'a..b']) assert.equal(roleNameError(ok), undefined, ok);
  const bad: [string, string][] = [
    ['', 'Role names cannot be the empty string'],
    ['/a', "Role '/a' cannot start with a slash"],
    ['a/', "Role 'a/' cannot end with a slash"],
    ['a//b', "Role 'a//b' cannot contain two adjacent slashes"],
    ['a/./b', "Role 'a/./b' cannot include '.' as a component"],
    ['..', "Role '..' cannot include '..' as a component"],
    ['a/*', "Role 'a/*' cannot include '*' as a component"],
    ['a/-b', "Role component '-b' is invalid because it starts with a dash"],
    ['a b', "Role component 'a b' is invalid because it contains backspace or whitespace"],
  ];
  for (const [role, message] of bad) assert.equal(roleNameError(role), message, role);
});

async function refusal(t: { after: (fn: () => void) => void }, url: string, info: Record<string, unknown>): Promise<string | undefined> {
  const sub = await Subscription.open(url, subscribeCall('fw', info));
  t.after(() => sub.close());
  const first = await sub.next(() => true);
  return first.type === 'ERROR' ? first.error!.message : undefined;
}

test('SUBSCRIBE: a failover timeout is refused only when it does not fit a Duration; negative ones are taken, as Mesos takes them', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  assert.equal(await refusal(t, url, { failover_timeout: 1e10 }), 'The framework failover_timeout (1e+10) is invalid');
  assert.equal(await refusal(t, url, { failover_timeout: -1e10 }), 'The framework failover_timeout (-1e+10) is invalid');
  assert.equal(await refusal(t, url, { failover_timeout: -1 }), undefined);
  assert.equal(await refusal(t, url, { failover_timeout: 9e9 }), undefined);
});

test('SUBSCRIBE: invalid role names and framework ids are refused with the master\'s words, before the failover timeout is looked at', async (t) => {
  const c = await withCluster(t, { agents: 0 });
  const url = c.leaderUrl()!;
  assert.equal(await refusal(t, url, { role: 'a b', failover_timeout: 1e10 }), "'FrameworkInfo.role' is not a valid role: Role component 'a b' is invalid because it contains backspace or whitespace");
  assert.equal(await refusal(t, url, { roles: ['ok', '/etl'], capabilities: [{ type: 'MULTI_ROLE' }] }), "'FrameworkInfo.roles' contains invalid role: Role '/etl' cannot start with a slash");
  assert.equal(await refusal(t, url, { id: { value: 'a/b' }, failover_timeout: 1e10 }), "'a/b' contains invalid characters");
  assert.deepEqual(c.frameworks(), []);
});
