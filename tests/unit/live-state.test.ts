// A room's live state (shared/live/state.ts): Stage Update events and IVS reads merged so that the result does not
// depend on the order they arrive in, a duplicate changes nothing, an older event never overwrites a newer state,
// and a read repairs what missed events left wrong.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  annotate,
  applyRead,
  applyStageEvent,
  emptyLiveState,
  isLive,
  liveCounts,
  MAX_PARTICIPANTS,
  nextRead,
  participantsView,
  unannotated,
  type IvsRead,
  type LiveState,
  type ParticipantSummary,
  type StageEvent,
} from "../../shared/live/state.ts";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const S1 = "st-AAAAAAAAAAAAA";
const S2 = "st-BBBBBBBBBBBBB";
/** An event as IVS sends it: whole seconds, so its evidence is the end of that second. */
const ev = (name: StageEvent["name"], participantId: string, atMs: number, sessionId = S1): StageEvent => ({
  sessionId,
  name,
  participantId,
  userId: `user-${participantId}`,
  at: Math.floor(atMs / 1000) * 1000 + 999,
});
const summary = (
  participantId: string,
  state: "CONNECTED" | "DISCONNECTED",
  published: boolean,
  joinedMs = T0,
): ParticipantSummary => ({
  participantId,
  userId: `user-${participantId}`,
  state,
  firstJoinTime: new Date(joinedMs).toISOString(),
  published,
});
const listed = (at: number, participants: ParticipantSummary[], sessionId = S1): IvsRead => ({
  kind: "participants",
  at,
  sessionId,
  participants,
  nextToken: null,
});
const stage = (at: number, activeSessionId: string | null): IvsRead => ({ kind: "stage", at, activeSessionId });
const apply = (state: LiveState, ...inputs: Array<StageEvent | IvsRead>) =>
  inputs.reduce((s, x) => ("kind" in x ? applyRead(s, x) : applyStageEvent(s, x)), state);
const view = (s: LiveState) => participantsView(s, "all");

describe("events", () => {
  it("a Published event puts a connected publisher on stage, in that session", () => {
    const s = apply(emptyLiveState(), ev("published", "p1", T0));
    expect(s.sessionId).toBe(S1);
    expect(isLive(s)).toBe(true);
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 1 });
    expect(participantsView(s, "connected").participants).toEqual([
      {
        participantId: "p1",
        userId: "user-p1",
        displayName: null,
        role: null,
        state: "connected",
        publishing: true,
        joinedAt: "2026-12-01T10:00:00.999Z",
      },
    ]);
  });

  it("a duplicate changes nothing (the very same state object comes back: no write follows)", () => {
    const once = apply(emptyLiveState(), ev("published", "p1", T0), ev("unpublished", "p1", T0 + 5_000));
    expect(applyStageEvent(once, ev("unpublished", "p1", T0 + 5_000))).toBe(once);
    expect(applyStageEvent(once, ev("published", "p1", T0))).toBe(once);
  });

  it("an older event never overwrites a newer state: Unpublished then a late Published", () => {
    const s = apply(
      emptyLiveState(),
      ev("published", "p1", T0),
      ev("unpublished", "p1", T0 + 3_000),
      ev("published", "p1", T0 + 1_000),
    );
    expect(liveCounts(s).publishing).toBe(0);
    const reversed = apply(
      emptyLiveState(),
      ev("unpublished", "p1", T0 + 3_000),
      ev("published", "p1", T0 + 1_000),
      ev("published", "p1", T0),
    );
    expect(view(reversed)).toEqual(view(s));
  });

  it("within one second (IVS's event times are whole seconds) Unpublished wins, whatever the order", () => {
    const a = apply(emptyLiveState(), ev("published", "p1", T0 + 100), ev("unpublished", "p1", T0 + 600));
    const b = apply(emptyLiveState(), ev("unpublished", "p1", T0 + 600), ev("published", "p1", T0 + 100));
    expect(liveCounts(a).publishing).toBe(0);
    expect(view(b)).toEqual(view(a));
  });

  it("events of another kind (Publish Error, replication...) change nothing", () => {
    const s = apply(emptyLiveState(), ev("published", "p1", T0));
    expect(applyStageEvent(s, ev("other", "p1", T0 + 1_000))).toBe(s);
  });

  it("a late event of an earlier session never brings it back", () => {
    const s = apply(emptyLiveState(), ev("published", "p1", T0, S1), ev("published", "p9", T0 + 60_000, S2));
    expect(s.sessionId).toBe(S2);
    const late = apply(s, ev("published", "p1", T0 + 1_000, S1), ev("unpublished", "p9", T0 + 1_000, S1));
    expect(view(late)).toEqual(view(s));
    // Also when the earlier session was never seen: its events are older than what we hold.
    const fresh = apply(emptyLiveState(), stage(T0 + 60_000, S2));
    expect(apply(fresh, ev("published", "p1", T0, S1))).toEqual(fresh);
  });
});

