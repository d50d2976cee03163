// Self-signed participant tokens (TOKEN_MODE=self-signed): ES384 JWTs signed with a P-384 key whose public half
// was imported into IVS (ImportPublicKey). No IVS call on the token path: the stage's endpoints are kept with the
// room. Header and claims as IVS documents them.
import { randomBytes, sign, type KeyObject } from "node:crypto";
import { UpstreamUnavailableError } from "../errors.ts";
import type { Capability } from "../rooms/policy.ts";
import { stageIdOf, type RoomRecord } from "../rooms/room.ts";

export interface SigningKey {
  /** ARN of the imported public key: the token header's `kid`. */
  publicKeyArn: string;
  privateKey: KeyObject;
}

export interface SelfSignedRequest {
  room: Pick<RoomRecord, "roomId" | "stageArn" | "endpoints">;
  /**
   * A token exchange's participant: the new token carries its id as `jti` (with the same `resource`, `topic`,
   * `events_url` and `whip_url`, which come from the room). Absent: a new participant id.
   */
  participantId?: string | undefined;
  userId: string;
  capabilities: Capability[];
  durationMinutes: number;
  attributes: Record<string, string>;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 20 characters of [A-Za-z0-9] (119 bits), without modulo bias; valid for every IVS participant API. */
export function newParticipantId(length = 20): string {
  let id = "";
  while (id.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) id += ALPHABET[byte % 62];
      if (id.length === length) break;
    }
  }
  return id;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function signParticipantToken(key: SigningKey, request: SelfSignedRequest, now: number) {
  const { events, whip } = request.room.endpoints;
  if (!events || !whip)
    throw new UpstreamUnavailableError(`room ${request.room.roomId} has no stage endpoints recorded`, 5);
  const participantId = request.participantId ?? newParticipantId();
  const iat = Math.floor(now / 1000);
  const exp = iat + request.durationMinutes * 60;
  const header = { alg: "ES384", typ: "JWT", kid: key.publicKeyArn };
  const claims = {
    exp,
    iat,
    jti: participantId,
    resource: request.room.stageArn,
    topic: stageIdOf(request.room.stageArn),
    events_url: events,
    whip_url: whip,
    user_id: request.userId,
    attributes: request.attributes,
    capabilities: {
      allow_publish: request.capabilities.includes("PUBLISH"),
      allow_subscribe: request.capabilities.includes("SUBSCRIBE"),
    },
    version: "1.0",
  };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign("sha384", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return {
    participantId,
    token: `${input}.${signature.toString("base64url")}`,
    expirationTime: new Date(exp * 1000).toISOString(),
  };
}
