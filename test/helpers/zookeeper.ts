/**
 * A throwaway ZooKeeper server for tests, benchmarks and chaos runs: Debian's
 * `zookeeper` package (installed by `npm test`, see scripts/test.sh), standalone,
 * on 127.0.0.1 with a free port and a temporary data directory, admin server off.
 *
 *   const zk = await withZooKeeper(t);        // stopped and removed in t.after
 *   createClient(zk.connectString) ...
 *   await zk.restart();                       // same port and data: sessions survive short restarts
 *
 * `startZooKeeper()` is the same without a test context (call `stop()` yourself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Where Debian's package puts the server jar (its manifest Class-Path brings the dependencies). */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

export interface ZooKeeperServer {
  /** `127.0.0.1:<port>`, for node-zookeeper-client or a `zk://` URL. */
  readonly connectString: string;
  readonly port: number;
  /** `zk://127.0.0.1:<port><chroot>` */
  url(chroot?: string): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops the process only (data kept): ZooKeeper is down until `start()`. */
  kill(): Promise<void>;
  /** Starts the process again after `kill()`. */
  start(): Promise<void>;
}

export interface StartZooKeeperOptions {
  /** ZooKeeper tick (ms); the smallest session timeout the server grants is 2 ticks. Default 500. */
  tickTimeMs?: number;
  /** How long to wait for `imok`. Default 30 s. */
  readyTimeoutMs?: number;
  /** The server jar; default ZOOKEEPER_JAR. */
  jar?: string;
}

/** Starts a standalone ZooKeeper server; fails with a clear message when Java or the package is missing. */
export async function startZooKeeper(options: StartZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  const java = findJava();
  const jar = options.jar ?? ZOOKEEPER_JAR;
  if (!existsSync(jar) || !java) {
    throw new Error(
      `ZooKeeper test server unavailable: ${!java ? 'no `java` on PATH' : `${jar} is missing`}. ` +
        'Run the tests with `npm test`, which installs Debian\'s `zookeeper` package (and a JRE), ' +
        'or install it yourself: `apt-get install zookeeper`.',
    );
  }
  const tick = options.tickTimeMs ?? 500;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = await mkdtemp(path.join(tmpdir(), 'mhs-zk-'));
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  const cfg = path.join(dir, 'zoo.cfg');
  await writeFile(
    cfg,
    [
      `tickTime=${tick}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,stat,mntr',
      `minSessionTimeout=${2 * tick}`,
      'maxSessionTimeout=60000',
      'maxClientCnxns=0',
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let stopped = false;
  let stderr = '';

  const launch = async (): Promise<void> => {
    stderr = '';
    const p = spawn(
      java,
      [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Xshare:auto',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        jar,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        cfg,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    p.stderr?.setEncoding('utf8');
    p.stderr?.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    child = p;
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(`ZooKeeper exited during start (code ${p.exitCode}, signal ${p.signalCode}): ${stderr.trim() || 'no output'}`);
      }
      // `ruok` answers imok as soon as the port is open; `srvr` shows a Mode only once it serves requests.
      if (
        (await fourLetter(port, 'ruok').catch(() => '')) === 'imok' &&
        (await fourLetter(port, 'srvr').catch(() => '')).includes('Mode:')
      ) {
        return;
      }
      if (Date.now() > deadline) {
        await killProcess(p);
        throw new Error(`ZooKeeper on 127.0.0.1:${port} did not answer ruok within ${readyTimeoutMs} ms: ${stderr.trim()}`);
      }
      await sleep(100);
    }
  };

  const kill = async (): Promise<void> => {
    const p = child;
    child = undefined;
    if (p) await killProcess(p);
  };

  try {
    await launch();
  } catch (err) {
    await kill();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    connectString: `127.0.0.1:${port}`,
    port,
    url: (chroot = '/') => `zk://127.0.0.1:${port}${chroot.startsWith('/') ? chroot : `/${chroot}`}`,
    kill,
    start: async () => {
      if (stopped) throw new Error('ZooKeeper server was stopped for good; start a new one');
      if (!child) await launch();
    },
    restart: async () => {
      if (stopped) throw new Error('ZooKeeper server was stopped for good; start a new one');
      await kill();
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a ZooKeeper server for one test (or suite) and stops it in `t.after`. */
export async function withZooKeeper(
  t: Pick<TestContext, 'after'>,
  options?: StartZooKeeperOptions,
): Promise<ZooKeeperServer> {
  const zk = await startZooKeeper(options);
  t.after(() => zk.stop());
  return zk;
}

/** Sends a ZooKeeper four-letter command (`ruok`, `srvr`, ...) and returns the answer. */
export function fourLetter(port: number, cmd: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let out = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`${cmd}: no answer within ${timeoutMs} ms`)));
    s.on('connect', () => s.end(cmd));
    s.on('data', (d: string) => (out += d));
    s.on('error', reject);
    s.on('close', () => resolve(out.trim()));
  });
}

function findJava(): string | undefined {
  const home = process.env['JAVA_HOME'];
  if (home && existsSync(path.join(home, 'bin', 'java'))) return path.join(home, 'bin', 'java');
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'java'))) return path.join(dir, 'java');
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function killProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
