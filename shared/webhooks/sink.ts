// The producing side of webhooks: events go to the delivery queue, and an event the queue does not take is kept in
// the table's outbox, which the webhook function sweeps into the queue (shared/webhooks/sweep.ts). Both steps are
// bounded in time (1 s together: shared/webhooks/wiring.ts); neither ever fails the request that made the change.
//
// What this guarantees (docs/webhooks.md): an event is lost only if the queue and then the table both refuse it
// within their budgets (logged with the event's id and type, and counted as WebhookEventsLost), or if the function
// dies between writing the change and queueing its event (a timeout or a crash in those few milliseconds).
import type { WebhookEvent, WebhookSink } from "./events.ts";
import { serializeEvent } from "./events.ts";

export type SinkMetric = "WebhookEnqueueFailed" | "WebhookEventsKept" | "WebhookEventsLost";

/** An event as queued and as kept: its id and the exact body every delivery attempt posts. */
export interface QueuedEvent {
  id: string;
  type: string;
  timestamp: string;
  body: string;
}

export interface SinkPorts {
  /** Sends to the delivery queue within its budget; answers the ids the queue did not take (throws: none taken). */
  enqueue(events: QueuedEvent[]): Promise<string[]>;
  /** Writes events to the outbox within its budget (throws if it could not). */
  keep(events: QueuedEvent[]): Promise<void>;
  count(metric: SinkMetric, value: number): void;
  log: {
    warn(message: string, extra: Record<string, unknown>): void;
    error(message: string, extra: Record<string, unknown>): void;
  };
}

/** An AWS error's name (ThrottlingException, TimeoutError), else its message. */
const what = (error: unknown): string => {
  const e = error as Error;
  return e.name && e.name !== "Error" ? e.name : e.message;
};

export const toQueued = (event: WebhookEvent): QueuedEvent => ({
  id: event.id,
  type: event.type,
  timestamp: event.timestamp,
  body: serializeEvent(event),
});

export function createWebhookSink(ports: SinkPorts): WebhookSink {
  return {
    async send(events) {
      if (events.length === 0) return;
      const queued = events.map(toQueued);
      let refused: string[];
      let cause: string | undefined;
      try {
        refused = await ports.enqueue(queued);
      } catch (error) {
        refused = queued.map((e) => e.id);
        cause = what(error);
      }
      if (refused.length === 0) return;
      const left = queued.filter((e) => refused.includes(e.id));
      const ids = left.map(({ id, type }) => ({ id, type }));
      ports.count("WebhookEnqueueFailed", left.length);
      try {
        await ports.keep(left);
        ports.count("WebhookEventsKept", left.length);
        ports.log.warn("webhook events not queued; kept in the outbox for the sweeper", { events: ids, cause });
      } catch (error) {
        ports.count("WebhookEventsLost", left.length);
        ports.log.error("webhook events lost: neither the queue nor the outbox took them", {
          events: ids,
          cause,
          outboxError: what(error),
        });
      }
    },
  };
}
