// Kicks and bans through the offline stack and the emulator's join route (docs/api.md § Moderation, § Members): a
// kicked or banned user's tokens stop working, bans hold exactly as long as they last, only moderators kick and
// nobody but an admin touches the owner or an admin, a token racing a ban never stays valid, and role changes
// disconnect what the new role no longer allows.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

const token = (s: TestStack, as: Session, roomId: string, body?: unknown) =>
  s.api("POST", `/rooms/${roomId}/token`, { as, ...(body !== undefined ? { body } : {}) });
const kick = (s: TestStack, as: Session, roomId: string, body: unknown) =>
  s.api("POST", `/rooms/${roomId}/kick`, { as, body });
const setMember = (s: TestStack, as: Session, roomId: string, userId: string, role: string) =>
  s.api("PUT", `/rooms/${roomId}/members/${userId}`, { as, body: { role } });

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status, code });
  expect(r.headers.get("content-type")).toBe("application/problem+json");
}

/** A token for `as` in the room that has joined the emulator's stage. */
async function joined(s: TestStack, as: Session, roomId: string, body?: unknown): Promise<string> {
  const t = await token(s, as, roomId, body);
  expect(t.status, t.text).toBe(200);
  expect((await s.join(t.body.token)).status).toBe(200);
  return t.body.participantId;
}

async function issued(
  s: TestStack,
  as: Session,
  roomId: string,
  body?: unknown,
): Promise<{ participantId: string; token: string }> {
  const t = await token(s, as, roomId, body);
  expect(t.status, t.text).toBe(200);
  return t.body;
}

async function states(s: TestStack, roomId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await s.participants(roomId)).map((p) => [p.participantId, p.state]));
}

const drained = (s: TestStack) => s.stack.queues.queues.get("DisconnectQueue")!.drained(30_000);

function db(s: TestStack) {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: s.stack.dynamodb.directEndpoint,
      region: s.stack.info.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    }),
  );
}

async function audit(s: TestStack, as: Session, roomId: string): Promise<any[]> {
  const r = await s.api("GET", `/rooms/${roomId}/audit?limit=100`, { as });
  expect(r.status, r.text).toBe(200);
  return r.body.entries;
}