describe("reads", () => {
  it("GetStage finds the session; ListParticipants brings who is connected, with IVS's join time", () => {
    let s = apply(emptyLiveState(), stage(T0 + 1_000, S1));
    expect(isLive(s)).toBe(true);
    expect(liveCounts(s)).toEqual({ connected: 0, publishing: 0 });
    s = apply(s, listed(T0 + 6_000, [summary("p1", "CONNECTED", false), summary("p2", "CONNECTED", false, T0 + 500)]));
    expect(liveCounts(s)).toEqual({ connected: 2, publishing: 0 });
    expect(participantsView(s, "connected").participants.map((p) => [p.participantId, p.joinedAt])).toEqual([
      ["p1", "2026-12-01T10:00:00.000Z"],
      ["p2", "2026-12-01T10:00:00.500Z"],
    ]);
    expect(participantsView(s, "connected").asOf).toBe("2026-12-01T10:00:06.000Z");
  });

  it("asOf is when the session's whole participant list was asked for (or IVS said nobody was on stage), not any read", () => {
    let s = apply(emptyLiveState(), stage(T0, S1));
    expect(participantsView(s, "connected").asOf).toBeNull();
    s = applyRead(s, {
      kind: "participants",
      at: T0 + 5_000,
      sessionId: S1,
      participants: [summary("p1", "CONNECTED", false)],
      nextToken: "more",
    });
    expect(s.asOf).toBeNull();
    s = applyRead(s, {
      kind: "participants",
      at: T0 + 10_000,
      sessionId: S1,
      participants: [summary("p2", "CONNECTED", false)],
      nextToken: null,
    });
    expect(participantsView(s, "connected").asOf).toBe("2026-12-01T10:00:05.000Z");
    s = applyRead(s, {
      kind: "events",
      at: T0 + 15_000,
      sessionId: S1,
      participantId: "p1",
      nextToken: null,
      events: [],
    });
    expect(s.asOf).toBe(T0 + 5_000);
    expect(s.readAt).toBe(T0 + 15_000);
    s = apply(s, stage(T0 + 20_000, null));
    expect(participantsView(s, "connected").asOf).toBe("2026-12-01T10:00:20.000Z");
    expect(apply(emptyLiveState(), stage(T0, null)).asOf).toBe(T0);
  });

  it("a missed Published event is repaired by the read (published, connected, nothing else known: publishing)", () => {
    const s = apply(emptyLiveState(), stage(T0, S1), listed(T0 + 5_000, [summary("p1", "CONNECTED", true)]));
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 1 });
    // ...and the Published event, when it does come, only confirms it.
    expect(liveCounts(apply(s, ev("published", "p1", T0 + 2_000)))).toEqual({ connected: 1, publishing: 1 });
  });

  it("a Published event lost after a read saw the participant not publishing: the next read sees it published, and it is", () => {
    let s = apply(emptyLiveState(), stage(T0, S1), listed(T0 + 5_000, [summary("p1", "CONNECTED", false)]));
    expect(liveCounts(s).publishing).toBe(0);
    s = apply(s, listed(T0 + 10_000, [summary("p1", "CONNECTED", true)]));
    expect(liveCounts(s).publishing).toBe(1);
    expect(s.participants.p1!.inferred).toBe(true);
    // Inferred as of just after what was known: a later Unpublished replaces it...
    expect(liveCounts(apply(s, ev("unpublished", "p1", T0 + 8_000))).publishing).toBe(0);
    // ...and its own event list is read next to settle it.
    expect(nextRead(s, T0 + 15_000)).toEqual({ kind: "events", sessionId: S1, participantId: "p1", nextToken: null });
    const settled = applyRead(s, {
      kind: "events",
      at: T0 + 15_000,
      sessionId: S1,
      participantId: "p1",
      nextToken: null,
      events: [{ name: "PUBLISH_STARTED", eventTime: T0 + 7_000 }],
    });
    expect(settled.participants.p1).toMatchObject({ publishing: true, publishingAt: T0 + 15_000 });
    expect(settled.participants.p1!.inferred).toBeUndefined();
  });

  it("an inferred publish never overrides a known Unpublished (the read only says the participant published once)", () => {
    const s = apply(
      emptyLiveState(),
      ev("published", "p1", T0),
      ev("unpublished", "p1", T0 + 2_000),
      listed(T0 + 5_000, [summary("p1", "CONNECTED", true)]),
    );
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 0 });
  });

  it("a missed Unpublished is repaired when the read finds the participant gone; a late Published does not bring it back", () => {
    let s = apply(emptyLiveState(), ev("published", "p1", T0));
    s = apply(s, listed(T0 + 10_000, [summary("p1", "DISCONNECTED", true)]));
    expect(liveCounts(s)).toEqual({ connected: 0, publishing: 0 });
    expect(participantsView(s, "all").participants[0]).toMatchObject({
      state: "disconnected",
      publishing: false,
      leftAt: "2026-12-01T10:00:10.000Z",
    });
    expect(liveCounts(apply(s, ev("published", "p1", T0 + 4_000)))).toEqual({ connected: 0, publishing: 0 });
  });

  it("a read older than an event does not undo it", () => {
    const s = apply(
      emptyLiveState(),
      stage(T0, S1),
      ev("published", "p1", T0 + 7_000),
      listed(T0 + 6_000, [summary("p1", "CONNECTED", false)]),
    );
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 1 });
  });

  it("a read within the second of an event does not hide it (events count from the end of their second)", () => {
    // Published at 10:00:07.800 is sent as 10:00:07; a read sent at 10:00:07.300 saw no publish yet.
    const s = apply(
      emptyLiveState(),
      stage(T0, S1),
      listed(T0 + 7_300, [summary("p1", "CONNECTED", false)]),
      ev("published", "p1", T0 + 7_800),
    );
    expect(liveCounts(s).publishing).toBe(1);
  });

  it("GetStage with no active session ends the session: nobody counted, the latest session still listed with state=all", () => {
    let s = apply(
      emptyLiveState(),
      ev("published", "p1", T0),
      listed(T0 + 5_000, [summary("p1", "CONNECTED", true), summary("p2", "CONNECTED", false)]),
    );
    s = apply(s, stage(T0 + 20_000, null));
    expect(isLive(s)).toBe(false);
    expect(liveCounts(s)).toEqual({ connected: 0, publishing: 0 });
    expect(participantsView(s, "connected")).toMatchObject({ sessionId: null, participants: [] });
    const all = participantsView(s, "all");
    expect(all.sessionId).toBe(S1);
    expect(all.participants.map((p) => [p.participantId, p.state, p.publishing, p.leftAt])).toEqual([
      ["p1", "disconnected", false, "2026-12-01T10:00:20.000Z"],
      ["p2", "disconnected", false, "2026-12-01T10:00:20.000Z"],
    ]);
    // Late events of the ended session change nothing.
    expect(liveCounts(apply(s, ev("published", "p2", T0 + 19_000)))).toEqual({ connected: 0, publishing: 0 });
  });

  it("a GetStage read older than the session's first evidence does not end it", () => {
    const s = apply(emptyLiveState(), ev("published", "p1", T0 + 10_000), stage(T0 + 5_000, null));
    expect(isLive(s)).toBe(true);
  });

  it("a new session (GetStage or an event) replaces the old one's participants", () => {
    let s = apply(emptyLiveState(), ev("published", "p1", T0));
    s = apply(s, stage(T0 + 30_000, S2));
    expect(s.sessionId).toBe(S2);
    expect(participantsView(s, "all").participants).toEqual([]);
    s = apply(s, listed(T0 + 35_000, [summary("p7", "CONNECTED", false, T0 + 29_000)], S2));
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 0 });
    // A page of the old session, answered late, changes nothing.
    expect(liveCounts(apply(s, listed(T0 + 36_000, [summary("p1", "CONNECTED", true)], S1)))).toEqual({
      connected: 1,
      publishing: 0,
    });
  });

  it("the participant's own event list (ListParticipantEvents) settles whether it publishes now, across pages", () => {
    let s = apply(emptyLiveState(), ev("published", "p1", T0), listed(T0 + 5_000, [summary("p1", "CONNECTED", true)]));
    // The Unpublished event was lost: the list still says "published at some point".
    expect(liveCounts(s).publishing).toBe(1);
    s = applyRead(s, {
      kind: "events",
      at: T0 + 60_000,
      sessionId: S1,
      participantId: "p1",
      nextToken: "page2",
      events: [
        { name: "JOINED", eventTime: T0 - 500 },
        { name: "PUBLISH_STARTED", eventTime: T0 + 300 },
      ],
    });
    expect(liveCounts(s).publishing).toBe(1);
    expect(s.cursor).toMatchObject({ kind: "events", participantId: "p1", nextToken: "page2" });
    s = applyRead(s, {
      kind: "events",
      at: T0 + 65_000,
      sessionId: S1,
      participantId: "p1",
      nextToken: null,
      events: [
        { name: "SUBSCRIBE_STARTED", eventTime: T0 + 400 },
        { name: "PUBLISH_STOPPED", eventTime: T0 + 20_000 },
      ],
    });
    expect(s.cursor).toBeNull();
    expect(liveCounts(s)).toEqual({ connected: 1, publishing: 0 });
    expect(s.participants.p1!.verifiedAt).toBe(T0 + 60_000);
  });
});

