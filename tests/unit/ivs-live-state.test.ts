/**
 * The pure parts of the emulator's live stages: one stage's sessions and publisher quota (local/ivs/sessions.ts) and
 * the delivery controls of its EventBridge events (local/ivs/events.ts, with no bus: nothing leaves the process).
 */
import { describe, expect, it } from "vitest";
import { EventOutbox, parseDeliveryControl, stageUpdateEvent } from "../../local/ivs/events.ts";
import { StageLive, type StageUpdate } from "../../local/ivs/sessions.ts";

const STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl";

function stage() {
  let clock = Date.parse("2025-01-01T00:00:00.000Z");
  let seq = 0;
  let sessions = 0;
  const updates: StageUpdate[] = [];
  const live = new StageLive({
    stageArn: STAGE,
    now: () => (clock += 250),
    nextSeq: () => ++seq,
    newSessionId: () => `st-SESSION${String(++sessions).padStart(6, "0")}`,
    emit: (u) => updates.push(u),
  });
  const join = (id: string, capabilities: Array<"PUBLISH" | "SUBSCRIBE"> = ["PUBLISH", "SUBSCRIBE"]) =>
    live.join({
      participantId: id,
      userId: `user-${id}`,
      attributes: {},
      capabilities,
      token: tokenOf(id, clock + 3_600_000),
    });
  return { live, updates, join, clock: () => clock };
}

const tokenOf = (id: string, expiresAt: number) => ({
  keyPair: true,
  immutable: { jti: id, resource: STAGE },
  expiresAt,
});

describe("StageLive", () => {
  it("opens a session at the first join, closes it when the last one leaves, and opens a new one after", () => {
    const { live, join } = stage();
    expect(live.activeSessionId).toBeUndefined();
    const first = join("a");
    join("b");
    expect(live.activeSessionId).toBe(first.id);
    live.leave("a");
    expect(live.activeSessionId).toBe(first.id);
    live.leave("b");
    expect(live.activeSessionId).toBeUndefined();
    expect(first.endTime).toBeGreaterThan(first.startTime);
    const second = join("a");
    expect(second.id).not.toBe(first.id);
    expect(live.sessions().map((s) => s.id)).toEqual([first.id, second.id]);
    expect(live.participant("a")!.sessionId).toBe(second.id);
    expect(live.everyone().map((p) => p.participantId)).toEqual(["a", "b"]);
  });

  it("takes at most 12 publishers; refusals and publish changes are recorded and reported", () => {
    const { live, updates, join } = stage();
    for (let i = 0; i < 14; i++) join(`p${i}`);
    join("viewer", ["SUBSCRIBE"]);
    for (let i = 0; i < 12; i++) expect(live.publish(`p${i}`)).toEqual({ ok: true });
    expect(live.publish("p12")).toEqual({ ok: false, reason: "stage-at-capacity" });
    expect(live.publish("viewer")).toEqual({ ok: false, reason: "insufficient-capabilities" });
    expect(live.publish("nobody")).toEqual({ ok: false, reason: "not-connected" });
    expect(live.publishers()).toBe(12);
    live.unpublish("p0");
    expect(live.publish("p12")).toEqual({ ok: true });
    expect(live.publish("p13")).toEqual({ ok: false, reason: "stage-at-capacity" });

    expect(live.participant("p13")!.events.map((e) => [e.name, e.errorCode])).toEqual([
      ["JOINED", undefined],
      ["PUBLISH_ERROR", "QUOTA_EXCEEDED"],
    ]);
    expect(live.participant("viewer")!.events.map((e) => e.errorCode)).toEqual([
      undefined,
      "INSUFFICIENT_CAPABILITIES",
    ]);
    const names = updates.map((u) => `${u.participantId} ${u.eventName}`);
    expect(names.slice(12)).toEqual([
      "p12 Participant Publish Error",
      "viewer Participant Publish Error",
      "p0 Participant Unpublished",
      "p12 Participant Published",
      "p13 Participant Publish Error",
    ]);
    expect(updates[0]).toEqual({
      stageArn: STAGE,
      sessionId: live.activeSessionId,
      eventName: "Participant Published",
      participantId: "p0",
      userId: "user-p0",
      time: expect.any(Number),
    });
  });

  it("a publisher that leaves stops publishing first; everyone leaves when the stage goes", () => {
    const { live, updates, join } = stage();
    join("a");
    join("b");
    live.publish("a");
    live.publish("b");
    live.leave("a");
    expect(live.participant("a")!.events.map((e) => e.name)).toEqual([
      "JOINED",
      "PUBLISH_STARTED",
      "PUBLISH_STOPPED",
      "LEFT",
    ]);
    expect(live.participant("a")!.published).toBe(true);
    live.leaveAll();
    expect(live.activeSessionId).toBeUndefined();
    expect(updates.map((u) => `${u.participantId} ${u.eventName}`)).toEqual([
      "a Participant Published",
      "b Participant Published",
      "a Participant Unpublished",
      "b Participant Unpublished",
    ]);
  });
});

