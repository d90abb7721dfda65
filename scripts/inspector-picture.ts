/**
 * `npm run picture:inspector`: the picture of the Stately inspector in the
 * README, drawn from a real `--inspect` session. The Stately inspector UI
 * (https://stately.ai/inspect) cannot always be reached from where this runs,
 * so instead of a screenshot it records what the inspector would be given:
 *
 *   1. runs the real, built CLI (`node dist/src/cli/main.js`, built first if
 *      stale) on the embedded local master with `--inspect <free port>` and a
 *      one-round job of three short tasks;
 *   2. connects to the inspector relay as the browser page does (a WebSocket
 *      client from no web page, so the relay's Origin check lets it in) and
 *      records every message until the CLI exits;
 *   3. writes visualizations/inspector-session.svg (the actor tree and the
 *      sequence of events, src/observability/inspector-picture.ts) and the
 *      recording, visualizations/inspector-session.json (if under 200 KB).
 *
 *   tsx scripts/inspector-picture.ts              run, record and draw
 *   tsx scripts/inspector-picture.ts --from FILE  draw again from a recording
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { parseInspectorMessage, renderInspectorSession, type InspectorMessage, type InspectorRecording } from './lib/inspector-picture.js';
import { ensureBuilt, freePort, runCli } from '../test/integration/cli-harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SVG = join(root, 'visualizations/inspector-session.svg');
const JSON_FILE = join(root, 'visualizations/inspector-session.json');
const MAX_JSON_BYTES = 200 * 1024;

/** The job: the README's example, one round, short tasks, a fixed-size agent. */
const JOB_ARGS = ['--master', 'local', '--cmd', 'echo "loading batch"; sleep 1', '--maxtasks', '3', '--wait', '1', '--rounds', '1', '--local-cpus', '2', '--local-mem', '2048'];
const NOTES = [
  'subscription is the actor that reads the Mesos master\'s event stream: conn.subscribed and every mesos.* event come from it.',
];

async function record(): Promise<InspectorRecording> {
  ensureBuilt();
  const port = await freePort();
  const args = [...JOB_ARGS, '--inspect', String(port)];
  const cleanups: Array<(...args: never[]) => unknown> = [];
  try {
    // runCli cleans up (kills the CLI if still running, removes its scratch folder) in after-hooks: run them here.
    const cli = runCli({ after: (fn?: (...args: never[]) => unknown) => void (fn && cleanups.push(fn)) }, args);
    const line = await cli.waitFor((l) => typeof l['inspector'] === 'string', 'the "inspector: open" line');
    const socket = new WebSocket(String(line['inspector']).replace(/^http:/, 'ws:'));
    const messages: InspectorMessage[] = [];
    socket.on('message', (data) => {
      const message = parseInspectorMessage(data.toString());
      if (message !== undefined) messages.push(message);
    });
    // The relay closes the connection when the scheduler stops it, just before exiting.
    const closed = new Promise<void>((done, fail) => {
      socket.once('close', () => done());
      socket.once('error', fail);
    });
    // A one-round job of 1-second tasks: a minute means the run is stuck.
    const guard = setTimeout(() => cli.child.kill('SIGKILL'), 60_000);
    const [exit] = await Promise.all([cli.exited, closed]).finally(() => clearTimeout(guard));
    if (exit.code !== 0) throw new Error(`the scheduler exited with ${exit.code ?? exit.signal}:\n${cli.messages().join('\n')}\n${cli.stderr()}`);
    return { command: `mesos-http-scheduler ${args.map(shellQuote).join(' ')}`, notes: NOTES, messages: withoutReplays(messages) };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

/**
 * A client that joins late is first sent every live actor again (before the
 * recent messages, which may announce it too): keep each actor's last
 * announcement, which is the one in its place in the sequence.
 */
function withoutReplays(messages: InspectorMessage[]): InspectorMessage[] {
  const lastAnnouncement = new Map<string, number>();
  messages.forEach((message, i) => {
    if (message.type === '@xstate.actor') lastAnnouncement.set(message.sessionId, i);
  });
  const out = messages.filter((message, i) => message.type !== '@xstate.actor' || lastAnnouncement.get(message.sessionId) === i);
  if (out.length < messages.length) process.stderr.write(`picture: joined after ${messages.length - out.length} actors started; their replayed announcements dropped (the originals follow)\n`);
  return out;
}

function shellQuote(arg: string): string {
  return /^[\w./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One message a line, so a new recording reads as a diff. */
function recordingJson(recording: InspectorRecording): string {
  const head = Object.entries(recording)
    .filter(([key]) => key !== 'messages')
    .map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  const messages = recording.messages.map((message) => `    ${JSON.stringify(message)}`).join(',\n');
  return `{\n${head.join('\n')}\n  "messages": [\n${messages}\n  ]\n}\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { from: { type: 'string' } } });
  const shown = (path: string): string => relative(process.cwd(), path) || path;
  const recording = values.from !== undefined
    ? (JSON.parse(await readFile(values.from, 'utf8')) as InspectorRecording)
    : await record();
  await writeFile(SVG, renderInspectorSession(recording));
  const written = [shown(SVG)];
  if (values.from === undefined) {
    const json = recordingJson(recording);
    if (Buffer.byteLength(json) < MAX_JSON_BYTES) {
      await writeFile(JSON_FILE, json);
      written.push(shown(JSON_FILE));
    } else {
      await rm(JSON_FILE, { force: true });
      process.stderr.write(`picture: the recording is ${Buffer.byteLength(json)} bytes, over ${MAX_JSON_BYTES}: not written\n`);
    }
  }
  process.stdout.write(`picture: ${recording.messages.length} inspector messages; wrote ${written.join(', ')}\n`);
  return 0;
}

process.exitCode = await main();
