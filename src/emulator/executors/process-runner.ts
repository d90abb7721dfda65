/**
 * Runs tasks as real local processes, the way the agent's command executor
 * does: a sandbox per task (`<workDir>/slaves/<agent>/frameworks/<fw>/executors/<task>/runs/<container>`,
 * with `stdout` and `stderr` files), URIs fetched into it, `sh -c <value>` (or
 * the executable and arguments when `shell` is false) in its own process group
 * with the task's environment and, when we run as root, the task's user.
 *
 * Status messages follow src/launcher/executor.cpp: "Command exited with
 * status N" / "Command terminated with signal <name>"; a kill sends SIGTERM to
 * the group and SIGKILL after the kill policy's grace period (default 3 s).
 *
 * Every process group is recorded so that no child outlives this process:
 * they are SIGKILLed on stopAll() and on process exit, and a small watchdog
 * shell (one per runner) SIGKILLs the groups listed in
 * `<workDir>/.emulator-process-groups-*` if this process dies without running
 * exit handlers (SIGKILL, OOM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, fchownSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chown, mkdir, readdir, symlink } from 'node:fs/promises';
import { linkVolumes, removeVolume } from './volumes.js';
import path from 'node:path';
import type { Logger } from 'pino';
import { fetchAll } from './fetcher.js';
import { containerImageOf, gracePeriodMs, type RunningTask, type TaskRunContext, type TaskRunner } from './types.js';

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* the group is gone */ }
}

const SIGNAL_NAMES: Record<string, string> = {
  SIGTERM: 'Terminated', SIGKILL: 'Killed', SIGINT: 'Interrupt', SIGHUP: 'Hangup', SIGQUIT: 'Quit',
  SIGABRT: 'Aborted', SIGSEGV: 'Segmentation fault', SIGPIPE: 'Broken pipe', SIGUSR1: 'User defined signal 1',
  SIGUSR2: 'User defined signal 2', SIGALRM: 'Alarm clock', SIGBUS: 'Bus error', SIGFPE: 'Floating point exception',
};

/** WSTRINGIFY of stout: how the command executor describes an exit. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `Command terminated with signal ${SIGNAL_NAMES[signal] ?? signal}`;
  return `Command exited with status ${code ?? 0}`;
}

interface UnixUser { uid: number; gid: number; home: string }

/** Gives the sandbox and everything in it to the task's user, as the Mesos fetcher and containerizer do. */
async function chownTree(dir: string, user: UnixUser): Promise<void> {
  await chown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user);
    else if (!entry.isSymbolicLink()) await chown(p, user.uid, user.gid);
  }
}

function lookupUser(name: string): UnixUser | undefined {
  let passwd: string;
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return undefined; }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
  }
  return undefined;
}

/** What one task's launch and kill share. */
interface RunState {
  /** KILL arrived (the exit is reported as TASK_KILLED). */
  killed: boolean;
  /** The agent is gone or the framework removed: report nothing more. */
  destroyed: boolean;
  child: ChildProcess | undefined;
  killTimer: NodeJS.Timeout | undefined;
  completionTimer: NodeJS.Timeout | undefined;
  /** max_completion_time ran out (the exit is reported as TASK_FAILED). */
  byMaxCompletion: boolean;
}

export interface ProcessRunnerOptions {
  workDir: string;
  containerImages: 'host' | 'refuse';
  logger: Logger;
}

const WATCHDOG_SCRIPT = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; '
  + 'if [ -f "$2" ]; then for g in $(cat "$2"); do kill -KILL -"$g" 2>/dev/null; done; fi';

export class ProcessRunner implements TaskRunner {
  private readonly children = new Set<ChildProcess>();
  private readonly groups = new Set<number>();
  private watchdog: ChildProcess | undefined;
  private readonly groupsFile: string;

  constructor(private readonly opts: ProcessRunnerOptions) {
    installExitHook();
    this.groupsFile = path.join(opts.workDir, `.emulator-process-groups-${process.pid}-${randomUUID().slice(0, 8)}`);
  }

