/**
 * The do-nothing clients that give the limits: the same calls the scheduler
 * makes, against the same master process, with no state, no machines and no
 * log. Each returns what it measured; rates come from the master's own
 * recorder where the scheduler's do.
 */
import type { MasterProcess } from './master-process.js';
import { EVENT, offerScalar, RawClient, randomUuid, rawTaskInfo } from './raw-client.js';
import { nowMs, sleep, until } from './stats.js';

/** TaskState numbers of the terminal states (mesos.proto: FINISHED, FAILED, KILLED, LOST, ERROR, DROPPED, GONE, GONE_BY_OPERATOR). */
const TERMINAL_STATES = new Set([2, 3, 4, 5, 7, 9, 11, 12]);

/** ACKNOWLEDGE calls per second: `calls` POSTs (random uuids) over `connections`, one at a time on each. */
export async function rawAckRate(master: MasterProcess, calls: number, connections: number): Promise<number> {
  const client = new RawClient(master.url, { name: 'raw-acks', connections });
  try {
    await client.subscribe(() => {});
    const agentId = (await master.agents())[0]!.id;
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.acknowledge(agentId, `warm-${i}`, randomUuid())));
    const start = nowMs();
    const statuses = await Promise.all(Array.from({ length: calls }, (_, i) => client.acknowledge(agentId, `t-${i}`, randomUuid())));
    const ms = nowMs() - start;
    const bad = statuses.filter((s) => s !== 202).length;
    if (bad > 0) throw new Error(`${bad} ACKNOWLEDGE calls not accepted`);
    return (calls * 1000) / ms;
  } finally {
    await client.close();
  }
}

export interface RawLaunchOptions {
  tasks: number;
  cpus: number;
  mem: number;
  connections: number;
  /** ACK every status update at once (the full cycle); otherwise only ACCEPTs are sent. */
  acknowledge: boolean;
  /** With `acknowledge`: wait until every task's terminal update is ACKed. */
  untilEnded?: boolean;
  timeoutMs: number;
}

/**
 * Launches `tasks` tasks into the offers it gets, one ACCEPT per offer with as
 * many tasks as fit, declining what it does not use; keeps no state beyond a
 * counter. Returns the bench process's CPU time spent (ms) from SUBSCRIBED to
 * the end, and the ACKs sent.
 */
export async function rawLaunch(master: MasterProcess, o: RawLaunchOptions): Promise<{ cpuMs: number; acks: number }> {
  const client = new RawClient(master.url, { name: 'raw-launch', connections: o.connections });
  let launched = 0;
  let acks = 0;
  let ended = 0;
  const pending: Array<Promise<number>> = [];
  try {
    await client.subscribe((event) => {
      if (event.type === EVENT.OFFERS && event.offers) {
        const unused: string[] = [];
        for (const offer of event.offers.offers) {
          const fit = Math.min(Math.floor(offerScalar(offer, 'cpus') / o.cpus + 1e-9), Math.floor(offerScalar(offer, 'mem') / o.mem + 1e-9), o.tasks - launched);
          if (fit <= 0) { unused.push(offer.id.value); continue; }
          const infos = [];
          for (let i = 0; i < fit; i++) infos.push(rawTaskInfo(`raw-${++launched}`, offer.agent_id.value, o.cpus, o.mem));
          pending.push(client.launch(offer.id.value, infos));
        }
        if (unused.length > 0) void client.declineAll(unused, 3600);
      } else if (event.type === EVENT.UPDATE && event.update && o.acknowledge) {
        const s = event.update.status;
        if (TERMINAL_STATES.has(s.state)) ended += 1;
        if (s.uuid && s.uuid.length > 0 && s.agent_id) { acks += 1; void client.acknowledge(s.agent_id.value, s.task_id.value, s.uuid); }
      }
    });
    const cpu0 = process.cpuUsage();
    await until(() => launched >= o.tasks, o.timeoutMs, `${o.tasks} tasks launched by the do-nothing client`, 10);
    await Promise.all(pending);
    if (o.acknowledge && o.untilEnded) await until(() => ended >= o.tasks, o.timeoutMs, `${o.tasks} task ends acknowledged by the do-nothing client`, 10);
    const cpu = process.cpuUsage(cpu0);
    return { cpuMs: (cpu.user + cpu.system) / 1000, acks };
  } finally {
    await client.close();
    await sleep(50);
  }
}