describe("kick and ban", () => {
  it("a viewer joins, a host kicks with a ban: old tokens stop working, new ones are refused until unbanned", async () => {
    const s = stack();
    const owner = await s.login("kb-owner");
    const viewer = await s.login("kb-viewer");
    const room = await s.createRoom(owner, { name: "kick-ban" });
    const first = await joined(s, viewer, room.roomId);
    const unused = await issued(s, viewer, room.roomId);

    const before = Date.now();
    const r = await kick(s, owner, room.roomId, { participantId: first, banMinutes: 10, reason: "spam" });
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["ban", "disconnected", "pending"]);
    expect([...r.body.disconnected, ...r.body.pending].sort()).toEqual([first, unused.participantId].sort());
    expect(r.body.ban).toEqual({ userId: viewer.sub, until: expect.any(String), reason: "spam" });
    const until = Date.parse(r.body.ban.until);
    expect(until).toBeGreaterThanOrEqual(before + 10 * 60_000 - 1_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 10 * 60_000);
    await drained(s);

    expect((await states(s, room.roomId))[first]).toBe("DISCONNECTED");
    // The ban reached the token that was never used as well.
    expect((await s.join(unused.token)).status).toBe(403);
    const refused = await token(s, viewer, room.roomId);
    expectProblem(refused, 403, "banned");
    expect(refused.body.until).toBe(r.body.ban.until);
    expectProblem(await s.api("GET", `/rooms/${room.roomId}/token`, { as: viewer }), 403, "banned");

    const bans = await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner });
    expect(bans.status).toBe(200);
    expect(bans.body).toEqual({
      bans: [
        {
          userId: viewer.sub,
          until: r.body.ban.until,
          reason: "spam",
          bannedBy: owner.sub,
          createdAt: expect.any(String),
        },
      ],
    });

    const entries = await audit(s, owner, room.roomId);
    const kicked = entries.find((e) => e.action === "participant.kicked");
    const banned = entries.find((e) => e.action === "user.banned");
    expect(kicked).toMatchObject({
      actor: owner.sub,
      target: first,
      detail: expect.objectContaining({ reason: "spam" }),
    });
    expect(banned).toMatchObject({
      actor: owner.sub,
      target: viewer.sub,
      detail: expect.objectContaining({ reason: "spam", until: r.body.ban.until }),
    });

    const unban = await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: owner });
    expect(unban.status, unban.text).toBe(204);
    expect(unban.text).toBe("");
    expectProblem(await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: owner }), 404, "not_found");
    expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body).toEqual({ bans: [] });
    expect((await audit(s, owner, room.roomId))[0]).toMatchObject({
      action: "user.unbanned",
      actor: owner.sub,
      target: viewer.sub,
    });

    const back = await joined(s, viewer, room.roomId);
    expect((await states(s, room.roomId))[back]).toBe("CONNECTED");
  });

  it("a kick without a ban lets the user back at once, and kicking again is not an error", async () => {
    const s = stack();
    const owner = await s.login("kn-owner");
    const viewer = await s.login("kn-viewer");
    const room = await s.createRoom(owner, { name: "kick-no-ban" });
    const t = await issued(s, viewer, room.roomId);
    expect((await s.join(t.token)).status).toBe(200);
    const r = await kick(s, owner, room.roomId, { participantId: t.participantId, reason: "be nice" });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ disconnected: [t.participantId], pending: [], ban: null });
    expect((await states(s, room.roomId))[t.participantId]).toBe("DISCONNECTED");
    expect((await s.join(t.token)).status).toBe(403);

    const again = await kick(s, owner, room.roomId, { participantId: t.participantId });
    expect(again.status, again.text).toBe(200);
    expect(again.body.ban).toBeNull();
    expect([...again.body.disconnected, ...again.body.pending]).toEqual([t.participantId]);
    // By user id too, and with banMinutes 0 (no ban).
    const byUser = await kick(s, owner, room.roomId, { userId: viewer.sub, banMinutes: 0 });
    expect(byUser.status, byUser.text).toBe(200);
    expect(byUser.body.ban).toBeNull();
    expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans).toEqual([]);

    const back = await joined(s, viewer, room.roomId);
    expect((await states(s, room.roomId))[back]).toBe("CONNECTED");
  });

  it("kick by user id disconnects all of that user's participants in the room, used or not, and nobody else's", async () => {
    const s = stack();
    const owner = await s.login("ku-owner");
    const a = await s.login("ku-a");
    const b = await s.login("ku-b");
    const room = await s.createRoom(owner, { name: "kick-user" });
    const elsewhere = await s.createRoom(owner, { name: "kick-user-other" });
    const a1 = await joined(s, a, room.roomId);
    const a2 = await joined(s, a, room.roomId);
    const a3 = await issued(s, a, room.roomId);
    const b1 = await joined(s, b, room.roomId);
    const ownerP = await joined(s, owner, room.roomId);
    const aOther = await joined(s, a, elsewhere.roomId);

    const r = await kick(s, owner, room.roomId, { userId: a.sub });
    expect(r.status, r.text).toBe(200);
    expect([...r.body.disconnected, ...r.body.pending].sort()).toEqual([a1, a2, a3.participantId].sort());
    expect(r.body.ban).toBeNull();
    await drained(s);
    const now = await states(s, room.roomId);
    expect(now).toEqual({ [a1]: "DISCONNECTED", [a2]: "DISCONNECTED", [b1]: "CONNECTED", [ownerP]: "CONNECTED" });
    expect((await s.join(a3.token)).status).toBe(403);
    expect((await states(s, elsewhere.roomId))[aOther]).toBe("CONNECTED");
    // Not banned: a new token at once.
    expect((await token(s, a, room.roomId)).status).toBe(200);
  });

  it("404 for a participant id not issued for this room, an unknown room, and a ban that is not there", async () => {
    const s = stack();
    const owner = await s.login("k404-owner");
    const viewer = await s.login("k404-viewer");
    const room = await s.createRoom(owner, { name: "kick-404" });
    const other = await s.createRoom(owner, { name: "kick-404-other" });
    const otherP = await joined(s, viewer, other.roomId);
    const auditBefore = (await audit(s, owner, room.roomId)).length;
    expectProblem(await kick(s, owner, room.roomId, { participantId: "abcdEFGH1234" }), 404, "not_found");
    expectProblem(await kick(s, owner, room.roomId, { participantId: otherP }), 404, "not_found");
    expect((await states(s, other.roomId))[otherP]).toBe("CONNECTED");
    expect((await audit(s, owner, room.roomId)).length).toBe(auditBefore);

    expectProblem(await kick(s, owner, "abcdABCDefgh", { userId: viewer.sub }), 404, "not_found");
    expectProblem(await s.api("GET", "/rooms/abcdABCDefgh/bans", { as: owner }), 404, "not_found");
    expectProblem(await s.api("DELETE", `/rooms/abcdABCDefgh/bans/${viewer.sub}`, { as: owner }), 404, "not_found");
    expectProblem(await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: owner }), 404, "not_found");
  });

  it("bad input gets 400 and changes nothing", async () => {
    const s = stack();
    const owner = await s.login("kv-owner");
    const viewer = await s.login("kv-viewer");
    const room = await s.createRoom(owner, { name: "kick-validation" });
    const p = await joined(s, viewer, room.roomId);
    const before = await s.scanTable();
    const bodies: unknown[] = [
      {},
      { participantId: p, userId: viewer.sub },
      { participantId: p, reason: "x".repeat(129) },
      { participantId: p, banMinutes: -1 },
      { participantId: p, banMinutes: 525_601 },
      { participantId: p, banMinutes: 1.5 },
      { participantId: p, banMinutes: "10" },
      { participantId: p, extra: true },
      { participantId: "not/an/id" },
      { userId: "" },
      { userId: 42 },
      [],
      "kick",
    ];
    for (const body of bodies) {
      const r = await kick(s, owner, room.roomId, body);
      expectProblem(r, 400, "validation_failed");
      expect(r.body.errors.length, r.text).toBeGreaterThan(0);
    }
    expectProblem(await s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner }), 400, "validation_failed");
    expectProblem(
      await s.api("POST", `/rooms/${room.roomId}/kick`, {
        as: owner,
        rawBody: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "validation_failed",
    );
    expectProblem(
      await s.api("POST", `/rooms/${room.roomId}/kick`, {
        as: owner,
        rawBody: "{}",
        headers: { "content-type": "text/plain" },
      }),
      415,
      "unsupported_media_type",
    );
    expectProblem(
      await s.api("DELETE", `/rooms/${room.roomId}/bans/bad_user`, { as: owner }),
      400,
      "validation_failed",
    );
    expect(await s.scanTable()).toEqual(before);
    expect((await states(s, room.roomId))[p]).toBe("CONNECTED");
    // 128 characters (code points, as IVS counts them) is the most a reason may hold.
    const ok = await kick(s, owner, room.roomId, { participantId: p, reason: "é".repeat(127) + "😀" });
    expect(ok.status, ok.text).toBe(200);
  });
});