  private trackGroup(pid: number, live: boolean): void {
    if (live) { this.groups.add(pid); liveGroups.add(pid); } else { this.groups.delete(pid); liveGroups.delete(pid); }
    try {
      writeFileSync(this.groupsFile, [...this.groups].map((g) => `${g}\n`).join(''));
    } catch (err) {
      this.opts.logger.warn({ err }, 'cannot record task process groups for the watchdog');
    }
    if (live && !this.watchdog) {
      this.watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'emulator-watchdog', String(process.pid), this.groupsFile], { detached: true, stdio: 'ignore' });
      this.watchdog.on('error', () => { this.watchdog = undefined; });
      this.watchdog.unref();
    }
  }

  launch(ctx: TaskRunContext): RunningTask {
    const state: RunState = { killed: false, destroyed: false, child: undefined, killTimer: undefined, completionTimer: undefined, byMaxCompletion: false };
    const report: TaskRunContext['report'] = (u) => { if (!state.destroyed) ctx.report(u); };

    const terminate = (graceMs: number): void => {
      const child = state.child;
      if (!child?.pid) return;
      signalGroup(child.pid, 'SIGTERM');
      state.killTimer = setTimeout(() => { if (child.pid) signalGroup(child.pid, 'SIGKILL'); }, graceMs);
      state.killTimer.unref();
    };

    void this.start(ctx, state, report).catch((err: Error) => {
      report({ state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `Failed to launch container: ${err.message}` });
    });

    return {
      kill: (graceOverride, sendKilling) => {
        if (state.killed || state.destroyed) return;
        state.killed = true;
        if (sendKilling) report({ state: 'TASK_KILLING', source: 'SOURCE_EXECUTOR' });
        if (state.child) terminate(gracePeriodMs(ctx.task, graceOverride));
        // Not started yet: start() sees `killed` and reports TASK_KILLED instead of spawning.
      },
      destroy: () => {
        state.destroyed = true;
        if (state.child?.pid) signalGroup(state.child.pid, 'SIGKILL');
      },
    };
  }

  private async start(
    ctx: TaskRunContext,
    state: RunState,
    report: TaskRunContext['report'],
  ): Promise<void> {
    const { task, frameworkId, agentId } = ctx;
    const taskId = task.task_id.value;
    let sandbox: string;
    if (ctx.executor) {
      // The default executor's nested container, linked from tasks/<task id> as the executor does.
      const executorSandbox = path.join(this.opts.workDir, 'slaves', agentId, 'frameworks', frameworkId, 'executors', ctx.executor.id, 'runs', ctx.executor.runId);
      const containerId = randomUUID();
      sandbox = path.join(executorSandbox, 'containers', containerId);
      await mkdir(sandbox, { recursive: true });
      await mkdir(path.join(executorSandbox, 'tasks'), { recursive: true });
      await symlink(sandbox, path.join(executorSandbox, 'tasks', taskId)).catch(() => undefined);
    } else {
      sandbox = path.join(this.opts.workDir, 'slaves', agentId, 'frameworks', frameworkId, 'executors', taskId, 'runs', randomUUID());
      await mkdir(sandbox, { recursive: true });
    }
    ctx.setSandbox(sandbox);
    const volumes = await linkVolumes(this.opts.workDir, agentId, task.resources, sandbox);

    let warning: string | undefined;
    const image = containerImageOf(task);
    if (image !== undefined) {
      if (this.opts.containerImages === 'refuse') {
        report({ state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `Failed to launch container: local mode cannot run container image '${image}' (started with containerImages 'refuse'); run without an image or against a real Mesos cluster` });
        return;
      }
      warning = `local mode runs the command on the host WITHOUT container image '${image}'`;
      this.opts.logger.warn({ taskId, image }, warning);
    }

    const command = task.command ?? task.executor?.command;
    const userName = command?.user ?? ctx.frameworkInfo.user;
    let user: UnixUser | undefined;
    if (process.getuid?.() === 0 && userName) {
      user = lookupUser(userName);
      if (!user) throw new Error(`Failed to switch to user '${userName}': no such user on this host`);
    }

    try {
      await fetchAll(command?.uris, sandbox);
    } catch (err) {
      throw new Error(`Failed to fetch all URIs for container: ${(err as Error).message}`);
    }
    if (state.destroyed) return;
    if (state.killed) {
      report({ state: 'TASK_KILLED', source: 'SOURCE_AGENT', reason: 'REASON_TASK_KILLED_DURING_LAUNCH', message: 'Killed before delivery to the executor' });
      return;
    }

    report({ state: 'TASK_STARTING', source: 'SOURCE_EXECUTOR', ...(warning ? { message: warning } : {}) });

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MESOS_SANDBOX: sandbox,
      MESOS_DIRECTORY: sandbox,
      MESOS_FRAMEWORK_ID: frameworkId,
      MESOS_EXECUTOR_ID: ctx.executor?.id ?? taskId,
      MESOS_TASK_ID: taskId,
      MESOS_AGENT_ID: agentId,
      ...(user ? { HOME: user.home, USER: userName, LOGNAME: userName } : {}),
    };
    for (const v of command?.environment?.variables ?? []) {
      if (v.type !== 'SECRET') env[v.name] = v.value ?? '';
    }

    if (user) {
      await chownTree(sandbox, user);
      for (const dir of volumes) await chown(dir, user.uid, user.gid);
    }
    const stdout = openSync(path.join(sandbox, 'stdout'), 'a', 0o644);
    const stderr = openSync(path.join(sandbox, 'stderr'), 'a', 0o644);
    let child: ChildProcess;
    try {
      if (user) {
        fchownSync(stdout, user.uid, user.gid);
        fchownSync(stderr, user.uid, user.gid);
      }
      const shell = command?.shell !== false;
      const file = shell ? '/bin/sh' : (command?.value ?? '');
      const args = shell ? ['-c', command?.value ?? ''] : (command?.arguments ?? []).slice(1);
      child = spawn(file, args, {
        cwd: sandbox, env, detached: true, stdio: ['ignore', stdout, stderr],
        ...(!shell && command?.arguments?.[0] ? { argv0: command.arguments[0] } : {}),
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    state.child = child;
    this.children.add(child);

    child.once('spawn', () => {
      if (child.pid) this.trackGroup(child.pid, true);
      report({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', ...(warning ? { message: warning } : {}) });
      if (state.killed && !state.killTimer) this.terminateLater(child, ctx, state);
      const maxNs = task.max_completion_time?.nanoseconds;
      if (maxNs !== undefined) {
        state.completionTimer = setTimeout(() => {
          state.byMaxCompletion = true;
          if (child.pid) signalGroup(child.pid, 'SIGTERM');
          state.killTimer = setTimeout(() => { if (child.pid) signalGroup(child.pid, 'SIGKILL'); }, gracePeriodMs(task, undefined));
          state.killTimer.unref();
        }, Number(maxNs) / 1e6);
        state.completionTimer.unref();
      }
    });
    child.once('error', (err) => {
      this.children.delete(child);
      report({ state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: `Failed to launch command: ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      if (child.pid) {
        // The shell is gone; make sure nothing it started lingers in its group.
        signalGroup(child.pid, 'SIGKILL');
        this.trackGroup(child.pid, false);
      }
      this.children.delete(child);
      if (state.killTimer) clearTimeout(state.killTimer);
      if (state.completionTimer) clearTimeout(state.completionTimer);
      const message = describeExit(code, signal);
      if (state.byMaxCompletion) report({ state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message });
      else if (state.killed) report({ state: 'TASK_KILLED', source: 'SOURCE_EXECUTOR', message });
      else if (code === 0) report({ state: 'TASK_FINISHED', source: 'SOURCE_EXECUTOR', message });
      else report({ state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', message });
    });
  }

  /** A kill that arrived while the process was being spawned. */
  private terminateLater(child: ChildProcess, ctx: TaskRunContext, state: RunState): void {
    if (!child.pid) return;
    signalGroup(child.pid, 'SIGTERM');
    state.killTimer = setTimeout(() => { if (child.pid) signalGroup(child.pid, 'SIGKILL'); }, gracePeriodMs(ctx.task, undefined));
    state.killTimer.unref();
  }

  destroyVolume(agentId: string, role: string, persistenceId: string): void {
    void removeVolume(this.opts.workDir, agentId, role, persistenceId).catch((err: Error) => {
      this.opts.logger.warn({ agentId, role, persistenceId, err: err.message }, 'failed to remove a destroyed persistent volume');
    });
  }

  async stopAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(new Promise((resolve) => {
        child.once('exit', () => resolve());
        setTimeout(resolve, 2000).unref();
      }));
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    }
    await Promise.all(waits);
    this.children.clear();
    if (this.watchdog?.pid) {
      try { process.kill(this.watchdog.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    this.watchdog = undefined;
    rmSync(this.groupsFile, { force: true });
  }
}
