/**
 * Maps a decoded Mesos Event to the framework machine's SubscriptionEvent.
 * SUBSCRIBED is handled by the subscription actor itself (it needs the stream
 * id and the master), so it is not mapped here.
 */
import type { SubscriptionEvent } from '../../machines/contract.js';
import type { Event } from '../mesos/types.js';

export function mapEvent(event: Event, generation: number, receivedAt: number): SubscriptionEvent {
  switch (event.type) {
    case 'HEARTBEAT':
      return { type: 'mesos.heartbeat', generation };
    case 'OFFERS':
      return { type: 'mesos.offers', generation, offers: event.offers?.offers ?? [], receivedAt };
    case 'RESCIND':
      if (event.rescind) return { type: 'mesos.rescind', generation, offerId: event.rescind.offer_id.value };
      break;
    case 'UPDATE':
      if (event.update) return { type: 'mesos.update', generation, status: event.update.status };
      break;
    case 'FAILURE': {
      const f = event.failure ?? {};
      return {
        type: 'mesos.failure', generation,
        ...(f.agent_id ? { agentId: f.agent_id.value } : {}),
        ...(f.executor_id ? { executorId: f.executor_id.value } : {}),
        ...(f.status !== undefined ? { status: f.status } : {}),
      };
    }
    case 'MESSAGE':
      if (event.message) {
        return { type: 'mesos.message', generation, agentId: event.message.agent_id.value, executorId: event.message.executor_id.value, data: event.message.data };
      }
      break;
    case 'ERROR':
      return { type: 'mesos.error', generation, message: event.error?.message ?? '' };
    default:
      break;
  }
  return { type: 'mesos.other', generation, event };
}
