// The token path as a use case (functions/token/issue-token.ts) on in-memory fakes of its ports: the table (one read
// to decide, the caller's charge, one transaction to record) and the issuer (IVS or self-signed). Who gets which capabilities, the
// per-user rate limit, and a ban or a deletion racing the request: the token is handed out only once recorded.
// Through the offline stack: tests/e2e/token.test.ts, token-faults.test.ts; against DynamoDB Local:
// tests/integration/token-store.test.ts.
import { describe, expect, it } from "vitest";
import { createRoom } from "../../functions/rooms/create-room.ts";
import { issueToken, type TokenDeps } from "../../functions/token/issue-token.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import {
  BannedError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UpstreamUnavailableError,
  ValidationError,
} from "../../shared/errors.ts";
import { caller, FakeIssuer, fakeDeps, request } from "../support/fakes.ts";

const owner = caller("0a0a0a0a-0000-4000-8000-0000000000a1");
const viewer = caller("0b0b0b0b-0000-4000-8000-0000000000b2", { displayName: "Vee" });
const admin = caller("0c0c0c0c-0000-4000-8000-0000000000c3", { admin: true });

/** A room made by createRoom on the same fakes, and the token path's deps on them. */
async function setup(policy?: Record<string, unknown>) {
  const fakes = fakeDeps();
  const created = await createRoom(
    fakes.deps,
    request(owner, { body: { name: "room", ...(policy ? { policy } : {}) } }),
  );
  const roomId = (created.body as { roomId: string }).roomId;
  const issuer = new FakeIssuer(fakes.clock.now);
  const deps: TokenDeps = { config: fakes.deps.config, table: fakes.table.tokenTable, issuer, now: fakes.clock.now };
  const token = (who: Caller, body?: unknown) =>
    issueToken(
      deps,
      request(who, {
        routeKey: "POST /rooms/{roomId}/token",
        pathParameters: { roomId },
        ...(body !== undefined ? { body } : {}),
      }),
    );
  return { ...fakes, roomId, issuer, token };
}

