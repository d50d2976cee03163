/**
 * The producing side (shared/webhooks/sink.ts): events go to the queue; what the queue refuses goes to the outbox,
 * logged and counted; what neither takes is logged by id and type (never the body) and counted as lost. No path
 * throws to the request.
 */
import { describe, expect, it } from "vitest";
import { webhookEvent } from "../../shared/webhooks/events.ts";
import { createWebhookSink, type QueuedEvent, type SinkPorts } from "../../shared/webhooks/sink.ts";

function fakes(
  opts: {
    enqueue?: (events: QueuedEvent[]) => Promise<string[]>;
    keep?: (events: QueuedEvent[]) => Promise<void>;
  } = {},
) {
  const queued: QueuedEvent[] = [];
  const kept: QueuedEvent[] = [];
  const counts: Record<string, number> = {};
  const logs: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const ports: SinkPorts = {
    enqueue:
      opts.enqueue ??
      (async (events) => {
        queued.push(...events);
        return [];
      }),
    keep:
      opts.keep ??
      (async (events) => {
        kept.push(...events);
      }),
    count: (metric, value) => {
      counts[metric] = (counts[metric] ?? 0) + value;
    },
    log: {
      warn: (message, extra) => logs.push({ level: "warn", message, extra }),
      error: (message, extra) => logs.push({ level: "error", message, extra }),
    },
  };
  return { sink: createWebhookSink(ports), queued, kept, counts, logs };
}

const created = webhookEvent("room.created", { roomId: "r1", ownerId: "u1", actorId: "u1" }, 1_000);
const banned = webhookEvent(
  "user.banned",
  { roomId: "r1", userId: "u2", until: "2030-01-01T00:00:00.000Z", actorId: "u1" },
  2_000,
);

describe("the webhook sink", () => {
  it("queues each event with its exact body; nothing kept, logged or counted", async () => {
    const f = fakes();
    await f.sink.send([created, banned]);
    expect(f.queued.map((e) => e.id)).toEqual([created.id, banned.id]);
    expect(JSON.parse(f.queued[0]!.body)).toEqual(created);
    expect(f.kept).toEqual([]);
    expect(f.counts).toEqual({});
    expect(f.logs).toEqual([]);
  });

  it("a queue that fails: the events go to the outbox, counted, with a warning naming them (not their bodies)", async () => {
    const f = fakes({
      enqueue: async () => {
        throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
      },
    });
    await expect(f.sink.send([created, banned])).resolves.toBeUndefined();
    expect(f.kept.map((e) => e.body)).toEqual([JSON.stringify(created), JSON.stringify(banned)]);
    expect(f.counts).toEqual({ WebhookEnqueueFailed: 2, WebhookEventsKept: 2 });
    expect(f.logs).toHaveLength(1);
    expect(f.logs[0]).toMatchObject({
      level: "warn",
      extra: {
        events: [
          { id: created.id, type: "room.created" },
          { id: banned.id, type: "user.banned" },
        ],
        cause: "TimeoutError",
      },
    });
    expect(JSON.stringify(f.logs)).not.toContain("2030-01-01");
  });

  it("only what the queue refused goes to the outbox", async () => {
    const f = fakes({ enqueue: async () => [banned.id] });
    await f.sink.send([created, banned]);
    expect(f.kept.map((e) => e.id)).toEqual([banned.id]);
    expect(f.counts).toEqual({ WebhookEnqueueFailed: 1, WebhookEventsKept: 1 });
  });

  it("queue and outbox both failing: an error naming the lost events, counted as lost, and still no throw", async () => {
    const f = fakes({
      enqueue: async () => {
        throw new Error("queue down");
      },
      keep: async () => {
        throw Object.assign(new Error("table down"), { name: "ProvisionedThroughputExceededException" });
      },
    });
    await expect(f.sink.send([created])).resolves.toBeUndefined();
    expect(f.counts).toEqual({ WebhookEnqueueFailed: 1, WebhookEventsLost: 1 });
    expect(f.logs).toEqual([
      {
        level: "error",
        message: expect.stringContaining("lost"),
        extra: {
          events: [{ id: created.id, type: "room.created" }],
          cause: "queue down",
          outboxError: "ProvisionedThroughputExceededException",
        },
      },
    ]);
  });

  it("nothing to send: no call at all", async () => {
    let calls = 0;
    const f = fakes({
      enqueue: async () => {
        calls += 1;
        return [];
      },
    });
    await f.sink.send([]);
    expect(calls).toBe(0);
  });
});
