/**
 * TaskInfo of one task of the job (pure): a shell command run by the command
 * executor, optionally in a container image.
 */
import type { CommandInfo, ContainerInfo, Resource, TaskInfo } from '../../src/mesos/types.js';
import type { JobConfig } from '../contract.js';

/** Mesos ids must be non-empty and avoid '/', whitespace and control characters; keep it to a safe set. */
export function safeIdPart(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned.length > 0 ? cleaned : 'job';
}

/** `${name}-r${round}-t${index}-${runId}`: readable, and unique across rounds and restarts. */
export function taskIdFor(config: Pick<JobConfig, 'name' | 'runId'>, round: number, index: number): string {
  return `${safeIdPart(config.name)}-r${round}-t${index}-${safeIdPart(config.runId)}`;
}

export function commandFor(config: Pick<JobConfig, 'cmd' | 'env' | 'uris'>): CommandInfo {
  const command: CommandInfo = { shell: true, value: config.cmd };
  const variables = Object.entries(config.env).map(([name, value]) => ({ name, type: 'VALUE' as const, value }));
  if (variables.length > 0) command.environment = { variables };
  if (config.uris.length > 0) command.uris = config.uris.map((value) => ({ value }));
  return command;
}

export function containerFor(config: Pick<JobConfig, 'image' | 'containerizer'>): ContainerInfo | undefined {
  if (config.image === undefined || config.image === '') return undefined;
  if (config.containerizer === 'docker') {
    return { type: 'DOCKER', docker: { image: config.image, network: 'BRIDGE', force_pull_image: true } };
  }
  return { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: config.image } } } };
}

export function buildTaskInfo(config: JobConfig, round: number, index: number, agentId: string, resources: Resource[]): TaskInfo {
  const info: TaskInfo = {
    name: config.name,
    task_id: { value: taskIdFor(config, round, index) },
    agent_id: { value: agentId },
    resources,
    command: commandFor(config),
  };
  // --jobs: the job's labels on every task.
  const labels = Object.entries(config.labels ?? {});
  if (labels.length > 0) info.labels = { labels: labels.map(([key, value]) => ({ key, value })) };
  const container = containerFor(config);
  if (container !== undefined) info.container = container;
  // A hung task would hold its round open forever; Mesos (1.6+) kills it after this.
  if (config.taskTimeoutSeconds !== undefined && config.taskTimeoutSeconds > 0) {
    info.max_completion_time = { nanoseconds: Math.round(config.taskTimeoutSeconds * 1e9) };
  }
  return info;
}
