/**
 * FrameworkInfo checks the master makes when SUBSCRIBE (or UPDATE_FRAMEWORK)
 * arrives (master.cpp validateFramework, validation.cpp framework::validate:
 * roles, framework id, failover timeout, in that order;
 * validateUpdate, validateSuppressedRoles); a failure is sent to the scheduler
 * as an ERROR event (a 400 answer for UPDATE_FRAMEWORK).
 */
import type { FrameworkInfo } from '../mesos/types.js';
import { stringifyDouble } from './cpp-format.js';
import { roleNameError } from './role-name.js';
import { validateId } from './task-validation.js';

const NANOS_PER_SECOND = 1e9;
const INT64_MAX = 9223372036854775807;
const INT64_MIN = -9223372036854775808;

/**
 * stout's Duration::create(double seconds): any number of seconds whose
 * nanoseconds fit an int64 (negative ones too; NaN passes both comparisons).
 */
function isDuration(seconds: number): boolean {
  const nanos = seconds * NANOS_PER_SECOND;
  return !(nanos > INT64_MAX || nanos < INT64_MIN);
}

export function validateFrameworkInfo(
  info: FrameworkInfo,
  suppressedRoles: readonly string[],
  isRemoved: (id: string) => boolean,
): string | undefined {
  const multiRole = (info.capabilities ?? []).some((c) => c.type === 'MULTI_ROLE');
  const roles = info.roles ?? [];
  if (multiRole && info.role !== undefined) return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  if (!multiRole && roles.length > 0) return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  const duplicates = [...new Set(roles.filter((role, i) => roles.indexOf(role) !== i))];
  if (multiRole && duplicates.length > 0) return `'FrameworkInfo.roles' contains duplicate items: { ${duplicates.join(', ')} }`;
  if (multiRole) {
    for (const role of roles) {
      const bad = roleNameError(role);
      if (bad) return `'FrameworkInfo.roles' contains invalid role: ${bad}`;
    }
  } else {
    const bad = roleNameError(info.role ?? '*');
    if (bad) return `'FrameworkInfo.role' is not a valid role: ${bad}`;
  }
  const badId = info.id?.value ? validateId(info.id.value) : undefined;
  if (badId) return badId;
  const ft = info.failover_timeout;
  if (ft !== undefined && !isDuration(ft)) return `The framework failover_timeout (${stringifyDouble(ft)}) is invalid`;
  if (info.id && isRemoved(info.id.value)) return 'Framework has been removed';
  const effective = multiRole ? roles : [info.role ?? '*'];
  return suppressedRolesError(effective, suppressedRoles);
}

/** validation.cpp validateSuppressedRoles (the roles printed as a sorted set). */
export function suppressedRolesError(roles: readonly string[], suppressedRoles: readonly string[]): string | undefined {
  const bad = [...new Set(suppressedRoles.filter((r) => !roles.includes(r)))].sort();
  return bad.length > 0 ? `Suppressed roles { ${bad.join(', ')} } are not contained in the set of roles` : undefined;
}

/** The roles a FrameworkInfo subscribes with (protobuf::framework::getRoles). */
export function rolesOfInfo(info: FrameworkInfo): string[] {
  const multiRole = (info.capabilities ?? []).some((c) => c.type === 'MULTI_ROLE');
  return multiRole ? [...new Set(info.roles ?? [])] : [info.role ?? '*'];
}

/** validation.cpp framework::validateUpdate: the fields UPDATE_FRAMEWORK may not change. */
export function frameworkUpdateError(old: FrameworkInfo, next: FrameworkInfo): string | undefined {
  if (old.principal !== next.principal) return "Changing framework's principal is not allowed.";
  if (old.user !== next.user) return `Updating 'FrameworkInfo.user' is unsupported; attempted to update from '${old.user}' to '${next.user}'`;
  const [was, now] = [old.checkpoint ?? false, next.checkpoint ?? false];
  if (was !== now) return `Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '${String(was)}' to '${String(now)}'`;
  return undefined;
}