describe("order does not matter", () => {
  // A session's true history: each participant joins, may publish and unpublish any number of times, may leave.
  const historyArb = fc.array(
    fc.record({
      participant: fc.constantFrom("p1", "p2", "p3"),
      gapMs: fc.integer({ min: 1, max: 4_000 }),
      op: fc.constantFrom("publish", "unpublish", "leave"),
    }),
    { minLength: 1, maxLength: 25 },
  );

  /** The history's events (as IVS would send them) and the participants' true final state. */
  function play(history: Array<{ participant: string; gapMs: number; op: string }>) {
    let t = T0;
    const truth = new Map<
      string,
      { connected: boolean; publishing: boolean; publishedEver: boolean; lastPublishAt: number }
    >();
    const events: StageEvent[] = [];
    for (const step of history) {
      t += step.gapMs;
      const p = truth.get(step.participant) ?? {
        connected: true,
        publishing: false,
        publishedEver: false,
        lastPublishAt: 0,
      };
      if (!p.connected) continue; // gone for good (a new participant id would join)
      if (step.op === "publish" && !p.publishing) {
        truth.set(step.participant, { ...p, publishing: true, publishedEver: true, lastPublishAt: t });
        events.push(ev("published", step.participant, t));
      } else if (step.op === "unpublish" && p.publishing) {
        truth.set(step.participant, { ...p, publishing: false, lastPublishAt: t });
        events.push(ev("unpublished", step.participant, t));
      } else if (step.op === "leave") {
        if (p.publishing) events.push(ev("unpublished", step.participant, t));
        truth.set(step.participant, { ...p, connected: false, publishing: false });
      } else {
        truth.set(step.participant, p);
      }
    }
    return { events, truth, end: t };
  }

  const deliveryArb = (n: number) =>
    fc.record({
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      duplicates: fc.array(fc.nat({ max: Math.max(0, n - 1) }), { maxLength: n }),
      dropped: fc.subarray([...Array(n).keys()]),
    });

  it("the same events in any order, any of them twice, give the same state", () => {
    fc.assert(
      fc.property(
        historyArb.chain((h) => {
          const played = play(h);
          return fc.tuple(fc.constant(played), deliveryArb(played.events.length), deliveryArb(played.events.length));
        }),
        ([played, a, b]) => {
          const deliver = (d: { order: number[]; duplicates: number[] }) =>
            [...d.order, ...d.duplicates.filter((i) => i < played.events.length)].map((i) => played.events[i]!);
          const sa = apply(emptyLiveState(), ...deliver(a));
          const sb = apply(emptyLiveState(), ...deliver(b));
          expect(view(sa)).toEqual(view(sb));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("whatever was delivered (late, twice, out of order, dropped), reading IVS afterwards gives the true counts", () => {
    fc.assert(
      fc.property(
        historyArb.chain((h) => {
          const played = play(h);
          return fc.tuple(fc.constant(played), deliveryArb(played.events.length));
        }),
        ([played, d]) => {
          const delivered = [
            ...d.order.filter((i) => !d.dropped.includes(i)),
            ...d.duplicates.filter((i) => i < played.events.length),
          ].map((i) => played.events[i]!);
          let s = apply(emptyLiveState(), stage(T0 - 1_000, S1), ...delivered);
          // The refresh's reads, after the history: the list of participants, then each one's own events.
          const readAt = played.end + 2_000;
          s = applyRead(
            s,
            listed(
              readAt,
              [...played.truth].map(([id, p]) =>
                summary(id, p.connected ? "CONNECTED" : "DISCONNECTED", p.publishedEver),
              ),
            ),
          );
          for (const [id, p] of played.truth) {
            s = applyRead(s, {
              kind: "events",
              at: readAt + 1_000,
              sessionId: S1,
              participantId: id,
              nextToken: null,
              events: [
                { name: "JOINED", eventTime: T0 },
                ...(p.lastPublishAt
                  ? [{ name: p.publishing ? "PUBLISH_STARTED" : "PUBLISH_STOPPED", eventTime: p.lastPublishAt }]
                  : []),
                ...(p.connected ? [] : [{ name: "LEFT", eventTime: played.end }]),
              ],
            });
          }
          const truth = [...played.truth.values()];
          expect(liveCounts(s)).toEqual({
            connected: truth.filter((p) => p.connected).length,
            publishing: truth.filter((p) => p.connected && p.publishing).length,
          });
          // ...and with only the participant list (no event list), everyone gone and everyone who never published is right.
          const listedOnly = applyRead(
            apply(emptyLiveState(), stage(T0 - 1_000, S1), ...delivered),
            listed(
              readAt,
              [...played.truth].map(([id, p]) =>
                summary(id, p.connected ? "CONNECTED" : "DISCONNECTED", p.publishedEver),
              ),
            ),
          );
          expect(liveCounts(listedOnly).connected).toBe(truth.filter((p) => p.connected).length);
          for (const [id, p] of played.truth) {
            if (!p.connected || !p.publishedEver)
              expect(listedOnly.participants[id]!.publishing && listedOnly.participants[id]!.connected).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("which read comes next (one IVS call per refresh)", () => {
  it("GetStage while no session is known or the last one ended; then the participants, page by page", () => {
    expect(nextRead(emptyLiveState(), T0)).toEqual({ kind: "stage" });
    let s = apply(emptyLiveState(), stage(T0, S1));
    expect(nextRead(s, T0)).toEqual({ kind: "participants", sessionId: S1, nextToken: null });
    s = applyRead(s, {
      kind: "participants",
      at: T0 + 5_000,
      sessionId: S1,
      participants: [summary("p1", "CONNECTED", false)],
      nextToken: "more",
    });
    expect(nextRead(s, T0 + 10_000)).toEqual({ kind: "participants", sessionId: S1, nextToken: "more" });
    s = apply(s, stage(T0 + 20_000, null));
    expect(nextRead(s, T0 + 25_000)).toEqual({ kind: "stage" });
  });

  it("when nobody seems connected any more, GetStage: has the session ended, or a new one begun?", () => {
    const s = apply(emptyLiveState(), stage(T0, S1), listed(T0 + 5_000, [summary("p1", "DISCONNECTED", false)]));
    expect(nextRead(s, T0 + 10_000)).toEqual({ kind: "stage" });
    expect(nextRead(apply(s, stage(T0 + 10_000, S1)), T0 + 15_000)).toEqual({
      kind: "participants",
      sessionId: S1,
      nextToken: null,
    });
  });

  it("a publish the list only infers is confirmed from the participant's own events, every other read", () => {
    const s = apply(
      emptyLiveState(),
      stage(T0, S1),
      listed(T0 + 5_000, [summary("p1", "CONNECTED", true), summary("p2", "CONNECTED", false)]),
    );
    expect(nextRead(s, T0 + 10_000)).toEqual({ kind: "events", sessionId: S1, participantId: "p1", nextToken: null });
    const after = applyRead(s, {
      kind: "events",
      at: T0 + 10_000,
      sessionId: S1,
      participantId: "p1",
      nextToken: null,
      events: [{ name: "PUBLISH_STARTED", eventTime: T0 + 1 }],
    });
    expect(nextRead(after, T0 + 15_000)).toEqual({ kind: "participants", sessionId: S1, nextToken: null });
    // Confirmed publishers are checked again after a while (a lost Unpublished while still connected).
    const later = applyRead(after, listed(T0 + 15_000, [summary("p1", "CONNECTED", true)]));
    expect(nextRead(later, T0 + 20_000).kind).toBe("participants");
    expect(nextRead(later, T0 + 10_000 + 5 * 60_000)).toEqual({
      kind: "events",
      sessionId: S1,
      participantId: "p1",
      nextToken: null,
    });
  });
});

describe("stagepass's own records", () => {
  it("participants are looked up once; those stagepass did not issue show role and display name null", () => {
    let s = apply(
      emptyLiveState(),
      stage(T0, S1),
      listed(T0 + 5_000, [summary("p1", "CONNECTED", false), summary("p2", "CONNECTED", false)]),
    );
    expect(unannotated(s).sort()).toEqual(["p1", "p2"]);
    s = annotate(s, { p1: { role: "speaker", displayName: "Ana" }, p2: null });
    expect(unannotated(s)).toEqual([]);
    expect(participantsView(s, "connected").participants.map((p) => [p.participantId, p.role, p.displayName])).toEqual([
      ["p1", "speaker", "Ana"],
      ["p2", null, null],
    ]);
    // Annotations stay across reads.
    s = applyRead(s, listed(T0 + 10_000, [summary("p1", "CONNECTED", true), summary("p2", "CONNECTED", false)]));
    expect(s.participants.p1!.issued).toEqual({ role: "speaker", displayName: "Ana" });
  });
});

describe("size", () => {
  it("the state keeps at most MAX_PARTICIPANTS, dropping the longest-gone first", () => {
    const many = Array.from({ length: MAX_PARTICIPANTS + 10 }, (_, i) =>
      summary(`p${i}`, i < 20 ? "DISCONNECTED" : "CONNECTED", false),
    );
    const s = apply(emptyLiveState(), stage(T0, S1), listed(T0 + 5_000, many));
    expect(Object.keys(s.participants)).toHaveLength(MAX_PARTICIPANTS);
    expect(liveCounts(s).connected).toBe(MAX_PARTICIPANTS + 10 - 20);
  });
});