describe("issueToken", () => {
  it("a viewer of an open room gets a subscribe-only token, recorded (participant, pointer, the minute's count) before it is handed out", async () => {
    const { roomId, token, table, issuer, clock } = await setup();
    table.calls.length = 0;
    const r = await token(viewer, { durationMinutes: 30, attributes: { avatarUrl: "https://x/a.png" } });
    expect(r.status).toBe(200);
    expect(r.headers).toEqual({ "cache-control": "no-store" });
    const body = r.body as Record<string, unknown>;
    expect(body).toMatchObject({
      roomId,
      userId: viewer.userId,
      role: "viewer",
      capabilities: ["SUBSCRIBE"],
      durationMinutes: 30,
      attributes: { avatarUrl: "https://x/a.png", displayName: "Vee", role: "viewer" },
    });
    expect(issuer.issued).toEqual([
      expect.objectContaining({ userId: viewer.userId, capabilities: ["SUBSCRIBE"], durationMinutes: 30 }),
    ]);
    // One read to decide, the charge, one write to record.
    expect(table.calls).toEqual(["BatchGetItem", "UpdateItem", "TransactWriteItems"]);
    const pid = String(body.participantId);
    expect(table.partition(`ROOM#${roomId}`, `PART#${viewer.userId}#`)).toEqual([
      expect.objectContaining({
        participantId: pid,
        role: "viewer",
        capabilities: ["SUBSCRIBE"],
        via: "open",
        tokenExpiresAt: body.expirationTime,
      }),
    ]);
    expect(table.partition(`ROOM#${roomId}`, `PID#${pid}`)).toEqual([
      expect.objectContaining({ userId: viewer.userId }),
    ]);
    expect(table.partition(`ROOM#${roomId}`, `RATE#${viewer.userId}#${Math.floor(clock.now() / 60_000)}`)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it("the owner is host (publish and subscribe); capabilities and durations beyond the role are refused", async () => {
    const { token } = await setup();
    const r = await token(owner);
    expect(r.body).toMatchObject({ role: "host", capabilities: ["PUBLISH", "SUBSCRIBE"] });
    await expect(token(viewer, { capabilities: ["PUBLISH"] })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(token(viewer, { durationMinutes: 100_000 })).rejects.toBeInstanceOf(ValidationError);
  });

  it("refuses without recording: a room that does not exist, a stranger to a members-only room, a banned user", async () => {
    const open = await setup();
    const missing = issueToken(
      { config: open.deps.config, table: open.table.tokenTable, issuer: open.issuer, now: open.clock.now },
      request(viewer, { routeKey: "POST /rooms/{roomId}/token", pathParameters: { roomId: "abcdABCD0000" } }),
    );
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);

    const closed = await setup({ access: "members" });
    await expect(closed.token(viewer)).rejects.toBeInstanceOf(ForbiddenError);

    const until = open.clock.now() + 5 * 60_000;
    open.table.items.set(`ROOM#${open.roomId}\u0000BAN#${viewer.userId}`, {
      pk: `ROOM#${open.roomId}`,
      sk: `BAN#${viewer.userId}`,
      userId: viewer.userId,
      until: new Date(until).toISOString(),
      untilMs: until,
      reason: null,
      bannedBy: owner.userId,
      createdAt: new Date(open.clock.now()).toISOString(),
    });
    await expect(open.token(viewer)).rejects.toEqual(new BannedError(new Date(until).toISOString()));
    for (const s of [open, closed]) {
      expect(s.issuer.issued).toEqual([]);
      expect(s.table.partition(`ROOM#${s.roomId}`, "PART#")).toEqual([]);
    }
  });

  it("the 11th token of a minute is 429 until the next minute; an admin is not counted", async () => {
    const { token, clock, table, roomId } = await setup();
    for (let i = 0; i < 10; i++) expect((await token(viewer)).status).toBe(200);
    clock.advance(45_000);
    const refused = token(viewer);
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 15 });
    expect(table.partition(`ROOM#${roomId}`, `PART#${viewer.userId}#`)).toHaveLength(10);
    for (let i = 0; i < 12; i++) expect((await token(admin)).status).toBe(200);
    clock.advance(15_000);
    expect((await token(viewer)).status).toBe(200);
  });

  it("a ban written while the token is being made: 403 banned, and the token is dropped unrecorded", async () => {
    const { token, issuer, table, roomId, clock } = await setup();
    const until = clock.now() + 10 * 60_000;
    issuer.meanwhile = () => {
      table.items.set(`ROOM#${roomId}\u0000BAN#${viewer.userId}`, {
        pk: `ROOM#${roomId}`,
        sk: `BAN#${viewer.userId}`,
        userId: viewer.userId,
        until: new Date(until).toISOString(),
        untilMs: until,
        reason: "spam",
        bannedBy: owner.userId,
        createdAt: new Date(clock.now()).toISOString(),
      });
    };
    await expect(token(viewer)).rejects.toEqual(new BannedError(new Date(until).toISOString()));
    expect(issuer.issued).toHaveLength(1);
    expect(table.partition(`ROOM#${roomId}`, "PART#")).toEqual([]);
    expect(table.partition(`ROOM#${roomId}`, "PID#")).toEqual([]);
  });

  it("a room deleted while the token is being made: 404, nothing recorded", async () => {
    const { token, issuer, table, roomId } = await setup();
    issuer.meanwhile = () => {
      table.items.delete(`ROOM#${roomId}\u0000ROOM`);
    };
    await expect(token(viewer)).rejects.toBeInstanceOf(NotFoundError);
    expect(table.partition(`ROOM#${roomId}`, "PART#")).toEqual([]);
  });

  it("the issuer or the table failing: the error stands (503), and nothing is recorded", async () => {
    const { token, issuer, table, roomId } = await setup();
    issuer.failWith = () => new UpstreamUnavailableError("IVS did not complete CreateParticipantToken");
    await expect(token(viewer)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    issuer.failWith = undefined;
    table.fail("TransactWriteItems");
    await expect(token(viewer)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(table.partition(`ROOM#${roomId}`, "PART#")).toEqual([]);
    // Each failed request gave its charge back.
    expect(table.partition(`ROOM#${roomId}`, "RATE#").reduce((n, i) => n + Number(i.count), 0)).toBe(0);
  });
});