describe("who may kick and ban", () => {
  it("only moderators; nobody kicks the owner or an admin except an admin, and nobody bans them", async () => {
    const s = stack();
    const owner = await s.login("w-owner");
    const mod = await s.login("w-mod");
    const speaker = await s.login("w-speaker");
    const viewer = await s.login("w-viewer");
    const admin = await s.login("w-admin", { groups: ["admin"] });
    const admin2 = await s.login("w-admin2", { groups: ["admin"] });
    const room = await s.createRoom(owner, { name: "who-kicks" });
    expect((await setMember(s, owner, room.roomId, mod.sub, "host")).status).toBe(200);
    expect((await setMember(s, owner, room.roomId, speaker.sub, "speaker")).status).toBe(200);
    const ownerP = await joined(s, owner, room.roomId);
    const adminP = await joined(s, admin, room.roomId);
    const viewerP = await joined(s, viewer, room.roomId);
    const speakerP = await joined(s, speaker, room.roomId);

    // Not moderators.
    for (const who of [viewer, speaker]) {
      expectProblem(await kick(s, who, room.roomId, { participantId: viewerP }), 403, "forbidden");
      expectProblem(await kick(s, who, room.roomId, { userId: viewer.sub, banMinutes: 5 }), 403, "forbidden");
      expectProblem(await s.api("GET", `/rooms/${room.roomId}/bans`, { as: who }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: who }), 403, "forbidden");
      expectProblem(await s.api("GET", `/rooms/${room.roomId}/audit`, { as: who }), 403, "forbidden");
    }
    // A moderator may not kick or ban the owner or an admin; neither may the owner kick or ban an admin.
    for (const [who, target, body] of [
      [mod, "owner", { participantId: ownerP }],
      [mod, "owner", { userId: owner.sub }],
      [mod, "owner", { userId: owner.sub, banMinutes: 5 }],
      [mod, "admin", { participantId: adminP }],
      [mod, "admin", { participantId: adminP, banMinutes: 5 }],
      [owner, "admin", { participantId: adminP }],
      [owner, "admin", { participantId: adminP, banMinutes: 5 }],
      [admin, "owner", { userId: owner.sub, banMinutes: 5 }],
      [admin, "owner", { participantId: ownerP, banMinutes: 1 }],
      [admin2, "admin", { participantId: adminP, banMinutes: 5 }],
    ] as const) {
      const r = await kick(s, who, room.roomId, body);
      expect(
        { status: r.status, code: r.body.code },
        `${who.username} → ${target} ${JSON.stringify(body)}: ${r.text}`,
      ).toEqual({ status: 403, code: "forbidden" });
    }
    expect(await states(s, room.roomId)).toMatchObject({ [ownerP]: "CONNECTED", [adminP]: "CONNECTED" });
    expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans).toEqual([]);
    expect((await token(s, owner, room.roomId)).status).toBe(200);

    // A moderator member kicks and bans an ordinary participant.
    const r = await kick(s, mod, room.roomId, { participantId: speakerP, banMinutes: 1 });
    expect(r.status, r.text).toBe(200);
    expect(r.body.ban.userId).toBe(speaker.sub);
    expectProblem(await token(s, speaker, room.roomId), 403, "banned");
    // Whatever the banned user's role: members are banned too.
    expect((await s.api("DELETE", `/rooms/${room.roomId}/bans/${speaker.sub}`, { as: mod })).status).toBe(204);

    // An admin kicks anyone: the owner and another admin (without a ban).
    const byAdmin = await kick(s, admin2, room.roomId, { participantId: ownerP, reason: "admin says" });
    expect(byAdmin.status, byAdmin.text).toBe(200);
    expect((await kick(s, admin2, room.roomId, { participantId: adminP })).status).toBe(200);
    await drained(s);
    expect(await states(s, room.roomId)).toMatchObject({
      [ownerP]: "DISCONNECTED",
      [adminP]: "DISCONNECTED",
      [viewerP]: "CONNECTED",
    });
  });
});

