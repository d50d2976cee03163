// Token exchange's pure rules (shared/token/exchange.ts) and the self-signed token it signs (shared/token/self-signed.ts):
// who may exchange, when capacity applies, what the participant's record becomes, and that the new token keeps the
// claims IVS's exchange requires unchanged.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { NotFoundError, ParticipantDisconnectedError } from "../../shared/errors.ts";
import {
  addsPublish,
  exchangedRecord,
  requireExchangeable,
  type ExchangeSubject,
} from "../../shared/token/exchange.ts";
import { signParticipantToken } from "../../shared/token/self-signed.ts";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const ids = { roomId: "room1", participantId: "p1" };
const subject = (over: Partial<ExchangeSubject> = {}): ExchangeSubject => ({
  participantId: "p1",
  userId: "u1",
  capabilities: ["SUBSCRIBE"],
  tokenExpiresMs: NOW + 60_000,
  disconnected: false,
  ...over,
});

describe("requireExchangeable", () => {
  it("answers the caller's own participant while IVS may still hold it (its tokens expired less than 24 h ago)", () => {
    expect(requireExchangeable(subject(), { userId: "u1" }, ids, NOW)).toEqual(subject());
    const expiredLately = subject({ tokenExpiresMs: NOW - DAY + 1 });
    expect(requireExchangeable(expiredLately, { userId: "u1" }, ids, NOW)).toBe(expiredLately);
  });

  it("is 404 for an unknown participant, another user's, or one past 24 h, as for an unknown id", () => {
    for (const [s, caller] of [
      [undefined, "u1"],
      [subject(), "u2"],
      [subject({ tokenExpiresMs: NOW - DAY }), "u1"],
    ] as const) {
      expect(() => requireExchangeable(s, { userId: caller }, ids, NOW)).toThrow(NotFoundError);
    }
  });

  it("is 409 participant_disconnected for a participant a moderator disconnected", () => {
    const call = () => requireExchangeable(subject({ disconnected: true }), { userId: "u1" }, ids, NOW);
    expect(call).toThrow(ParticipantDisconnectedError);
    expect(call).toThrow(expect.objectContaining({ status: 409, code: "participant_disconnected" }));
  });

  it("checks ownership before disconnection: another user's disconnected participant is still 404", () => {
    expect(() => requireExchangeable(subject({ disconnected: true }), { userId: "u2" }, ids, NOW)).toThrow(
      NotFoundError,
    );
  });
});

describe("addsPublish", () => {
  it("is true only when the new token grants PUBLISH the latest token lacked", () => {
    expect(addsPublish({ capabilities: ["SUBSCRIBE"] }, ["PUBLISH", "SUBSCRIBE"])).toBe(true);
    expect(addsPublish({ capabilities: ["PUBLISH", "SUBSCRIBE"] }, ["PUBLISH", "SUBSCRIBE"])).toBe(false);
    expect(addsPublish({ capabilities: ["SUBSCRIBE"] }, ["SUBSCRIBE"])).toBe(false);
    // Demoted by an earlier exchange: the record still holds PUBLISH, the latest token does not.
    expect(addsPublish({ capabilities: ["PUBLISH", "SUBSCRIBE"], tokenCapabilities: ["SUBSCRIBE"] }, ["PUBLISH"])).toBe(
      true,
    );
  });
});

describe("exchangedRecord", () => {
  it("promotes: the new role, its capabilities, and a later expiry", () => {
    const later = NOW + 3_600_000;
    expect(
      exchangedRecord(subject(), {
        role: "speaker",
        via: "member",
        capabilities: ["SUBSCRIBE", "PUBLISH"],
        tokenExpiresMs: later,
      }),
    ).toEqual({
      role: "speaker",
      via: "member",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenCapabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenExpiresMs: later,
      tokenExpiresAt: new Date(later).toISOString(),
    });
  });

  it("keeps what the earlier tokens allowed: they can still join until they expire, so a role change must still reach them", () => {
    const earlier = subject({ capabilities: ["PUBLISH", "SUBSCRIBE"], tokenExpiresMs: NOW + 4 * 3_600_000 });
    const record = exchangedRecord(earlier, {
      role: "viewer",
      via: "open",
      capabilities: ["SUBSCRIBE"],
      tokenExpiresMs: NOW + 60_000,
    });
    expect(record.capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
    expect(record.tokenCapabilities).toEqual(["SUBSCRIBE"]);
    expect(record.tokenExpiresMs).toBe(earlier.tokenExpiresMs);
    expect(record.tokenExpiresAt).toBe(new Date(earlier.tokenExpiresMs).toISOString());
    expect(record.role).toBe("viewer");
  });
});

describe("signParticipantToken for an exchange", () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const key = { publicKeyArn: "arn:aws:ivs:us-east-1:123456789012:public-key/AbCd", privateKey };
  const room = {
    roomId: "AbCdEfGhIjKl",
    stageArn: "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEfGhIjKl",
    endpoints: { events: "wss://global.events.live-video.net", whip: "https://abc.global-bm.whip.live-video.net" },
  };
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
  const IMMUTABLE = ["jti", "resource", "topic", "events_url", "whip_url"];

  it("keeps jti, resource, topic, events_url and whip_url; capabilities, attributes and expiry are the new ones", () => {
    const first = signParticipantToken(
      key,
      { room, userId: "u1", capabilities: ["SUBSCRIBE"], durationMinutes: 1, attributes: { role: "viewer" } },
      NOW,
    );
    const next = signParticipantToken(
      key,
      {
        room,
        participantId: first.participantId,
        userId: "u1",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        durationMinutes: 240,
        attributes: { role: "speaker" },
      },
      NOW + 30_000,
    );
    expect(next.participantId).toBe(first.participantId);
    const [a, b] = [claimsOf(first.token), claimsOf(next.token)];
    for (const claim of IMMUTABLE) expect(b[claim], claim).toEqual(a[claim]);
    expect(b.capabilities).toEqual({ allow_publish: true, allow_subscribe: true });
    expect(b.attributes).toEqual({ role: "speaker" });
    expect(b.exp).toBe(Math.floor((NOW + 30_000) / 1000) + 240 * 60);
    expect(next.expirationTime).toBe(new Date(b.exp * 1000).toISOString());
  });

  it("without a participant id, a new participant", () => {
    const request = { room, userId: "u1", capabilities: ["SUBSCRIBE" as const], durationMinutes: 1, attributes: {} };
    expect(signParticipantToken(key, request, NOW).participantId).not.toBe(
      signParticipantToken(key, request, NOW).participantId,
    );
  });
});