describe("StageLive token exchange", () => {
  it("swaps capabilities, attributes and user id in place, records both tokens and reports Token Exchanged", () => {
    const { live, updates, join, clock } = stage();
    const session = join("v", ["SUBSCRIBE"]);
    expect(live.publish("v")).toEqual({ ok: false, reason: "insufficient-capabilities" });
    const expiresAt = clock() + 7_200_000;
    expect(
      live.exchange("v", {
        userId: "user-v2",
        attributes: { role: "speaker" },
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        token: tokenOf("v", expiresAt),
      }),
    ).toBe(true);
    expect(live.publish("v")).toEqual({ ok: true });
    const p = live.participant("v")!;
    expect({ session: p.sessionId, state: p.state, userId: p.userId, attributes: p.attributes }).toEqual({
      session: session.id,
      state: "CONNECTED",
      userId: "user-v2",
      attributes: { role: "speaker" },
    });
    expect(p.events.map((e) => e.name)).toEqual(["JOINED", "PUBLISH_ERROR", "TOKEN_EXCHANGED", "PUBLISH_STARTED"]);
    const exchanged = p.events[2]!;
    expect(exchanged.previousToken).toEqual({
      capabilities: ["SUBSCRIBE"],
      attributes: {},
      userId: "user-v",
      expirationTime: expect.any(Number),
    });
    expect(exchanged.newToken).toEqual({
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      attributes: { role: "speaker" },
      userId: "user-v2",
      expirationTime: expiresAt,
    });
    expect(updates.map((u) => `${u.eventName} ${u.userId}`)).toEqual([
      "Participant Publish Error user-v",
      "Token Exchanged user-v2",
      "Participant Published user-v2",
    ]);
  });

  it("a publisher whose new token lacks PUBLISH stops publishing at once; a participant not connected cannot exchange", () => {
    const { live, updates, join, clock } = stage();
    join("a");
    join("b");
    live.publish("a");
    const down = {
      userId: "user-a",
      attributes: {},
      capabilities: ["SUBSCRIBE" as const],
      token: tokenOf("a", clock() + 60_000),
    };
    expect(live.exchange("a", down)).toBe(true);
    expect(live.participant("a")!.publishing).toBe(false);
    expect(live.participant("a")!.events.map((e) => e.name)).toEqual([
      "JOINED",
      "PUBLISH_STARTED",
      "TOKEN_EXCHANGED",
      "PUBLISH_STOPPED",
    ]);
    expect(updates.map((u) => u.eventName)).toEqual([
      "Participant Published",
      "Token Exchanged",
      "Participant Unpublished",
    ]);
    live.leave("b");
    expect(live.exchange("b", down)).toBe(false);
    expect(live.exchange("nobody", down)).toBe(false);
    expect(live.participant("b")!.events.map((e) => e.name)).toEqual(["JOINED", "LEFT"]);
  });

  it("one that left and joins again within the session gets what its newer token says", () => {
    const { live, join } = stage();
    join("a", ["SUBSCRIBE"]);
    join("b");
    live.leave("a");
    join("a", ["PUBLISH", "SUBSCRIBE"]);
    expect(live.participant("a")!.capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
    expect(live.publish("a")).toEqual({ ok: true });
    expect(live.participant("a")!.events.map((e) => e.name)).toEqual(["JOINED", "LEFT", "JOINED", "PUBLISH_STARTED"]);
  });
});

// -----------------------------------------------------------------------------------------------------------------

const update = (n: number): StageUpdate => ({
  stageArn: STAGE,
  sessionId: "st-AAAAAAAAAAAAA",
  eventName: n % 2 ? "Participant Published" : "Participant Unpublished",
  participantId: `p${n}`,
  userId: "",
  time: Date.parse("2025-04-23T06:36:53.789Z"),
});

async function sentBy(outbox: EventOutbox): Promise<string[]> {
  await outbox.settled();
  return outbox.log().sent.map((e) => e.detail.participant_id as string);
}

describe("EventOutbox delivery controls", () => {
  it("sends in order when told nothing", async () => {
    const outbox = new EventOutbox({ region: "us-east-1", accountId: "123456789012" });
    for (let i = 1; i <= 3; i++) outbox.emit(update(i));
    expect(await sentBy(outbox)).toEqual(["p1", "p2", "p3"]);
  });

  it("drops, duplicates and reorders the next events, one control after the other", async () => {
    const outbox = new EventOutbox({ region: "us-east-1", accountId: "123456789012" });
    outbox.addControl({ mode: "duplicate", remaining: 2 });
    outbox.addControl({ mode: "drop", remaining: 1 });
    outbox.addControl({ mode: "reorder", remaining: 3 });
    for (let i = 1; i <= 7; i++) outbox.emit(update(i));
    expect(await sentBy(outbox)).toEqual(["p1", "p1", "p2", "p2", "p6", "p5", "p4", "p7"]);
    expect(outbox.log().dropped.map((e) => e.detail.participant_id)).toEqual(["p3"]);

    outbox.addControl({ mode: "reorder", remaining: 10 });
    outbox.emit(update(8));
    outbox.emit(update(9));
    expect(outbox.log().held.map((e) => e.detail.participant_id)).toEqual(["p8", "p9"]);
    outbox.flush();
    expect((await sentBy(outbox)).slice(-2)).toEqual(["p9", "p8"]);
    expect(outbox.log().controls).toEqual([]);
  });

  it("parses control bodies", () => {
    expect(parseDeliveryControl({ drop: 2 })).toEqual({ mode: "drop", remaining: 2 });
    expect(parseDeliveryControl({ duplicate: true })).toEqual({ mode: "duplicate", remaining: 1 });
    expect(parseDeliveryControl({ reorder: 1000 })).toEqual({ mode: "reorder", remaining: 1000 });
    for (const bad of [
      null,
      [],
      {},
      { drop: 0 },
      { drop: 1.5 },
      { reorder: 1001 },
      { drop: false },
      { drop: 1, reorder: 2 },
      { delay: 1 },
    ]) {
      expect(typeof parseDeliveryControl(bad)).toBe("string");
    }
  });

  it("wraps a token exchange as the Token Exchanged stage update", () => {
    const event = stageUpdateEvent(
      { ...update(1), eventName: "Token Exchanged", userId: "u" },
      "eu-west-1",
      "111122223333",
    );
    expect(event["detail-type"]).toBe("IVS Stage Update");
    expect(event.detail).toEqual({
      session_id: "st-AAAAAAAAAAAAA",
      event_name: "Token Exchanged",
      event_time: "2025-04-23T06:36:53Z",
      user_id: "u",
      participant_id: "p1",
    });
  });

  it("wraps an update in EventBridge's envelope, times to the second", () => {
    const event = stageUpdateEvent(update(1), "eu-west-1", "111122223333");
    expect(event).toEqual({
      version: "0",
      id: expect.any(String),
      "detail-type": "IVS Stage Update",
      source: "aws.ivs",
      account: "111122223333",
      time: "2025-04-23T06:36:53Z",
      region: "eu-west-1",
      resources: [STAGE],
      detail: {
        session_id: "st-AAAAAAAAAAAAA",
        event_name: "Participant Published",
        event_time: "2025-04-23T06:36:53Z",
        user_id: "",
        participant_id: "p1",
      },
    });
    expect(stageUpdateEvent(update(1), "eu-west-1", "111122223333").id).not.toBe(event.id);
  });
});