describe("bans hold exactly as long as they last", () => {
  it("honours a ban until its untilMs, whatever TTL has or has not deleted, and not a second longer", async () => {
    const s = stack();
    const owner = await s.login("exp-owner");
    const late = await s.login("exp-late");
    const soon = await s.login("exp-soon");
    const room = await s.createRoom(owner, { name: "ban-expiry" });
    const doc = db(s);
    const put = (userId: string, untilMs: number) =>
      doc.send(
        new PutCommand({
          TableName: s.stack.info.tableName,
          Item: {
            pk: `ROOM#${room.roomId}`,
            sk: `BAN#${userId}`,
            userId,
            until: new Date(untilMs).toISOString(),
            untilMs,
            reason: null,
            bannedBy: owner.sub,
            createdAt: new Date(untilMs - 60_000).toISOString(),
            // TTL has not run yet: the item is still there, hours after its expiry attribute.
            expiresAt: Math.floor(Date.now() / 1000) + 3600,
          },
        }),
      );
    try {
      // Expired a second ago but not deleted by TTL: no longer a ban.
      await put(late.sub, Date.now() - 1_000);
      expect((await token(s, late, room.roomId)).status).toBe(200);
      expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans).toEqual([]);
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}/bans/${late.sub}`, { as: owner }), 404, "not_found");

      // Ends in 1.5 s: refused now, issued once it has passed.
      const untilMs = Date.now() + 1_500;
      await put(soon.sub, untilMs);
      const refused = await token(s, soon, room.roomId);
      expectProblem(refused, 403, "banned");
      expect(refused.body.until).toBe(new Date(untilMs).toISOString());
      expect(
        (await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans.map((b: any) => b.userId),
      ).toEqual([soon.sub]);
      await new Promise((r) => setTimeout(r, Math.max(0, untilMs - Date.now()) + 100));
      const t = await token(s, soon, room.roomId);
      expect(t.status, t.text).toBe(200);
      expect((await s.join(t.body.token)).status).toBe(200);
    } finally {
      doc.destroy();
    }
  });
});

describe("a token issued concurrently with a ban", () => {
  it("is refused or disconnected, never left valid", async () => {
    const s = stack();
    const owner = await s.login("race-owner");
    const room = await s.createRoom(owner, { name: "race" });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const outcomes = { issued: 0, refused: 0 };
    // Each round slows IVS down (so tokens are in flight while the ban is written) and staggers 7 token requests
    // around one kick with a ban, after one token issued beforehand: tokens decided before the ban and recorded after it (the transaction's condition
    // must refuse them), tokens recorded before it (the kick must disconnect them), and tokens asked for after it.
    const rounds = [
      { ivsDelayMs: 1_500, staggerMs: 10, kickAtMs: 80 },
      { ivsDelayMs: 20, staggerMs: 40, kickAtMs: 150 },
      { ivsDelayMs: 100, staggerMs: 25, kickAtMs: 90 },
    ];
    for (const [round, { ivsDelayMs, staggerMs, kickAtMs }] of rounds.entries()) {
      const user = await s.login(`race-user-${round}`);
      // One token surely issued before the ban (the machine may be too busy for the race to order itself so).
      const before = await issued(s, user, room.roomId);
      await fetch(`${s.stack.ivs.url}/_emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ operation: "CreateParticipantToken", delayMs: ivsDelayMs, count: 7 }),
      });
      const requests = Array.from({ length: 7 }, (_, i) =>
        sleep(i * staggerMs).then(() => token(s, user, room.roomId)),
      );
      const banned = sleep(kickAtMs).then(() =>
        kick(s, owner, room.roomId, { userId: user.sub, banMinutes: 5, reason: "race" }),
      );
      const [raced, ban] = await Promise.all([Promise.all(requests), banned]);
      const results = [{ status: 200, body: before } as ApiResponse, ...raced];
      await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
      expect(ban.status, ban.text).toBe(200);
      await drained(s);
      for (const r of results) {
        if (r.status === 200) {
          outcomes.issued++;
          expect(
            (await s.join(r.body.token)).status,
            `participant ${r.body.participantId} still joins after the ban`,
          ).toBe(403);
          expect([...ban.body.disconnected, ...ban.body.pending]).toContain(r.body.participantId);
        } else {
          outcomes.refused++;
          expectProblem(r, 403, "banned");
          expect(r.body.until).toBe(ban.body.ban.until);
        }
      }
      expectProblem(await token(s, user, room.roomId), 403, "banned");
    }
    expect(outcomes.issued + outcomes.refused).toBe(24);
    // Both ways out were taken.
    expect(outcomes.issued).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe("role changes take effect at once", () => {
  it("a demoted speaker's publishing participants are disconnected; subscribe-only ones stay", async () => {
    const s = stack();
    const owner = await s.login("demote-owner");
    const speaker = await s.login("demote-speaker");
    const room = await s.createRoom(owner, { name: "demote" });
    expect((await setMember(s, owner, room.roomId, speaker.sub, "speaker")).status).toBe(200);
    const publishing = await joined(s, speaker, room.roomId);
    const subscribing = await joined(s, speaker, room.roomId, { capabilities: ["SUBSCRIBE"] });
    const unusedPublisher = await issued(s, speaker, room.roomId, { capabilities: ["PUBLISH"] });

    const r = await setMember(s, owner, room.roomId, speaker.sub, "viewer");
    expect(r.status, r.text).toBe(200);
    await drained(s);
    expect(await states(s, room.roomId)).toMatchObject({ [publishing]: "DISCONNECTED", [subscribing]: "CONNECTED" });
    expect((await s.join(unusedPublisher.token)).status).toBe(403);
    const now = await token(s, speaker, room.roomId);
    expect(now.body.capabilities).toEqual(["SUBSCRIBE"]);
  });

  it("leaves an admin's participants alone when the admin's membership changes: admins are host everywhere", async () => {
    const s = stack();
    const owner = await s.login("ra-owner");
    const admin = await s.login("ra-admin", { groups: ["admin"] });
    const room = await s.createRoom(owner, { name: "admin-member" });
    expect((await setMember(s, owner, room.roomId, admin.sub, "speaker")).status).toBe(200);
    const adminP = await joined(s, admin, room.roomId);
    expect((await setMember(s, owner, room.roomId, admin.sub, "viewer")).status).toBe(200);
    expect((await s.api("DELETE", `/rooms/${room.roomId}/members/${admin.sub}`, { as: owner })).status).toBe(204);
    await drained(s);
    expect((await states(s, room.roomId))[adminP]).toBe("CONNECTED");
  });

  it("removing a member disconnects what the role they fall back to does not allow", async () => {
    const s = stack();
    const owner = await s.login("rm-owner");
    const openSpeaker = await s.login("rm-open-speaker");
    const closedViewer = await s.login("rm-closed-viewer");
    const open = await s.createRoom(owner, { name: "remove-open" });
    const closed = await s.createRoom(owner, { name: "remove-closed", policy: { access: "members" } });
    expect((await setMember(s, owner, open.roomId, openSpeaker.sub, "speaker")).status).toBe(200);
    expect((await setMember(s, owner, closed.roomId, closedViewer.sub, "viewer")).status).toBe(200);
    const openPub = await joined(s, openSpeaker, open.roomId);
    const openSub = await joined(s, openSpeaker, open.roomId, { capabilities: ["SUBSCRIBE"] });
    const closedSub = await joined(s, closedViewer, closed.roomId);

    expect((await s.api("DELETE", `/rooms/${open.roomId}/members/${openSpeaker.sub}`, { as: owner })).status).toBe(204);
    expect((await s.api("DELETE", `/rooms/${closed.roomId}/members/${closedViewer.sub}`, { as: owner })).status).toBe(
      204,
    );
    await drained(s);
    // Open room: they are a viewer now, so only publishing goes. Members-only room: they have no role at all.
    expect(await states(s, open.roomId)).toMatchObject({ [openPub]: "DISCONNECTED", [openSub]: "CONNECTED" });
    expect((await states(s, closed.roomId))[closedSub]).toBe("DISCONNECTED");
    expectProblem(await token(s, closedViewer, closed.roomId), 403, "forbidden");
  });

  it("only the owner or an admin changes or removes a moderator member", async () => {
    const s = stack();
    const owner = await s.login("mm-owner");
    const admin = await s.login("mm-admin", { groups: ["admin"] });
    const mod1 = await s.login("mm-mod1");
    const mod2 = await s.login("mm-mod2");
    const viewer = await s.login("mm-viewer");
    const room = await s.createRoom(owner, { name: "mod-members" });
    expect((await setMember(s, owner, room.roomId, mod1.sub, "host")).status).toBe(200);
    expect((await setMember(s, admin, room.roomId, mod2.sub, "host")).status).toBe(200);
    const mod2P = await joined(s, mod2, room.roomId);

    expectProblem(await setMember(s, mod1, room.roomId, mod2.sub, "viewer"), 403, "forbidden");
    expectProblem(await s.api("DELETE", `/rooms/${room.roomId}/members/${mod2.sub}`, { as: mod1 }), 403, "forbidden");
    expectProblem(await setMember(s, mod1, room.roomId, viewer.sub, "host"), 403, "forbidden");
    expectProblem(await setMember(s, viewer, room.roomId, viewer.sub, "speaker"), 403, "forbidden");
    expect((await states(s, room.roomId))[mod2P]).toBe("CONNECTED");
    // A moderator may set an ordinary role.
    expect((await setMember(s, mod1, room.roomId, viewer.sub, "speaker")).status).toBe(200);

    expect((await s.api("DELETE", `/rooms/${room.roomId}/members/${mod2.sub}`, { as: owner })).status).toBe(204);
    await drained(s);
    expect((await states(s, room.roomId))[mod2P]).toBe("DISCONNECTED");
  });
});

