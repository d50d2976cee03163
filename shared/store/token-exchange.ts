// Token exchange's read and write, on the token function's table port (db.ts). One strongly consistent read of
// what the decision needs: the room, the caller's membership, ban and token count (as for a new token), the
// caller's participant record and whether a moderator disconnected it. One transaction that updates the
// participant's record and pointer, and fails if a ban or a disconnection appeared meanwhile.
import { cancellationReasons, dynamo, mapDynamoError } from "../aws/dynamo-errors.ts";
import type { Capability } from "../rooms/policy.ts";
import type { ExchangedRecord, ExchangeSubject } from "../token/exchange.ts";
import type { DocItem, TokenTable, TokenTableReads } from "./db.ts";
import { fromRoomItem, toBan } from "./items.ts";
import {
  banSk, disconnectedSk, epochSeconds, memberSk, PARTICIPANT_GRACE_MS, participantSk, pointerSk, rateSk, ROOM_SK, roomPk,
} from "./keys.ts";
import { cancelledBanUntil, minuteOf, type TokenDecisionInputs } from "./token-path.ts";

export interface ExchangeInputs extends TokenDecisionInputs {
  subject: ExchangeSubject | undefined;
}

/** Every item of `keys` that exists, in one BatchGetItem (again for what DynamoDB left unprocessed), by sort key. */
async function getAll(db: TokenTableReads, keys: DocItem[]): Promise<Map<string, DocItem>> {
  const found = new Map<string, DocItem>();
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 4) mapDynamoError(new Error("unprocessed keys"));
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    const out = await dynamo(() => db.batchGet(keys));
    for (const item of out.items) found.set(String(item.sk), item);
    keys = out.unprocessed;
  }
  return found;
}

export async function readExchangeInputs(
  db: TokenTableReads, roomId: string, userId: string, participantId: string, now: number,
): Promise<ExchangeInputs> {
  const pk = roomPk(roomId);
  const sks = {
    room: ROOM_SK, member: memberSk(userId), ban: banSk(userId), rate: rateSk(userId, minuteOf(now)),
    participant: participantSk(userId, participantId), disconnected: disconnectedSk(participantId),
  };
  const found = await getAll(db, Object.values(sks).map((sk) => ({ pk, sk })));
  const room = found.get(sks.room);
  const member = found.get(sks.member);
  const ban = found.get(sks.ban);
  const rate = found.get(sks.rate);
  const participant = found.get(sks.participant);
  return {
    room: room ? fromRoomItem(room) : undefined,
    memberRole: member ? String(member.role) : undefined,
    ban: ban ? toBan(ban) : undefined,
    tokensThisMinute: rate ? Number(rate.count ?? 0) : 0,
    subject: participant
      ? {
          participantId,
          userId: String(participant.userId),
          capabilities: participant.capabilities as Capability[],
          tokenCapabilities: participant.tokenCapabilities as Capability[] | undefined,
          tokenExpiresMs: Number(participant.tokenExpiresMs),
          disconnected: found.has(sks.disconnected),
        }
      : undefined,
  };
}

export interface ExchangeWrite {
  userId: string;
  participantId: string;
  /** The record's expiry as read: the update applies only if no other exchange changed it meanwhile. */
  previousExpiresMs: number;
  record: ExchangedRecord;
  exchangedAt: string;
}

export type ExchangeOutcome =
  | { kind: "recorded" }
  /** A ban appeared after the decision; `untilMs` when DynamoDB returned the ban item with the cancellation. */
  | { kind: "banned"; untilMs: number | undefined }
  | { kind: "room_gone" }
  /** A moderator disconnected the participant after the decision. */
  | { kind: "disconnected" }
  /** Another exchange of the same participant was recorded first. */
  | { kind: "raced" }
  | { kind: "rate_limited" };

const MAX_CONFLICT_ATTEMPTS = 3;

