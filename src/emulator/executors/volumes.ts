/**
 * Persistent volumes in local mode. A real agent keeps a volume's data in
 * `<work_dir>/volumes/roles/<role>/<persistence id>` (src/slave/paths.cpp,
 * `/` in a role written as a space) and the `filesystem/posix` isolator links
 * it into the sandbox at the volume's relative `container_path`. The emulated
 * agents share one work dir, so each keeps its volumes under
 * `<workDir>/volumes/<agent id>/roles/<role>/<persistence id>`, linked (a
 * relative symlink) from `<sandbox>/<container_path>`. DESTROY removes the
 * data, as the agent does.
 */
import { mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Resource } from '../../mesos/types.js';

export function volumePath(workDir: string, agentId: string, role: string, persistenceId: string): string {
  return path.join(workDir, 'volumes', agentId, 'roles', role.replaceAll('/', ' '), persistenceId);
}

function reservationRole(r: Resource): string {
  const stack = r.reservations ?? [];
  return stack[stack.length - 1]?.role ?? r.role ?? '*';
}

/** Creates each persistent volume the resources name (if new) and links it into the sandbox; returns the volume directories. */
export async function linkVolumes(workDir: string, agentId: string, resources: readonly Resource[] | undefined, sandbox: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const r of resources ?? []) {
    const persistence = r.disk?.persistence;
    const containerPath = r.disk?.volume?.container_path;
    if (!persistence || containerPath === undefined) continue;
    if (path.isAbsolute(containerPath)) {
      // The posix filesystem isolator only maps volumes to relative paths.
      throw new Error(`Absolute container path '${containerPath}' is not supported`);
    }
    const dir = volumePath(workDir, agentId, reservationRole(r), persistence.id);
    await mkdir(dir, { recursive: true });
    const link = path.join(sandbox, containerPath);
    await mkdir(path.dirname(link), { recursive: true });
    // Relative, so that a task run as another user reaches the volume from its
    // sandbox without passing through the work dir's parents.
    await symlink(path.relative(path.dirname(link), dir), link);
    dirs.push(dir);
  }
  return dirs;
}

export async function removeVolume(workDir: string, agentId: string, role: string, persistenceId: string): Promise<void> {
  await rm(volumePath(workDir, agentId, role, persistenceId), { recursive: true, force: true });
}
