/** Webhook events as the use cases make them, and publish(): ids, bodies, and a sink that can never fail a request. */
import { describe, expect, it } from "vitest";
import {
  derivedEventId,
  EVENT_ID,
  newEventId,
  publish,
  serializeEvent,
  webhookEvent,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
} from "../../shared/webhooks/events.ts";

describe("webhook events", () => {
  it("get an id of their own when made: evt_ and 32 hex digits, no dot (the signed content is id.timestamp.body)", () => {
    const ids = new Set(Array.from({ length: 1000 }, newEventId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(EVENT_ID);
      expect(id).not.toContain(".");
    }
  });

  it("derived from a source event, the same source gives the same id per type (a duplicate is a retry to the receiver)", () => {
    const a = derivedEventId("eb-1234", "participant.published");
    expect(a).toMatch(EVENT_ID);
    expect(derivedEventId("eb-1234", "participant.published")).toBe(a);
    expect(derivedEventId("eb-1235", "participant.published")).not.toBe(a);
    expect(derivedEventId("eb-1234", "participant.unpublished")).not.toBe(a);
  });

  it("serialize to the body the receivers get: type, id, timestamp, data, in that order", () => {
    const event = webhookEvent(
      "member.set",
      { roomId: "r1", userId: "u1", role: "speaker", previousRole: null, actorId: "u0" },
      Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      "evt_0123456789abcdef0123456789abcdef",
    );
    expect(serializeEvent(event)).toBe(
      '{"type":"member.set","id":"evt_0123456789abcdef0123456789abcdef","timestamp":"2026-01-02T03:04:05.006Z",' +
        '"data":{"roomId":"r1","userId":"u1","role":"speaker","previousRole":null,"actorId":"u0"}}',
    );
  });

  it("cover the types the contract lists, each with a roomId in data", () => {
    expect([...WEBHOOK_EVENT_TYPES].sort()).toEqual([
      "member.removed",
      "member.set",
      "participant.joined",
      "participant.kicked",
      "participant.left",
      "participant.published",
      "participant.unpublished",
      "room.created",
      "room.deleted",
      "room.ended",
      "room.started",
      "room.updated",
      "user.banned",
      "user.unbanned",
    ]);
  });
});

describe("publish", () => {
  const event = webhookEvent("room.deleted", { roomId: "r1", actorId: "u1" }, 0);

  it("hands the events to the sink, and does nothing when webhooks are off (no sink) or there is nothing to send", async () => {
    const sent: WebhookEvent[][] = [];
    const webhooks = {
      send: async (events: WebhookEvent[]) => {
        sent.push(events);
      },
    };
    await publish({ webhooks }, event);
    await publish({ webhooks });
    await publish({}, event);
    await publish({ webhooks: undefined }, event);
    expect(sent).toEqual([[event]]);
  });

  it("never throws, even when a sink breaks its promise not to", async () => {
    const webhooks = {
      send: async () => {
        throw new Error("boom");
      },
    };
    await expect(publish({ webhooks }, event)).resolves.toBeUndefined();
  });
});
