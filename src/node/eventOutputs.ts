// Where the event feed goes besides the library's own listeners: the events webhook (the events an
// operator acts on, not every segment) and a short memory of recent events for the dashboard.
import type { Logger } from '../lib/log.ts';
import { EventsWebhook } from '../server/eventsWebhook.ts';
import type { GatewayEventBus, GatewayEventName, GatewayEvents } from './events.ts';

/** What the webhook posts. Segment and payment events stay on the feed, /events and the dashboard. */
export const WEBHOOK_EVENTS: ReadonlySet<GatewayEventName> = new Set<GatewayEventName>([
  'stream.started',
  'stream.ended',
  'stream.error',
  'orchestrator.swapped',
  'orchestrator.suspended',
  'deposit.low',
  'ticket.refused',
]);

/** Posts the operator's events to -eventsWebhookUrl from now on; close() the result at shutdown. */
export function attachEventsWebhook(events: GatewayEventBus, target: { url: string; secret?: string }, log: Logger): EventsWebhook {
  const hook = new EventsWebhook({ url: target.url, ...(target.secret ? { secret: target.secret } : {}), log: log.child({ component: 'events-webhook' }) });
  events.onAny((name, payload) => {
    if (WEBHOOK_EVENTS.has(name)) hook.send(name, payload);
  });
  return hook;
}

export interface RecentEvent {
  name: GatewayEventName;
  /** ms since the epoch */
  at: number;
  payload: GatewayEvents[GatewayEventName];
}

/** The last `max` events of the feed, oldest first. */
export class RecentEvents {
  readonly #list: RecentEvent[] = [];

  constructor(
    events: GatewayEventBus,
    private readonly max = 100,
  ) {
    events.onAny((name, payload) => {
      this.#list.push({ name, at: Date.now(), payload });
      if (this.#list.length > this.max) this.#list.shift();
    });
  }

  list(): RecentEvent[] {
    return [...this.#list];
  }
}
