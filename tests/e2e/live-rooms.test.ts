/**
 * Live rooms through the offline stack: simulated clients join, publish and leave on the IVS emulator, whose Stage
 * Update events reach LiveStateFunction through the stack's event bus, and `GET /rooms/{roomId}/participants` shows
 * them (with the role and display name stagepass issued) within the freshness bound; events delivered twice, out
 * of order or not at all still converge; however many callers ask, a room costs IVS at most one read per 5 s;
 * events for a stage no room owns change nothing; the token path admits against the room's live counts (12
 * publishers, then a 13th refused or given SUBSCRIBE only; maxPublishers; maxParticipants).
 */
import { CreateParticipantTokenCommand, CreateStageCommand } from "@aws-sdk/client-ivs-realtime";
import { describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();
/** The freshness bound of the contract, and a margin for a busy machine. */
const FRESHNESS_MS = 10_000;
const POLL_LIMIT_MS = 40_000;
/** IVS's read operations (each spends the account's read budget). */
const READS = [
  "GetStage",
  "GetParticipant",
  "ListParticipants",
  "ListParticipantEvents",
  "GetStageSession",
  "ListStageSessions",
];

const suite = `lr${Date.now().toString(36)}`;
const login = (s: TestStack, name: string, preferredUsername?: string) =>
  s.login(`${suite}-${name}`, preferredUsername ? { preferredUsername } : {});

async function emulator(s: TestStack, route: string, body: unknown): Promise<ApiResponse> {
  const r = await fetch(`${s.stack.ivs.url}/_emulator/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined, text };
}

/** A simulated client: a token from stagepass, then a join on the emulator. */
async function join(s: TestStack, roomId: string, who: Session, body?: unknown): Promise<string> {
  const token = await s.api("POST", `/rooms/${roomId}/token`, { as: who, ...(body ? { body } : {}) });
  expect(token.status, token.text).toBe(200);
  const joined = await s.join(token.body.token);
  expect(joined.status, joined.text).toBe(200);
  return token.body.participantId as string;
}

const act = async (s: TestStack, route: "publish" | "unpublish" | "leave", participantId: string) => {
  const r = await emulator(s, route, { participantId });
  expect(r.status, r.text).toBe(200);
};

/** Every event the emulator sent has been handled by the functions. */
async function eventsHandled(s: TestStack): Promise<void> {
  await s.stack.ivs.eventsSettled();
  await s.stack.eventBus.drained();
}

/**
 * Asks for the participants until a response read from IVS after `since` (its `asOf`) satisfies `check`; fails if
 * none does within POLL_LIMIT_MS. Every response must be at most FRESHNESS_MS old when it is sent.
 */
async function seen(
  s: TestStack,
  who: Session,
  roomId: string,
  since: number,
  check: (body: any) => boolean,
  query = "",
): Promise<any> {
  const until = Date.now() + POLL_LIMIT_MS;
  let last: ApiResponse | undefined;
  for (;;) {
    const asked = Date.now();
    last = await s.api("GET", `/rooms/${roomId}/participants${query}`, { as: who });
    expect(last.status, last.text).toBe(200);
    const asOf = last.body.asOf === null ? 0 : Date.parse(last.body.asOf);
    if (asOf >= since && check(last.body)) return last.body;
    if (last.body.asOf !== null && asOf >= since)
      expect(asOf, "asOf within the freshness bound").toBeGreaterThanOrEqual(asked - FRESHNESS_MS);
    if (Date.now() > until) throw new Error(`not seen within ${POLL_LIMIT_MS} ms; last: ${last.text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const byId = (body: { participants: Array<{ participantId: string } & Record<string, any>> }) =>
  new Map(body.participants.map((p) => [p.participantId, p]));

describe("GET /rooms/{roomId}/participants", () => {
  it("three clients join and one publishes: each listed with role and display name, counts on the room; a leave is seen too", async () => {
    const s = stack();
    const owner = await login(s, "owner", "Olga");
    const speaker = await login(s, "speaker", "Sam");
    const viewer = await login(s, "viewer");
    const room = await s.createRoom(owner, { name: "live-three" });
    expect(
      (await s.api("PUT", `/rooms/${room.roomId}/members/${speaker.sub}`, { as: owner, body: { role: "speaker" } }))
        .status,
    ).toBe(200);

    const start = Date.now();
    const host = await join(s, room.roomId, owner);
    const talker = await join(s, room.roomId, speaker);
    const watcher = await join(s, room.roomId, viewer);
    await act(s, "publish", talker);
    const changed = Date.now();

    const body = await seen(
      s,
      viewer,
      room.roomId,
      changed,
      (b) => b.counts.connected === 3 && b.counts.publishing === 1,
    );
    expect(body.sessionId).toMatch(/^st-[a-zA-Z0-9]{13}$/);
    expect(Date.parse(body.asOf)).toBeGreaterThanOrEqual(start);
    const listed = byId(body);
    expect(listed.get(host)).toEqual({
      participantId: host,
      userId: owner.sub,
      displayName: "Olga",
      role: "host",
      state: "connected",
      publishing: false,
      joinedAt: expect.any(String),
    });
    expect(listed.get(talker)).toMatchObject({
      userId: speaker.sub,
      displayName: "Sam",
      role: "speaker",
      state: "connected",
      publishing: true,
    });
    // No preferred username: the display name is the username, as in the token's attributes.
    expect(listed.get(watcher)).toMatchObject({
      userId: viewer.sub,
      displayName: viewer.username,
      role: "viewer",
      publishing: false,
    });
    for (const p of body.participants) expect(Date.parse(p.joinedAt)).toBeGreaterThanOrEqual(start - 1_000);

    const roomView = await s.api("GET", `/rooms/${room.roomId}`, { as: viewer });
    expect(roomView.body).toMatchObject({
      live: true,
      activeSessionId: body.sessionId,
      counts: { connected: 3, publishing: 1 },
    });

    await act(s, "leave", talker);
    const left = Date.now();
    const after = await seen(s, viewer, room.roomId, left, (b) => b.counts.connected === 2);
    expect(after.counts).toEqual({ connected: 2, publishing: 0 });
    expect(byId(after).has(talker)).toBe(false);
    const all = await s.api("GET", `/rooms/${room.roomId}/participants?state=all`, { as: viewer });
    expect(byId(all.body).get(talker)).toMatchObject({
      state: "disconnected",
      publishing: false,
      role: "speaker",
      leftAt: expect.any(String),
    });
    expect(all.body.participants).toHaveLength(3);
  });

  it("a participant whose token was made elsewhere is listed with role and display name null", async () => {
    const s = stack();
    const owner = await login(s, "owner2");
    const room = await s.createRoom(owner, { name: "live-outsider" });
    const made = (
      await s.ivs.send(new CreateParticipantTokenCommand({ stageArn: room.stageArn, userId: "made-elsewhere" }))
    ).participantToken!;
    expect((await s.join(made.token!)).status).toBe(200);
    const changed = Date.now();
    const body = await seen(s, owner, room.roomId, changed, (b) => b.counts.connected === 1);
    expect(body.participants).toEqual([
      {
        participantId: made.participantId,
        userId: "made-elsewhere",
        displayName: null,
        role: null,
        state: "connected",
        publishing: false,
        joinedAt: expect.any(String),
      },
    ]);
  });

  it("nobody on stage: no session, nothing listed; bad input 400, a stranger to a members-only room 403, no room 404", async () => {
    const s = stack();
    const owner = await login(s, "owner3");
    const stranger = await login(s, "stranger3");
    const room = await s.createRoom(owner, { name: "live-empty" });
    const empty = await s.api("GET", `/rooms/${room.roomId}/participants`, { as: owner });
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body).toMatchObject({ sessionId: null, counts: { connected: 0, publishing: 0 }, participants: [] });
    const bad = await s.api("GET", `/rooms/${room.roomId}/participants?state=online`, { as: owner });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "validation_failed", errors: [{ path: "/query/state" }] });
    const closed = await s.createRoom(owner, { name: "live-closed", policy: { access: "members" } });
    expect((await s.api("GET", `/rooms/${closed.roomId}/participants`, { as: stranger })).status).toBe(403);
    expect((await s.api("GET", "/rooms/abcdABCD0000/participants", { as: owner })).status).toBe(404);
    expect((await s.api("GET", `/rooms/${room.roomId}/participants`)).status).toBe(401);
  });
});

describe("events delivered twice, out of order, or not at all", () => {
  it("converge: duplicates and a reversed pair change nothing wrong, a dropped Published is repaired by IVS's reads", async () => {
    const s = stack();
    const owner = await login(s, "owner4");
    const room = await s.createRoom(owner, { name: "live-chaos", policy: { defaultRole: "speaker" } });
    const a = await join(s, room.roomId, owner);
    const b = await join(s, room.roomId, await login(s, "b4"));
    const c = await join(s, room.roomId, await login(s, "c4"));
    const d = await join(s, room.roomId, await login(s, "d4"));

    // Each of the next two events sent twice (same id).
    expect((await emulator(s, "events", { duplicate: 2 })).status).toBe(200);
    await act(s, "publish", a);
    await act(s, "publish", b);
    await eventsHandled(s);
    // The next two held and sent in reverse order: Unpublished before Published.
    expect((await emulator(s, "events", { reorder: 2 })).status).toBe(200);
    await act(s, "publish", c);
    await act(s, "unpublish", c);
    await eventsHandled(s);
    await act(s, "unpublish", b);
    // The next one never sent: d's Published is lost.
    expect((await emulator(s, "events", { drop: 1 })).status).toBe(200);
    await act(s, "publish", d);
    await eventsHandled(s);

    const delivered = s.stack.eventBus.deliveries().filter((x) => x.rule === "LiveStateFunction.StageUpdates");
    expect(
      delivered.every((x) => x.status === "delivered"),
      JSON.stringify(delivered),
    ).toBe(true);
    const sent = s.stack.ivs.sentEvents().filter((e) => e.resources[0] === room.stageArn);
    const ids = sent.map((e) => e.id);
    expect(ids.length - new Set(ids).size).toBe(2);
    expect(sent.slice(-3).map((e) => e.detail.event_name)).toEqual([
      "Participant Unpublished",
      "Participant Published",
      "Participant Unpublished",
    ]);
    expect(sent.some((e) => e.detail.participant_id === d)).toBe(false);

    const changed = Date.now();
    const body = await seen(
      s,
      owner,
      room.roomId,
      changed,
      (x) => x.counts.connected === 4 && x.counts.publishing === 2,
    );
    const listed = byId(body);
    expect([a, b, c, d].map((id) => listed.get(id)?.publishing)).toEqual([true, false, false, true]);
  }, 120_000);

  it("a lost Unpublished is repaired when the reads find the publisher gone", async () => {
    const s = stack();
    const owner = await login(s, "owner5");
    const room = await s.createRoom(owner, { name: "live-lost", policy: { defaultRole: "speaker" } });
    const p = await join(s, room.roomId, await login(s, "p5"));
    await join(s, room.roomId, owner);
    await act(s, "publish", p);
    await eventsHandled(s);
    await seen(s, owner, room.roomId, Date.now(), (x) => x.counts.publishing === 1);
    // Leaving sends Unpublished (IVS stops a publisher before it leaves): that one is lost.
    expect((await emulator(s, "events", { drop: 1 })).status).toBe(200);
    await act(s, "leave", p);
    await eventsHandled(s);
    const body = await seen(s, owner, room.roomId, Date.now(), (x) => x.counts.connected === 1);
    expect(body.counts).toEqual({ connected: 1, publishing: 0 });
  }, 120_000);
});

describe("capacity on the token path", () => {
  it("12 publishing, a 13th asks to publish: explicitly 409 stage_full, by default a SUBSCRIBE-only token (refused before IVS refuses it)", async () => {
    const s = stack();
    const owner = await login(s, "owner8");
    const room = await s.createRoom(owner, { name: "live-twelve", policy: { defaultRole: "speaker" } });
    const publishers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => join(s, room.roomId, await login(s, `pub8-${i}`))),
    );
    for (const p of publishers) await act(s, "publish", p);
    await eventsHandled(s);

    const thirteenth = await login(s, "pub8-13");
    s.stack.ivs.resetCounts();
    const explicit = await s.api("POST", `/rooms/${room.roomId}/token`, {
      as: thirteenth,
      body: { capabilities: ["PUBLISH", "SUBSCRIBE"] },
    });
    expect(explicit.status, explicit.text).toBe(409);
    expect(explicit.body).toMatchObject({ code: "stage_full", status: 409 });
    expect(Number(explicit.headers.get("retry-after"))).toBeGreaterThan(0);
    // Refused from the token path's one read: IVS was not asked for a token.
    expect(s.stack.ivs.requestCounts().CreateParticipantToken ?? 0).toBe(0);

    const byDefault = await s.api("POST", `/rooms/${room.roomId}/token`, { as: thirteenth });
    expect(byDefault.status, byDefault.text).toBe(200);
    expect(byDefault.body).toMatchObject({ capabilities: ["SUBSCRIBE"], limitedBy: "stage_full", role: "speaker" });
    const joined = await s.join(byDefault.body.token);
    expect(joined.status, joined.text).toBe(200);
    // The client cannot publish with that token: IVS's quota is never reached through stagepass.
    expect((await emulator(s, "publish", { participantId: byDefault.body.participantId })).status).toBe(403);

    // One publisher stops: there is room again.
    await act(s, "unpublish", publishers[0]!);
    await eventsHandled(s);
    const again = await s.api("POST", `/rooms/${room.roomId}/token`, {
      as: thirteenth,
      body: { capabilities: ["PUBLISH", "SUBSCRIBE"] },
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
    expect(again.body).not.toHaveProperty("limitedBy");
  }, 120_000);

  it("a room's own maxPublishers", async () => {
    const s = stack();
    const owner = await login(s, "owner9");
    const room = await s.createRoom(owner, { name: "live-two", policy: { defaultRole: "speaker", maxPublishers: 2 } });
    for (const name of ["a9", "b9"]) await act(s, "publish", await join(s, room.roomId, await login(s, name)));
    await eventsHandled(s);
    const third = await s.api("GET", `/rooms/${room.roomId}/token`, { as: await login(s, "c9") });
    expect(third.status, third.text).toBe(200);
    expect(third.body).toMatchObject({ capabilities: ["SUBSCRIBE"], limitedBy: "stage_full" });
  }, 120_000);

  it("maxParticipants: 409 room_full once the room holds that many; moderators are exempt", async () => {
    const s = stack();
    const owner = await login(s, "owner10");
    const room = await s.createRoom(owner, { name: "live-full", policy: { maxParticipants: 2 } });
    await join(s, room.roomId, await login(s, "a10"));
    await join(s, room.roomId, await login(s, "b10"));
    // Joins send no event: the room's reads see them (here, whoever looks at the room).
    await seen(s, owner, room.roomId, Date.now(), (b) => b.counts.connected === 2);
    const third = await s.api("POST", `/rooms/${room.roomId}/token`, { as: await login(s, "c10") });
    expect(third.status, third.text).toBe(409);
    expect(third.body).toMatchObject({ code: "room_full" });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    const host = await s.api("POST", `/rooms/${room.roomId}/token`, { as: owner });
    expect(host.status, host.text).toBe(200);
  }, 120_000);
});

describe("IVS's read budget", () => {
  it("50 concurrent readers of one room, again and again: IVS sees at most one read per 5 s", async () => {
    const s = stack();
    const owner = await login(s, "owner6");
    const room = await s.createRoom(owner, { name: "live-crowd" });
    await join(s, room.roomId, owner);
    await eventsHandled(s);
    const readers = await Promise.all(Array.from({ length: 5 }, (_, i) => login(s, `reader6-${i}`)));
    s.stack.ivs.resetCounts();
    const started = Date.now();
    for (let wave = 0; wave < 4; wave++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.api("GET", i % 2 ? `/rooms/${room.roomId}/participants` : `/rooms/${room.roomId}`, {
            as: readers[i % readers.length]!,
          }),
        ),
      );
      for (const r of answers) expect(r.status, r.text).toBe(200);
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const elapsed = Date.now() - started;
    const counts = s.stack.ivs.requestCounts();
    const reads = READS.reduce((n, op) => n + (counts[op] ?? 0), 0);
    expect(reads).toBeGreaterThan(0);
    expect(reads, JSON.stringify(counts)).toBeLessThanOrEqual(Math.floor(elapsed / 5_000) + 1);
  }, 120_000);
});

