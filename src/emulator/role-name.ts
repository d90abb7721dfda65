/**
 * Role names as the Mesos master checks them (common/roles.cpp validate):
 * `*`, or a path of components separated by single slashes, none of them `.`,
 * `..` or `*`, none starting with a dash or holding whitespace or DEL.
 */
// eslint-disable-next-line no-control-regex
const INVALID_CHARACTERS = /[\t\n\u000b\f\r \u007f]/;

export function roleNameError(role: string): string | undefined {
  if (role === '*') return undefined;
  if (role.startsWith('/')) return `Role '${role}' cannot start with a slash`;
  if (role.endsWith('/')) return `Role '${role}' cannot end with a slash`;
  if (role.includes('//')) return `Role '${role}' cannot contain two adjacent slashes`;
  const components = role.split('/').filter((c) => c !== '');
  if (components.length === 0) return 'Role names cannot be the empty string';
  for (const component of components) {
    if (component === '.') return `Role '${role}' cannot include '.' as a component`;
    if (component === '..') return `Role '${role}' cannot include '..' as a component`;
    if (component === '*') return `Role '${role}' cannot include '*' as a component`;
    if (component.startsWith('-')) return `Role component '${component}' is invalid because it starts with a dash`;
    if (INVALID_CHARACTERS.test(component)) return `Role component '${component}' is invalid because it contains backspace or whitespace`;
  }
  return undefined;
}
