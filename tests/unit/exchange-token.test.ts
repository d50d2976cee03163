// Token exchange as a use case (functions/token/exchange-token.ts) on in-memory fakes of its ports: the table (one
// read to decide, the caller's charge, one transaction to record) and a self-signed issuer, with kicks and role changes through their own
// use cases on the same fakes. Through the offline stack: tests/e2e/token-exchange.test.ts.
import { describe, expect, it } from "vitest";
import { kick } from "../../functions/moderation/kick.ts";
import { createRoom } from "../../functions/rooms/create-room.ts";
import { putMemberRoute } from "../../functions/rooms/members.ts";
import { exchangeToken } from "../../functions/token/exchange-token.ts";
import type { IssuedToken, TokenRequest } from "../../functions/token/issuers.ts";
import { issueToken, type TokenDeps } from "../../functions/token/issue-token.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import {
  BannedError,
  ConflictError,
  ExchangeUnsupportedError,
  ForbiddenError,
  NotFoundError,
  ParticipantDisconnectedError,
  RateLimitedError,
  ValidationError,
} from "../../shared/errors.ts";
import { caller, FakeIssuer, fakeDeps, request } from "../support/fakes.ts";

const owner = caller("0a0a0a0a-0000-4000-8000-0000000000a1");
const viewer = caller("0b0b0b0b-0000-4000-8000-0000000000b2", { displayName: "Vee" });
const other = caller("0c0c0c0c-0000-4000-8000-0000000000c3");

/** The self-signed issuer: it can sign again for a participant it issued (IVS keeps jti, resource, topic). */
class KeyPairIssuer extends FakeIssuer {
  readonly reissued: Array<TokenRequest & { participantId: string }> = [];
  constructor(private readonly clock: () => number) {
    super(clock);
  }
  async reissue(request: TokenRequest & { participantId: string }): Promise<IssuedToken> {
    this.reissued.push(request);
    return {
      participantId: request.participantId,
      token: `token-of-${request.participantId}-${this.reissued.length}`,
      expirationTime: new Date(this.clock() + request.durationMinutes * 60_000).toISOString(),
    };
  }
}

async function setup(opts: { issuer?: "key-pair" | "ivs"; env?: Record<string, string> } = {}) {
  const fakes = fakeDeps(opts.env);
  const { deps, table, clock } = fakes;
  const created = await createRoom(deps, request(owner, { body: { name: "room" } }));
  const roomId = (created.body as { roomId: string }).roomId;
  const issuer = opts.issuer === "ivs" ? new FakeIssuer(clock.now) : new KeyPairIssuer(clock.now);
  const tokenDeps: TokenDeps = { config: deps.config, table: table.tokenTable, issuer, now: clock.now };
  const token = async (who: Caller, body?: unknown) =>
    (
      await issueToken(
        tokenDeps,
        request(who, {
          routeKey: "POST /rooms/{roomId}/token",
          pathParameters: { roomId },
          ...(body !== undefined ? { body } : {}),
        }),
      )
    ).body as Record<string, any>;
  const exchange = (who: Caller, participantId: string, body?: unknown) =>
    exchangeToken(
      tokenDeps,
      request(who, {
        routeKey: "POST /rooms/{roomId}/participants/{participantId}/token",
        pathParameters: { roomId, participantId },
        ...(body !== undefined ? { body } : {}),
      }),
    );
  const setRole = (userId: string, role: string) =>
    putMemberRoute(
      deps,
      request(owner, {
        routeKey: "PUT /rooms/{roomId}/members/{userId}",
        pathParameters: { roomId, userId },
        body: { role },
      }),
    );
  const kickAs = (body: unknown) =>
    kick(deps, request(owner, { routeKey: "POST /rooms/{roomId}/kick", pathParameters: { roomId }, body }));
  const record = (userId: string, pid: string) => table.partition(`ROOM#${roomId}`, `PART#${userId}#${pid}`)[0];
  return { ...fakes, roomId, issuer, token, exchange, setRole, kickAs, record };
}

