/**
 * The live-state webhook events (shared/webhooks/live-events.ts): session start and end, joins, leaves, publishing,
 * from the state before and after an update; duplicates of one change carry one id.
 */
import { describe, expect, it } from "vitest";
import { EVENT_ID } from "../../shared/webhooks/events.ts";
import { liveStateEvents, type LiveParticipantView, type LiveStateView } from "../../shared/webhooks/live-events.ts";

const p = (id: string, o: Partial<LiveParticipantView> = {}): LiveParticipantView => ({
  participantId: id,
  userId: `user-${id}`,
  connected: true,
  connectedAt: 1_000,
  publishing: false,
  publishingAt: 0,
  issued: { role: "speaker" },
  ...o,
});
const state = (
  sessionId: string | null,
  participants: LiveParticipantView[],
  sessionEndedAt: number | null = null,
): LiveStateView => ({
  sessionId,
  sessionEndedAt,
  participants: Object.fromEntries(participants.map((x) => [x.participantId, x])),
});
const summary = (events: ReturnType<typeof liveStateEvents>) =>
  events.map((e) => {
    const d = e.data as { participantId?: string; sessionId?: string };
    return `${e.type} ${d.participantId ?? d.sessionId}`;
  });

describe("live-state webhook events", () => {
  it("a first join: room.started, then participant.joined, with the session and the issued user's id", () => {
    const events = liveStateEvents("r1", state(null, []), state("st-1", [p("a")]), 5_000);
    expect(summary(events)).toEqual(["room.started st-1", "participant.joined a"]);
    expect(events[1]!.data).toEqual({ roomId: "r1", sessionId: "st-1", participantId: "a", userId: "user-a" });
    expect(events[1]!.timestamp).toBe(new Date(1_000).toISOString());
    for (const e of events) expect(e.id).toMatch(EVENT_ID);
  });

  it("publishing, unpublishing, leaving, and the session's end", () => {
    const s1 = state("st-1", [p("a"), p("b")]);
    const s2 = state("st-1", [p("a", { publishing: true, publishingAt: 2_000 }), p("b")]);
    const s3 = state("st-1", [
      p("a", { publishing: false, publishingAt: 3_000 }),
      p("b", { connected: false, connectedAt: 3_500 }),
    ]);
    const s4 = state(
      "st-1",
      [p("a", { connected: false, connectedAt: 4_000 }), p("b", { connected: false, connectedAt: 3_500 })],
      4_500,
    );
    expect(summary(liveStateEvents("r1", s1, s2, 9))).toEqual(["participant.published a"]);
    expect(summary(liveStateEvents("r1", s2, s3, 9))).toEqual(["participant.unpublished a", "participant.left b"]);
    const end = liveStateEvents("r1", s3, s4, 9_999);
    expect(summary(end)).toEqual(["room.ended st-1", "participant.left a"]);
    expect(end[0]!.timestamp).toBe(new Date(4_500).toISOString());
  });

  it("nothing changed (a duplicate event, a read that confirms): no event", () => {
    const s = state("st-1", [p("a", { publishing: true, publishingAt: 2_000 })]);
    expect(liveStateEvents("r1", s, structuredClone(s), 9)).toEqual([]);
  });

  it("the same change seen by two updates gets one id; another change another id", () => {
    const before = state("st-1", []);
    const after = state("st-1", [p("a")]);
    const [x] = liveStateEvents("r1", before, after, 1);
    const [y] = liveStateEvents("r1", before, after, 2);
    expect(x!.id).toBe(y!.id);
    const [z] = liveStateEvents("r1", before, state("st-1", [p("a", { connectedAt: 7_000 })]), 1);
    expect(z!.id).not.toBe(x!.id);
    expect(liveStateEvents("r2", before, after, 1)[0]!.id).not.toBe(x!.id);
  });

  it("a new session: the old one ends, the new one starts, its participants join from nobody", () => {
    const events = liveStateEvents("r1", state("st-1", [p("a")]), state("st-2", [p("c")]), 5_000);
    expect(summary(events)).toEqual(["room.ended st-1", "room.started st-2", "participant.joined c"]);
  });

  it("a participant first seen gone joins and leaves; one stagepass did not issue has no user id", () => {
    const gone = p("g", { connected: false, connectedAt: 3_000, joinedAt: new Date(2_000).toISOString() });
    const foreign = p("f", { issued: null, userId: "someone@example.com" });
    const events = liveStateEvents("r1", state("st-1", []), state("st-1", [gone, foreign]), 9);
    expect(summary(events)).toEqual(["participant.joined g", "participant.left g", "participant.joined f"]);
    expect(events[0]!.timestamp).toBe(new Date(2_000).toISOString());
    expect(events[2]!.data).toMatchObject({ userId: null });
    expect(JSON.stringify(events)).not.toContain("example.com");
  });
});
