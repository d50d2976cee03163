// IVS's EventBridge events as shared/live/events.ts reads them: the IVS Stage Update envelope and detail, and
// everything else ignored with a reason (never thrown: a malformed event does not get better on a retry).
import { describe, expect, it } from "vitest";
import { latestMomentOf, parseStageUpdate } from "../../shared/live/events.ts";

const STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/AbCdef1G2hij";
/** The envelope and detail fields IVS documents for a Stage Update (EventBridge with IVS Real-Time). */
const published = (detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) => ({
  version: "0",
  id: "12345678-1a23-4567-a1bc-1a2b34567890",
  "detail-type": "IVS Stage Update",
  source: "aws.ivs",
  account: "123456789012",
  time: "2026-12-01T10:00:07Z",
  region: "us-east-1",
  resources: [STAGE],
  detail: {
    session_id: "st-ZyXwvu1T2s3r4",
    event_name: "Participant Published",
    user_id: "sub-1",
    participant_id: "xYz1c2d3e4f",
    ...detail,
  },
  ...envelope,
});

describe("parseStageUpdate", () => {
  it("reads a Participant Published event: the room is the stage id, the time the end of its second", () => {
    expect(parseStageUpdate(published())).toEqual({
      kind: "stage",
      roomId: "AbCdef1G2hij",
      stageArn: STAGE,
      eventId: "12345678-1a23-4567-a1bc-1a2b34567890",
      event: {
        sessionId: "st-ZyXwvu1T2s3r4",
        name: "published",
        participantId: "xYz1c2d3e4f",
        userId: "sub-1",
        at: Date.parse("2026-12-01T10:00:07.999Z"),
      },
    });
  });

  it("prefers IVS's event_time to EventBridge's time; names it does not act on are 'other'", () => {
    const e = parseStageUpdate(
      published({ event_name: "Participant Unpublished", event_time: "2026-12-01T10:00:05.250Z" }),
    );
    expect(e).toMatchObject({
      kind: "stage",
      event: { name: "unpublished", at: Date.parse("2026-12-01T10:00:05.250Z") },
    });
    for (const name of [
      "Participant Publish Error",
      "Participant Replication Started",
      "Token Exchanged",
      "constructor",
      "toString",
    ]) {
      expect(parseStageUpdate(published({ event_name: name }))).toMatchObject({
        kind: "stage",
        event: { name: "other" },
      });
    }
  });

  it("an event with no user id is still read (tokens may be made without one)", () => {
    const detail = published().detail as Record<string, unknown>;
    delete detail.user_id;
    expect(parseStageUpdate({ ...published(), detail })).toMatchObject({ kind: "stage", event: { userId: "" } });
  });

  it("ignores, with a reason, whatever is not a readable IVS Stage Update", () => {
    const cases: unknown[] = [
      null,
      "x",
      [],
      {},
      published({}, { source: "aws.ec2" }),
      published({}, { "detail-type": "IVS Composition State Change" }),
      published({}, { resources: [] }),
      published({}, { resources: ["arn:aws:ivs:us-east-1:123456789012:channel/abc"] }),
      published({ session_id: "nope" }),
      published({ participant_id: "" }),
      published({ participant_id: "a/b" }),
      published({ event_name: 7 }),
      published({}, { time: "yesterday" }),
      { ...published(), detail: "x" },
    ];
    for (const c of cases) {
      const parsed = parseStageUpdate(c);
      expect(parsed.kind, JSON.stringify(c)).toBe("ignored");
      expect((parsed as { reason: string }).reason.length).toBeGreaterThan(0);
    }
    expect(parseStageUpdate(published({ session_id: "nope" }))).toMatchObject({ roomId: "AbCdef1G2hij" });
  });
});

describe("latestMomentOf", () => {
  it("the latest moment a timestamp can stand for, by its precision", () => {
    expect(latestMomentOf("2026-12-01T10:00:07Z")).toBe(Date.parse("2026-12-01T10:00:07.999Z"));
    expect(latestMomentOf("2026-12-01T10:00:07.2Z")).toBe(Date.parse("2026-12-01T10:00:07.299Z"));
    expect(latestMomentOf("2026-12-01T10:00:07.25Z")).toBe(Date.parse("2026-12-01T10:00:07.259Z"));
    expect(latestMomentOf("2026-12-01T10:00:07.250Z")).toBe(Date.parse("2026-12-01T10:00:07.250Z"));
    expect(latestMomentOf("2026-12-01T11:00:07+01:00")).toBe(Date.parse("2026-12-01T10:00:07.999Z"));
    for (const bad of [undefined, 5, "", "2026-12-01", "2026-13-45T99:00:00Z"])
      expect(latestMomentOf(bad)).toBeUndefined();
  });
});