describe("nobody bans an admin, even one who never took a token in the room; a moderator does not kick one either", () => {
  it("asks the user pool before a ban: an admin is refused 403, anyone else is banned", async () => {
    const s = stack();
    const owner = await s.login("ban-admin-owner");
    const admin = await s.login("ban-admin-admin", { groups: ["admin"] });
    const otherAdmin = await s.login("ban-admin-other", { groups: ["admin"] });
    const plain = await s.login("ban-admin-plain", { groups: ["crew"] });
    const room = await s.createRoom(owner, { name: "ban-admin" });
    const ban = (as: typeof owner, userId: string) =>
      s.api("POST", `/rooms/${room.roomId}/kick`, { as, body: { userId, banMinutes: 5 } });

    const byOwner = await ban(owner, admin.sub);
    expect(byOwner.status, byOwner.text).toBe(403);
    expect(byOwner.body.code).toBe("forbidden");
    const byAdmin = await ban(otherAdmin, admin.sub);
    expect(byAdmin.status, byAdmin.text).toBe(403);
    expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans).toEqual([]);

    // Someone who is not an admin (or a user the pool has never seen) is banned as usual.
    expect((await ban(owner, plain.sub)).status).toBe(200);
    expect((await ban(owner, "00000000-0000-4000-a000-000000000000")).status).toBe(200);
    expect(
      (await s.api("GET", `/rooms/${room.roomId}/bans`, { as: owner })).body.bans.map((b: any) => b.userId).sort(),
    ).toEqual([plain.sub, "00000000-0000-4000-a000-000000000000"].sort());

    // A kick without a ban: the owner (a moderator, not an admin) may not kick an admin who has no participant here;
    // an admin may, and anyone may kick a user without participants who is not an admin (nothing to disconnect).
    const kickOnly = (as: typeof owner, userId: string) =>
      s.api("POST", `/rooms/${room.roomId}/kick`, { as, body: { userId } });
    const refused = await kickOnly(owner, admin.sub);
    expect({ status: refused.status, code: refused.body.code }, refused.text).toEqual({
      status: 403,
      code: "forbidden",
    });
    const byOtherAdmin = await kickOnly(otherAdmin, admin.sub);
    expect(byOtherAdmin.status, byOtherAdmin.text).toBe(200);
    expect(byOtherAdmin.body.disconnected).toEqual([]);
    const crew = await s.login("ban-admin-crew", { groups: ["crew"] });
    expect((await kickOnly(owner, crew.sub)).status).toBe(200);
    const audit = (await s.api("GET", `/rooms/${room.roomId}/audit`, { as: owner })).body;
    expect(
      audit.entries
        .filter((e: any) => e.action === "participant.kicked" && e.detail.banMinutes === 0)
        .map((e: any) => e.target)
        .sort(),
    ).toEqual([admin.sub, crew.sub].sort());
  });
});
