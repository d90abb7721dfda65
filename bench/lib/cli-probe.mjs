/**
 * Preloaded into the scheduler CLI by the bench (node --import), never part of
 * the CLI itself: answers the bench's IPC requests with the process's heap
 * (after a full GC when asked and node runs with --expose-gc), RSS and CPU
 * time, and writes the same at exit (with the peak RSS) to BENCH_PROBE_OUT.
 * The IPC channel is unreferenced so it never keeps the CLI alive.
 */
import { writeFileSync } from 'node:fs';

function reading(gc) {
  const collect = globalThis.gc;
  if (gc && typeof collect === 'function') { collect(); collect(); }
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { heapUsed: mem.heapUsed, rss: mem.rss, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, gc: gc && typeof collect === 'function' };
}

if (typeof process.send === 'function') {
  process.on('message', (m) => {
    if (!m || m.type !== 'bench.probe') return;
    process.send({ type: 'bench.probe.reply', id: m.id, ...reading(m.gc === true) });
  });
  process.channel?.unref();
}

const out = process.env.BENCH_PROBE_OUT;
if (out) process.on('exit', (code) => { writeFileSync(out, JSON.stringify({ ...reading(false), code })); });