/**
 * One transaction: fails if a ban appeared meanwhile, if the room is gone, if a moderator disconnected the
 * participant, if another exchange changed its record first, or if the caller's count for this minute reached the
 * limit; otherwise updates the participant's record and pointer (kept until the latest expiry + 24 h) and counts it.
 */
export async function recordExchange(
  db: TokenTable, roomId: string, write: ExchangeWrite, opts: { now: number; rateLimit: number | undefined },
): Promise<ExchangeOutcome> {
  const pk = roomPk(roomId);
  const { record } = write;
  const expiresAt = epochSeconds(record.tokenExpiresMs + PARTICIPANT_GRACE_MS);
  const minute = minuteOf(opts.now);
  const items = [
    {
      ConditionCheck: {
        TableName: db.table,
        Key: { pk, sk: banSk(write.userId) },
        ConditionExpression: "attribute_not_exists(pk) OR untilMs <= :now",
        ExpressionAttributeValues: { ":now": opts.now },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    },
    { ConditionCheck: { TableName: db.table, Key: { pk, sk: ROOM_SK }, ConditionExpression: "attribute_exists(pk)" } },
    { ConditionCheck: { TableName: db.table, Key: { pk, sk: disconnectedSk(write.participantId) }, ConditionExpression: "attribute_not_exists(pk)" } },
    {
      Update: {
        TableName: db.table,
        Key: { pk, sk: participantSk(write.userId, write.participantId) },
        UpdateExpression: "SET #role = :role, via = :via, capabilities = :caps, tokenCapabilities = :tokenCaps, "
          + "tokenExpiresAt = :expAt, tokenExpiresMs = :expMs, expiresAt = :ttl, exchangedAt = :at",
        ConditionExpression: "attribute_exists(pk) AND tokenExpiresMs = :prevExpMs",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: {
          ":role": record.role, ":via": record.via, ":caps": record.capabilities, ":tokenCaps": record.tokenCapabilities,
          ":expAt": record.tokenExpiresAt, ":expMs": record.tokenExpiresMs, ":ttl": expiresAt, ":at": write.exchangedAt,
          ":prevExpMs": write.previousExpiresMs,
        },
      },
    },
    {
      Update: {
        TableName: db.table,
        Key: { pk, sk: pointerSk(write.participantId) },
        UpdateExpression: "SET tokenExpiresMs = :expMs, expiresAt = :ttl",
        ConditionExpression: "attribute_exists(pk) AND userId = :user",
        ExpressionAttributeValues: { ":expMs": record.tokenExpiresMs, ":ttl": expiresAt, ":user": write.userId },
      },
    },
    ...(opts.rateLimit === undefined ? [] : [{
      Update: {
        TableName: db.table,
        Key: { pk, sk: rateSk(write.userId, minute) },
        UpdateExpression: "ADD #c :one SET expiresAt = :exp",
        ConditionExpression: "attribute_not_exists(#c) OR #c < :limit",
        ExpressionAttributeNames: { "#c": "count" },
        ExpressionAttributeValues: { ":one": 1, ":limit": opts.rateLimit, ":exp": epochSeconds((minute + 2) * 60_000) },
      },
    }]),
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      await db.transactWrite(items);
      return { kind: "recorded" };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons) {
        if (reasons[0] === "ConditionalCheckFailed") return { kind: "banned", untilMs: cancelledBanUntil(error) };
        if (reasons[1] === "ConditionalCheckFailed") return { kind: "room_gone" };
        if (reasons[2] === "ConditionalCheckFailed") return { kind: "disconnected" };
        if (reasons[3] === "ConditionalCheckFailed" || reasons[4] === "ConditionalCheckFailed") return { kind: "raced" };
        if (reasons[5] === "ConditionalCheckFailed") return { kind: "rate_limited" };
        if (reasons.includes("TransactionConflict") && attempt < MAX_CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
          continue;
        }
      }
      return mapDynamoError(error);
    }
  }
}