describe("exchangeToken", () => {
  it("promotes: the new role's capabilities for the same participant; one read, the charge, one transaction", async () => {
    const { token, exchange, setRole, table, issuer, record, roomId, clock } = await setup();
    const first = await token(viewer);
    await setRole(viewer.userId, "speaker");
    table.calls.length = 0;
    clock.advance(60_000);
    const r = await exchange(viewer, first.participantId);
    expect(table.calls).toEqual(["BatchGetItem", "UpdateItem", "TransactWriteItems"]);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual({ "cache-control": "no-store" });
    expect(r.body).toMatchObject({
      participantId: first.participantId,
      roomId,
      userId: viewer.userId,
      role: "speaker",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      attributes: { role: "speaker", displayName: "Vee" },
      exchange: true,
    });
    expect((issuer as KeyPairIssuer).reissued).toEqual([
      expect.objectContaining({ participantId: first.participantId, userId: viewer.userId }),
    ]);
    const expiresMs = Date.parse((r.body as { expirationTime: string }).expirationTime);
    expect(record(viewer.userId, first.participantId)).toMatchObject({
      role: "speaker",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenCapabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenExpiresMs: expiresMs,
      expiresAt: Math.floor((expiresMs + 86_400_000) / 1000),
    });
    expect(table.partition(`ROOM#${roomId}`, `PID#${first.participantId}`)[0]).toMatchObject({
      tokenExpiresMs: expiresMs,
    });
  });

  it("is 409 exchange_unsupported when tokens come from CreateParticipantToken, before reading anything", async () => {
    const { token, exchange, table } = await setup({ issuer: "ivs" });
    const first = await token(viewer);
    table.calls.length = 0;
    await expect(exchange(viewer, first.participantId)).rejects.toBeInstanceOf(ExchangeUnsupportedError);
    expect(table.calls).toEqual([]);
  });

  it("refuses, changing nothing: another user's or an unknown participant (404), rules of a new token (403, 400)", async () => {
    const { token, exchange, table } = await setup();
    const first = await token(viewer);
    const before = table.snapshot();
    await expect(exchange(other, first.participantId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(exchange(viewer, "NoSuchParticipant1")).rejects.toBeInstanceOf(NotFoundError);
    await expect(exchange(viewer, first.participantId, { capabilities: ["PUBLISH"] })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(exchange(viewer, first.participantId, { durationMinutes: 241 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(exchange(viewer, "bad_id!")).rejects.toBeInstanceOf(ValidationError);
    expect(table.snapshot()).toEqual(before);
  });

  it("is 404 once the participant's tokens expired more than 24 h ago, and renews one expiring sooner", async () => {
    const { token, exchange, clock } = await setup();
    const first = await token(viewer, { durationMinutes: 1 });
    clock.advance(24 * 3_600_000);
    const renewed = await exchange(viewer, first.participantId, { durationMinutes: 240 });
    expect(Date.parse((renewed.body as { expirationTime: string }).expirationTime)).toBe(clock.now() + 240 * 60_000);
    clock.advance(240 * 60_000 + 24 * 3_600_000);
    await expect(exchange(viewer, first.participantId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("is 409 participant_disconnected after a kick, and after a role change that disconnected it", async () => {
    const { token, exchange, kickAs, setRole } = await setup();
    const a = await token(viewer);
    await kickAs({ participantId: a.participantId });
    await expect(exchange(viewer, a.participantId)).rejects.toBeInstanceOf(ParticipantDisconnectedError);

    await setRole(other.userId, "speaker");
    const b = await token(other);
    await setRole(other.userId, "viewer");
    await expect(exchange(other, b.participantId)).rejects.toBeInstanceOf(ParticipantDisconnectedError);
  });

  it("keeps the capabilities of earlier tokens on the record, so that a demotion still disconnects what it must", async () => {
    const { token, exchange, setRole, record, ivs } = await setup();
    await setRole(viewer.userId, "speaker");
    const first = await token(viewer);
    await exchange(viewer, first.participantId, { capabilities: ["SUBSCRIBE"] });
    expect(record(viewer.userId, first.participantId)).toMatchObject({
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenCapabilities: ["SUBSCRIBE"],
    });
    await setRole(viewer.userId, "viewer");
    expect(ivs.disconnected.map((d) => d.participantId)).toEqual([first.participantId]);
  });

  it("a ban written while the token is signed: 403 banned, nothing recorded, the count not spent", async () => {
    const { token, exchange, issuer, table, roomId, record, clock } = await setup();
    const first = await token(viewer);
    const before = record(viewer.userId, first.participantId);
    const untilMs = clock.now() + 60_000;
    (issuer as KeyPairIssuer).reissue = async function (this: KeyPairIssuer, req) {
      table.items.set(`ROOM#${roomId}\u0000BAN#${viewer.userId}`, {
        pk: `ROOM#${roomId}`,
        sk: `BAN#${viewer.userId}`,
        userId: viewer.userId,
        untilMs,
        until: new Date(untilMs).toISOString(),
        reason: null,
        bannedBy: owner.userId,
        createdAt: "",
      });
      return KeyPairIssuer.prototype.reissue.call(this, req);
    };
    const refused = exchange(viewer, first.participantId);
    await expect(refused).rejects.toBeInstanceOf(BannedError);
    await expect(refused).rejects.toMatchObject({ until: new Date(untilMs).toISOString() });
    expect(record(viewer.userId, first.participantId)).toEqual(before);
    expect(table.partition(`ROOM#${roomId}`, `RATE#${viewer.userId}#`)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it("a kick written while the token is signed: 409 participant_disconnected, nothing recorded, the charge given back", async () => {
    const { token, exchange, issuer, kickAs, record, table, roomId } = await setup();
    const first = await token(viewer);
    const before = record(viewer.userId, first.participantId);
    const original = (issuer as KeyPairIssuer).reissue.bind(issuer);
    (issuer as KeyPairIssuer).reissue = async (req) => {
      await kickAs({ participantId: first.participantId });
      return original(req);
    };
    await expect(exchange(viewer, first.participantId)).rejects.toBeInstanceOf(ParticipantDisconnectedError);
    expect(record(viewer.userId, first.participantId)).toEqual(before);
    expect(table.partition(`ROOM#${roomId}`, `RATE#${viewer.userId}#`)).toEqual([
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it("two exchanges of one participant racing: one is recorded, the other answers 409 conflict", async () => {
    const { token, exchange, issuer } = await setup();
    const first = await token(viewer);
    const original = (issuer as KeyPairIssuer).reissue.bind(issuer);
    let inner: Promise<unknown> | undefined;
    (issuer as KeyPairIssuer).reissue = async (req) => {
      if (!inner) {
        (issuer as KeyPairIssuer).reissue = original;
        inner = exchange(viewer, first.participantId, { durationMinutes: 120 });
        await inner;
      }
      return original(req);
    };
    await expect(exchange(viewer, first.participantId, { durationMinutes: 30 })).rejects.toBeInstanceOf(ConflictError);
    await expect(inner).resolves.toMatchObject({ status: 200 });
  });

  it("shares the per-user limit with new tokens", async () => {
    const { token, exchange } = await setup({ env: { TOKEN_RATE_PER_MINUTE: "3" } });
    const first = await token(viewer);
    await exchange(viewer, first.participantId);
    await token(viewer);
    await expect(exchange(viewer, first.participantId)).rejects.toBeInstanceOf(RateLimitedError);
  });
});