describe("events for a stage no room owns", () => {
  it("are ignored: delivered, and nothing is written for that stage", async () => {
    const s = stack();
    const stageArn = (await s.ivs.send(new CreateStageCommand({ name: "not-a-room" }))).stage!.arn!;
    const stageId = stageArn.slice(stageArn.lastIndexOf("/") + 1);
    const made = (await s.ivs.send(new CreateParticipantTokenCommand({ stageArn }))).participantToken!;
    expect((await s.join(made.token!)).status).toBe(200);
    await act(s, "publish", made.participantId!);
    await act(s, "unpublish", made.participantId!);
    await eventsHandled(s);
    const sent = s.stack.ivs
      .sentEvents()
      .filter((e) => e.resources[0] === stageArn)
      .map((e) => e.id);
    expect(sent).toHaveLength(2);
    const deliveries = s.stack.eventBus.deliveries().filter((d) => sent.includes(d.eventId));
    expect(deliveries.map((d) => [d.rule, d.status])).toEqual([
      ["LiveStateFunction.StageUpdates", "delivered"],
      ["LiveStateFunction.StageUpdates", "delivered"],
    ]);
    expect((await s.scanTable()).filter((i) => JSON.stringify(i).includes(stageId))).toEqual([]);
  });

  it("a room deleted while its stage still sends events is not brought back", async () => {
    const s = stack();
    const owner = await login(s, "owner7");
    const room = await s.createRoom(owner, { name: "live-deleted", policy: { defaultRole: "speaker" } });
    const p = await join(s, room.roomId, owner);
    await act(s, "publish", p);
    await eventsHandled(s);
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: owner })).status).toBe(204);
    // The emulator deleted the stage with the room; an IVS event about it that arrives late changes nothing.
    const late = s.stack.ivs
      .sentEvents()
      .filter((e) => e.resources[0] === room.stageArn)
      .at(-1)!;
    const url = s.stack.eventBus.eventsUrl;
    expect(
      (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...late, id: `${late.id}-late` }),
        })
      ).status,
    ).toBeLessThan(300);
    await s.stack.eventBus.drained();
    expect((await s.scanTable()).filter((i) => String(i.pk) === `ROOM#${room.roomId}`)).toEqual([]);
  });
});
