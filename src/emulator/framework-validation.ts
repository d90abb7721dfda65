/**
 * FrameworkInfo checks the master makes when SUBSCRIBE (or UPDATE_FRAMEWORK)
 * arrives (master.cpp validateFramework, validation.cpp framework::validate,
 * validateUpdate, validateSuppressedRoles); a failure is sent to the scheduler
 * as an ERROR event (a 400 answer for UPDATE_FRAMEWORK).
 */
import type { FrameworkInfo } from '../mesos/types.js';

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
  const ft = info.failover_timeout;
  if (ft !== undefined && (!Number.isFinite(ft) || ft < 0)) return `Invalid 'FrameworkInfo.failover_timeout': ${ft}`;
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
