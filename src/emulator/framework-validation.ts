/**
 * FrameworkInfo checks the master makes when SUBSCRIBE (or UPDATE_FRAMEWORK)
 * arrives (master.cpp validateFramework, validation.cpp framework::validate);
 * a failure is sent to the scheduler as an ERROR event (400 for UPDATE_FRAMEWORK).
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
  if (multiRole && new Set(roles).size !== roles.length) return `'FrameworkInfo.roles' contains duplicate items: ${roles.join(', ')}`;
  const ft = info.failover_timeout;
  if (ft !== undefined && (!Number.isFinite(ft) || ft < 0)) return `Invalid 'FrameworkInfo.failover_timeout': ${ft}`;
  if (info.id && isRemoved(info.id.value)) return 'Framework has been removed';
  const effective = multiRole ? roles : [info.role ?? '*'];
  const bad = suppressedRoles.filter((r) => !effective.includes(r));
  if (bad.length > 0) return `Suppressed roles { ${bad.join(', ')} } are not contained in the set of roles`;
  return undefined;
}
