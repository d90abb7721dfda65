/**
 * Calls made in one tick go out in one write. undici writes each request with
 * its own `cork()` / `uncork()`, so every call is a `writev` system call, and
 * on loopback the kernel delivers it to the master (and wakes it) inside that
 * call. The connector here holds one more cork on the calls' socket from its
 * first write in a tick until the tick's end (`process.nextTick`), so the
 * calls a stream chunk's events make (their ACKs, say) leave together: with
 * pipelining that is one system call and one wake-up of the master for many
 * calls. Nothing waits longer than the current tick.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** Holds a cork on `socket` from its first write in a tick to the end of that tick. */
export function coalesceWritesPerTick(socket: Socket): void {
  const write = socket.write;
  let held = false;
  const release = (): void => {
    held = false;
    if (!socket.destroyed) socket.uncork();
  };
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!held && !socket.destroyed) {
      held = true;
      socket.cork();
      process.nextTick(release);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** undici's own connector (TLS options and all), with the calls' writes coalesced per tick. */
export function coalescingConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) => connect(opts, (err, socket) => {
    if (err === null && socket !== null) coalesceWritesPerTick(socket as Socket);
    callback(err as never, socket as never);
  });
}
