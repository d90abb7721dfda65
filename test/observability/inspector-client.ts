/** A plain WebSocket client of the inspector relay, as the browser page is (inspector and inspector-picture tests). */
import type { TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { parseInspectorMessage, type InspectorMessage } from '../../scripts/lib/inspector-picture.js';
import { startInspector } from '../../src/observability/inspector.js';

export type Message = InspectorMessage;

export async function listen(url: string, origin?: string) {
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  const socket = new WebSocket(url, origin === undefined ? {} : { origin });
  socket.on('message', (data) => {
    const message = parseInspectorMessage(data.toString());
    if (message === undefined) throw new Error(`not an inspector message: ${data.toString().slice(0, 200)}`);
    messages.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    messages,
    /** Resolves once `predicate` holds for the messages received so far (fails after 10 s of waiting instead of hanging). */
    until: (predicate: (all: Message[]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => {
          const seen = messages.map((m) => `${m.type} ${m.name ?? m.event?.type ?? ''}`).join(', ');
          reject(new Error(`the expected inspector messages never came; got: ${seen}`));
        }, 10_000);
        const check = () => {
          if (!predicate(messages)) return void waiters.push(check);
          clearTimeout(guard);
          resolve();
        };
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

/** An inspector on a free port with a client already listening; both stop when the test ends. */
export async function inspectorWithClient(t: Pick<TestContext, 'after'>) {
  const inspector = await startInspector({ port: 0 });
  t.after(() => inspector.stop());
  const client = await listen(inspector.url.replace('http:', 'ws:'));
  t.after(() => client.close());
  return { inspector, client };
}

/** The id of the machine (or actor logic) an @xstate.actor message announces. */
export function definitionId(message: Message): string | undefined {
  return message.definition === undefined ? undefined : (JSON.parse(message.definition) as { id?: string }).id;
}
