// The outbox sweep: events the delivery queue refused when they were made (shared/webhooks/sink.ts) are queued now,
// oldest first, and leave the outbox once queued. Run on a schedule by the webhook function. An event queued but
// not removed (the delete failed) is queued again by the next sweep: delivered twice with the same webhook-id,
// which receivers deduplicate, rather than not at all.
import type { OutboxEntry } from "../store/webhook-outbox.ts";
import type { QueuedEvent } from "./sink.ts";

/** Entries per sweep; the rest wait for the next one. */
export const SWEEP_LIMIT = 100;

export interface SweepPorts {
  list(limit: number): Promise<OutboxEntry[]>;
  /** Answers the ids the queue did not take. */
  enqueue(events: QueuedEvent[]): Promise<string[]>;
  remove(entry: OutboxEntry): Promise<void>;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
  };
}

export async function sweepOutbox(ports: SweepPorts): Promise<{ queued: number; left: number }> {
  const entries = await ports.list(SWEEP_LIMIT);
  if (entries.length === 0) return { queued: 0, left: 0 };
  const refused = new Set(await ports.enqueue(entries));
  const queued = entries.filter((e) => !refused.has(e.id));
  const removals = await Promise.allSettled(queued.map((e) => ports.remove(e)));
  const notRemoved = removals.filter((r) => r.status === "rejected").length;
  if (notRemoved > 0)
    ports.log.warn("queued outbox entries not removed; the next sweep queues them again", { count: notRemoved });
  ports.log.info("outbox swept", { queued: queued.length, refused: refused.size });
  return { queued: queued.length, left: refused.size };
}
