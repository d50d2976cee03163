// Token exchange through the offline stack: POST /rooms/{roomId}/participants/{participantId}/token in self-signed
// mode, and the IVS emulator's /_emulator/exchange standing in for the broadcast SDK's stage.exchangeToken. The
// promote flow (a viewer promoted by a moderator publishes without leaving), demotion still enforced by the server,
// renewal near expiry, every refusal, and 409 exchange_unsupported when tokens come from CreateParticipantToken.
import { ListParticipantEventsCommand } from "@aws-sdk/client-ivs-realtime";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

// Runs in both stack projects (vitest.config.ts) on their shared stacks: the exchange itself with
// TOKEN_MODE=self-signed, its refusal in API mode.
const stack = useStack();
const mode = process.env.TOKEN_MODE === "self-signed" ? "self-signed" : "api";

const IMMUTABLE = ["jti", "resource", "topic", "whip_url", "events_url"] as const;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status, code });
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
}

/** What the broadcast SDK does with `stage.exchangeToken(token)`, against the emulator's stage. */
async function sdkExchange(s: TestStack, participantId: string, token: string) {
  const res = await fetch(`${s.stack.ivs.url}/_emulator/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ participantId, token }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function sdk(s: TestStack, action: "publish" | "leave", participantId: string) {
  const res = await fetch(`${s.stack.ivs.url}/_emulator/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ participantId }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const token = (s: TestStack, as: Session, roomId: string, body?: unknown) =>
  s.api("POST", `/rooms/${roomId}/token`, { as, ...(body !== undefined ? { body } : {}) });
const exchange = (s: TestStack, as: Session, roomId: string, participantId: string, body?: unknown) =>
  s.api("POST", `/rooms/${roomId}/participants/${participantId}/token`, {
    as,
    ...(body !== undefined ? { body } : {}),
  });
const setRole = (s: TestStack, as: Session, roomId: string, userId: string, role: string) =>
  s.api("PUT", `/rooms/${roomId}/members/${userId}`, { as, body: { role } });

/** A SUBSCRIBE-only viewer token, joined on the emulator's stage. */
async function joinedViewer(s: TestStack, viewer: Session, roomId: string, body?: unknown) {
  const t = await token(s, viewer, roomId, body);
  expect(t.status, t.text).toBe(200);
  const joined = await s.join(t.body.token);
  expect(joined.status, joined.text).toBe(200);
  return { ...t.body, sessionId: joined.body.sessionId as string } as {
    token: string;
    participantId: string;
    stageArn: string;
    expirationTime: string;
    sessionId: string;
  };
}

/** The room's own items (other suites' rooms, and what arrives for them meanwhile, left out). */
const roomItems = async (s: TestStack, roomId: string) =>
  (await s.scanTable()).filter((i: any) => i.pk.S === `ROOM#${roomId}`);

const stateIn = async (s: TestStack, roomId: string, participantId: string) =>
  (await s.participants(roomId)).find((p) => p.participantId === participantId)?.state;

if (mode === "self-signed")
  describe("token exchange (TOKEN_MODE=self-signed)", () => {
    let owner: Session, viewer: Session, other: Session;
    beforeAll(async () => {
      const s = stack();
      [owner, viewer, other] = await Promise.all([
        s.login("tx-owner"),
        s.login("tx-viewer", { preferredUsername: "Vi" }),
        s.login("tx-other"),
      ]);
    });

    it("promote: a viewer made speaker by a moderator exchanges its token and publishes without leaving", async () => {
      const s = stack();
      expect(s.tokenMode).toBe("self-signed");
      const room = await s.createRoom(owner, { name: "tx-promote" });
      const v = await joinedViewer(s, viewer, room.roomId);
      expect((await sdk(s, "publish", v.participantId)).body.stageError?.code).toBe("TOKEN_NOT_ALLOWED");

      // Not yet: the viewer's role has no PUBLISH.
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { capabilities: ["PUBLISH"] }),
        403,
        "forbidden",
      );

      expect((await setRole(s, owner, room.roomId, viewer.sub, "speaker")).status).toBe(200);
      const r = await exchange(s, viewer, room.roomId, v.participantId);
      expect(r.status, r.text).toBe(200);
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect(r.body).toEqual({
        token: expect.any(String),
        participantId: v.participantId,
        roomId: room.roomId,
        stageArn: room.stageArn,
        userId: viewer.sub,
        role: "speaker",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        durationMinutes: 60,
        expirationTime: expect.any(String),
        attributes: { role: "speaker", displayName: "Vi" },
        exchange: true,
      });
      const [before, after] = [claimsOf(v.token), claimsOf(r.body.token)];
      for (const claim of IMMUTABLE) expect(after[claim], claim).toEqual(before[claim]);
      expect(after.capabilities).toEqual({ allow_publish: true, allow_subscribe: true });

      // The client swaps the token on the stage: same participant, same session, and it may publish at once.
      const swapped = await sdkExchange(s, v.participantId, r.body.token);
      expect(swapped.status, JSON.stringify(swapped.body)).toBe(200);
      expect(swapped.body).toMatchObject({
        sessionId: v.sessionId,
        state: "CONNECTED",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
      });
      expect((await sdk(s, "publish", v.participantId)).body).toMatchObject({
        publishing: true,
        sessionId: v.sessionId,
      });
      const { events } = await s.ivs.send(
        new ListParticipantEventsCommand({
          stageArn: room.stageArn,
          sessionId: v.sessionId,
          participantId: v.participantId,
        }),
      );
      expect(events!.map((e) => e.name)).toEqual(["JOINED", "PUBLISH_ERROR", "TOKEN_EXCHANGED", "PUBLISH_STARTED"]);
      expect(events![2]!.newToken).toMatchObject({
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        userId: viewer.sub,
        attributes: { role: "speaker", displayName: "Vi" },
      });

      // Demotion stays the server's: back to viewer, the publisher is disconnected, and cannot exchange its way back.
      expect((await setRole(s, owner, room.roomId, viewer.sub, "viewer")).status).toBe(200);
      expect(await stateIn(s, room.roomId, v.participantId)).toBe("DISCONNECTED");
      expectProblem(await exchange(s, viewer, room.roomId, v.participantId), 409, "participant_disconnected");
      expect((await sdkExchange(s, v.participantId, r.body.token)).body.reason).toBe("DISCONNECTED");
      // A new token still works: the user was demoted, not kicked.
      expect((await token(s, viewer, room.roomId)).body.capabilities).toEqual(["SUBSCRIBE"]);
    });

    it("a participant that exchanged down is still disconnected by a demotion: its earlier token could join again", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-down" });
      expect((await setRole(s, owner, room.roomId, viewer.sub, "speaker")).status).toBe(200);
      const t = await token(s, viewer, room.roomId);
      expect(t.body.capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
      expect((await s.join(t.body.token)).status).toBe(200);
      const down = await exchange(s, viewer, room.roomId, t.body.participantId, { capabilities: ["SUBSCRIBE"] });
      expect(down.body.capabilities).toEqual(["SUBSCRIBE"]);
      expect((await sdkExchange(s, t.body.participantId, down.body.token)).status).toBe(200);

      expect((await setRole(s, owner, room.roomId, viewer.sub, "viewer")).status).toBe(200);
      expect(await stateIn(s, room.roomId, t.body.participantId)).toBe("DISCONNECTED");
      expect((await s.join(t.body.token)).status).toBe(403);
    });

    it("renews a token near its expiry: the same participant, a later expiry within the role's maximum, recorded", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-renew" });
      const v = await joinedViewer(s, viewer, room.roomId, { durationMinutes: 1 });

      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { durationMinutes: 241 }),
        400,
        "validation_failed",
      );
      const r = await exchange(s, viewer, room.roomId, v.participantId, { durationMinutes: 240 });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        participantId: v.participantId,
        durationMinutes: 240,
        capabilities: ["SUBSCRIBE"],
        exchange: true,
      });
      const expiresMs = Date.parse(r.body.expirationTime);
      expect(expiresMs - Date.parse(v.expirationTime)).toBeGreaterThan(238 * 60_000);
      expect(claimsOf(r.body.token).exp * 1000).toBe(expiresMs);
      expect((await sdkExchange(s, v.participantId, r.body.token)).body).toMatchObject({
        expirationTime: r.body.expirationTime,
        sessionId: v.sessionId,
      });

      // The participant's record and pointer now last until the new expiry + 24 h, so a kick still finds it then.
      const items = await roomItems(s, room.roomId);
      const part = items.find((i: any) => i.sk.S === `PART#${viewer.sub}#${v.participantId}`) as any;
      const pointer = items.find((i: any) => i.sk.S === `PID#${v.participantId}`) as any;
      expect(Number(part.tokenExpiresMs.N)).toBe(expiresMs);
      expect(part.tokenExpiresAt.S).toBe(r.body.expirationTime);
      expect(Number(pointer.tokenExpiresMs.N)).toBe(expiresMs);
      expect(Number(part.expiresAt.N)).toBe(Math.floor((expiresMs + 24 * 3_600_000) / 1000));
    });

    it("is 404 for a participant that is not the caller's, as for an unknown one; 400 for a malformed id", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-404" });
      const v = await joinedViewer(s, viewer, room.roomId);
      const before = await roomItems(s, room.roomId);
      expectProblem(await exchange(s, other, room.roomId, v.participantId), 404, "not_found");
      expectProblem(await exchange(s, owner, room.roomId, v.participantId), 404, "not_found");
      expectProblem(await exchange(s, viewer, room.roomId, "NoSuchParticipant1"), 404, "not_found");
      const elsewhere = await s.createRoom(owner, { name: "tx-404b" });
      expectProblem(await exchange(s, viewer, elsewhere.roomId, v.participantId), 404, "not_found");
      expectProblem(await exchange(s, viewer, "NoSuchRoom1", v.participantId), 404, "not_found");
      expectProblem(await exchange(s, viewer, room.roomId, "bad_id!"), 400, "validation_failed");
      expect(await roomItems(s, room.roomId)).toEqual(before);
    });

    it("judges the body as a new token's, and changes nothing when it refuses", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-rules" });
      const v = await joinedViewer(s, viewer, room.roomId);
      const before = await roomItems(s, room.roomId);
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { capabilities: ["PUBLISH"] }),
        403,
        "forbidden",
      );
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { capabilities: [] }),
        400,
        "validation_failed",
      );
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { attributes: { secret: "x" } }),
        400,
        "validation_failed",
      );
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { attributes: { avatarUrl: "x".repeat(1000) } }),
        400,
        "validation_failed",
      );
      expectProblem(
        await exchange(s, viewer, room.roomId, v.participantId, { durationMinutes: 0 }),
        400,
        "validation_failed",
      );
      expectProblem(await exchange(s, viewer, room.roomId, v.participantId, { unknown: 1 }), 400, "validation_failed");
      expect(await roomItems(s, room.roomId)).toEqual(before);
      const ok = await exchange(s, viewer, room.roomId, v.participantId, {
        attributes: { avatarUrl: "https://x/a.png", displayName: "Vee" },
      });
      expect(ok.body.attributes).toEqual({ avatarUrl: "https://x/a.png", displayName: "Vee", role: "viewer" });
    });

    it("is 409 participant_disconnected after a kick (by participant or by user), 403 banned under a ban", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-kick" });
      const a = await joinedViewer(s, viewer, room.roomId);
      const b = await joinedViewer(s, viewer, room.roomId);
      const kick = (body: unknown) => s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body });

      expect((await kick({ participantId: a.participantId })).status).toBe(200);
      expectProblem(await exchange(s, viewer, room.roomId, a.participantId), 409, "participant_disconnected");
      // The user was kicked, not banned: the other participant can still exchange, and a new token is issued.
      expect((await exchange(s, viewer, room.roomId, b.participantId)).status).toBe(200);
      expect((await kick({ userId: viewer.sub })).status).toBe(200);
      expectProblem(await exchange(s, viewer, room.roomId, b.participantId), 409, "participant_disconnected");

      const c = await joinedViewer(s, viewer, room.roomId);
      expect((await kick({ userId: viewer.sub, banMinutes: 5 })).status).toBe(200);
      const banned = await exchange(s, viewer, room.roomId, c.participantId);
      expectProblem(banned, 403, "banned");
      expect(Date.parse(banned.body.until)).toBeGreaterThan(Date.now());
      expect((await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: owner })).status).toBe(204);
      // The ban kicked it too: unbanned, the participant stays disconnected.
      expectProblem(await exchange(s, viewer, room.roomId, c.participantId), 409, "participant_disconnected");
    });

    it("is 403 when the caller has no role in the room any more", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-members", policy: { access: "members" } });
      expect((await setRole(s, owner, room.roomId, other.sub, "viewer")).status).toBe(200);
      const v = await joinedViewer(s, other, room.roomId);
      expect((await s.api("DELETE", `/rooms/${room.roomId}/members/${other.sub}`, { as: owner })).status).toBe(204);
      expectProblem(await exchange(s, other, room.roomId, v.participantId), 403, "forbidden");
    });

    it("never leaves a valid token behind a concurrent ban: refused, or disconnected by the ban's kick", async () => {
      const s = stack();
      for (let i = 0; i < 4; i++) {
        const room = await s.createRoom(owner, { name: `tx-race-${i}` });
        const v = await joinedViewer(s, other, room.roomId);
        const [ex, ban] = await Promise.all([
          exchange(s, other, room.roomId, v.participantId),
          s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body: { userId: other.sub, banMinutes: 5 } }),
        ]);
        expect(ban.status, ban.text).toBe(200);
        if (ex.status === 200) {
          expect([...ban.body.disconnected, ...ban.body.pending]).toContain(v.participantId);
          expect((await s.join(ex.body.token)).status).toBe(403);
        } else {
          expect(ex.body.code, ex.text).toMatch(/^(banned|participant_disconnected)$/);
        }
      }
    });

    it("an exchange that adds PUBLISH is held to the room's maxPublishers: 409 stage_full if asked for, else PUBLISH dropped", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-full", policy: { maxPublishers: 1, maxParticipants: 2 } });
      const host = await token(s, owner, room.roomId);
      expect((await s.join(host.body.token)).status).toBe(200);
      expect((await sdk(s, "publish", host.body.participantId)).status).toBe(200);
      const v = await joinedViewer(s, viewer, room.roomId);
      expect((await setRole(s, owner, room.roomId, viewer.sub, "speaker")).status).toBe(200);
      // The publish reached the room's live counts through IVS's event.
      await s.stack.ivs.eventsSettled();
      await s.stack.eventBus.drained();

      const asked = await exchange(s, viewer, room.roomId, v.participantId, { capabilities: ["PUBLISH", "SUBSCRIBE"] });
      expectProblem(asked, 409, "stage_full");
      expect(Number(asked.headers.get("retry-after"))).toBeGreaterThan(0);
      const byDefault = await exchange(s, viewer, room.roomId, v.participantId);
      expect(byDefault.status, byDefault.text).toBe(200);
      expect(byDefault.body).toMatchObject({
        role: "speaker",
        capabilities: ["SUBSCRIBE"],
        limitedBy: "stage_full",
        exchange: true,
      });

      // The host stops publishing but stays: promoted, though the room holds its 2 participants (the viewer is one of
      // them, so maxParticipants does not apply). Joins send IVS no event: the room's reads count them.
      const unpublished = await fetch(`${s.stack.ivs.url}/_emulator/unpublish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ participantId: host.body.participantId }),
      });
      expect(unpublished.status).toBe(200);
      await s.stack.ivs.eventsSettled();
      await s.stack.eventBus.drained();
      const until = Date.now() + 40_000;
      for (;;) {
        const r = await s.api("GET", `/rooms/${room.roomId}/participants`, { as: owner });
        expect(r.status, r.text).toBe(200);
        if (r.body.counts.connected === 2 && r.body.counts.publishing === 0) break;
        if (Date.now() > until) throw new Error(`the room's counts did not reach 2 connected, 0 publishing: ${r.text}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expectProblem(await token(s, other, room.roomId), 409, "room_full");
      const promoted = await exchange(s, viewer, room.roomId, v.participantId, {
        capabilities: ["PUBLISH", "SUBSCRIBE"],
      });
      expect(promoted.status, promoted.text).toBe(200);
      expect((await sdkExchange(s, v.participantId, promoted.body.token)).status).toBe(200);
      expect((await sdk(s, "publish", v.participantId)).body).toMatchObject({
        publishing: true,
        sessionId: v.sessionId,
      });
    });

    it("shares the per-user token limit with new tokens, and answers 429 with Retry-After past it", async () => {
      const s = stack();
      const room = await s.createRoom(owner, { name: "tx-rate" });
      const rater = await s.login("tx-rater");
      const v = await joinedViewer(s, rater, room.roomId);
      // At most 10 a minute (the stack's default); a minute boundary may pass once during the loop, not twice.
      let refused: ApiResponse | undefined;
      for (let i = 0; i < 22 && !refused; i++) {
        const r = await exchange(s, rater, room.roomId, v.participantId);
        if (r.status !== 200) refused = r;
      }
      expect(refused).toBeDefined();
      expectProblem(refused!, 429, "rate_limited");
      expect(refused!.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    });
  });

if (mode === "api")
  describe("token exchange (TOKEN_MODE=api)", () => {
    it("answers 409 exchange_unsupported: CreateParticipantToken tokens cannot be exchanged", async () => {
      const s = stack();
      expect(s.tokenMode).toBe("api");
      const [owner, viewer] = await Promise.all([s.login("txa-owner"), s.login("txa-viewer")]);
      const room = await s.createRoom(owner, { name: "tx-api" });
      const t = await token(s, viewer, room.roomId);
      expect(t.status).toBe(200);
      const before = await roomItems(s, room.roomId);
      const r = await exchange(s, viewer, room.roomId, t.body.participantId, { capabilities: ["SUBSCRIBE"] });
      expectProblem(r, 409, "exchange_unsupported");
      expect(r.body.detail).toMatch(/new token/);
      expect(await roomItems(s, room.roomId)).toEqual(before);
      // And the emulator's stage refuses such a swap as the SDK does.
      expect((await s.join(t.body.token)).status).toBe(200);
      const other = await token(s, viewer, room.roomId);
      expect((await sdkExchange(s, t.body.participantId, other.body.token)).body.reason).toBe("NOT_KEY_PAIR_TOKEN");
    });
  });
