// The token path's reads and writes: one read to decide, one transaction to record. Written against TokenTable
// (db.ts), so that the token function runs them on its lite client and the others on the SDK's document client.
import { cancellationReasons, dynamo, mapDynamoError } from "../aws/dynamo-errors.ts";
import type { Capability } from "../rooms/policy.ts";
import type { RoomRecord } from "../rooms/room.ts";
import type { TokenTable, TokenTableReads } from "./db.ts";
import { fromRoomItem, toBan, type Ban } from "./items.ts";
import { banSk, epochSeconds, memberSk, PARTICIPANT_GRACE_MS, participantSk, pointerSk, rateSk, ROOM_SK, roomPk } from "./keys.ts";

export interface ParticipantRecord {
  participantId: string;
  userId: string;
  role: string;
  capabilities: Capability[];
  /** How the role was granted; an admin's participants can be kicked only by an admin. */
  via: string;
  tokenExpiresAt: string;
  tokenExpiresMs: number;
  createdAt: string;
}

export interface TokenDecisionInputs {
  room: RoomRecord | undefined;
  memberRole: string | undefined;
  ban: Ban | undefined;
  tokensThisMinute: number;
}

export const minuteOf = (now: number) => Math.floor(now / 60_000);

/** One round trip: the room, the caller's membership, ban and token count for this minute. */
export async function readTokenDecisionInputs(db: TokenTableReads, roomId: string, userId: string, now: number): Promise<TokenDecisionInputs> {
  const pk = roomPk(roomId);
  const wanted = [ROOM_SK, memberSk(userId), banSk(userId), rateSk(userId, minuteOf(now))];
  const found = new Map<string, Record<string, unknown>>();
  let keys: Array<Record<string, unknown>> = wanted.map((sk) => ({ pk, sk }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 4) mapDynamoError(new Error("unprocessed keys"));
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    const out = await dynamo(() => db.batchGet(keys));
    for (const item of out.items) found.set(String(item.sk), item);
    keys = out.unprocessed;
  }
  const room = found.get(ROOM_SK);
  const member = found.get(wanted[1]!);
  const ban = found.get(wanted[2]!);
  const rate = found.get(wanted[3]!);
  return {
    room: room ? fromRoomItem(room) : undefined,
    memberRole: member ? String(member.role) : undefined,
    ban: ban ? toBan(ban) : undefined,
    tokensThisMinute: rate ? Number(rate.count ?? 0) : 0,
  };
}

export type RecordOutcome =
  | { kind: "recorded" }
  /** A ban appeared after the decision; `untilMs` when DynamoDB returned the ban item with the cancellation. */
  | { kind: "banned"; untilMs: number | undefined }
  | { kind: "room_gone" }
  | { kind: "rate_limited" };

/** Attempts of the recording transaction when DynamoDB cancels it for a conflict with a concurrent one. */
const MAX_CONFLICT_ATTEMPTS = 3;

/**
 * One transaction: fails if a ban appeared meanwhile, if the room is gone, or if the caller's count for this
 * minute reached the limit; otherwise records the participant (and its pointer) until expiry + 24 h.
 */
export async function recordIssuedParticipant(
  db: TokenTable, roomId: string, participant: ParticipantRecord, opts: { now: number; rateLimit: number | undefined },
): Promise<RecordOutcome> {
  const pk = roomPk(roomId);
  const expiresAt = epochSeconds(participant.tokenExpiresMs + PARTICIPANT_GRACE_MS);
  const minute = minuteOf(opts.now);
  const items = [
    {
      ConditionCheck: {
        TableName: db.table,
        Key: { pk, sk: banSk(participant.userId) },
        ConditionExpression: "attribute_not_exists(pk) OR untilMs <= :now",
        ExpressionAttributeValues: { ":now": opts.now },
        // The ban comes back with the cancellation, so its end is known without another read.
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    },
    { ConditionCheck: { TableName: db.table, Key: { pk, sk: ROOM_SK }, ConditionExpression: "attribute_exists(pk)" } },
    { Put: { TableName: db.table, Item: { pk, sk: participantSk(participant.userId, participant.participantId), ...participant, expiresAt } } },
    { Put: { TableName: db.table, Item: { pk, sk: pointerSk(participant.participantId), userId: participant.userId, tokenExpiresMs: participant.tokenExpiresMs, expiresAt } } },
    ...(opts.rateLimit === undefined ? [] : [{
      Update: {
        TableName: db.table,
        Key: { pk, sk: rateSk(participant.userId, minute) },
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
        if (reasons[4] === "ConditionalCheckFailed") return { kind: "rate_limited" };
        // DynamoDB cancels (rather than queues) a transaction that meets another one on the same item, e.g. the
        // same user's token counter: nothing was written, so try again a few times before answering 503.
        if (reasons.includes("TransactionConflict") && attempt < MAX_CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
          continue;
        }
      }
      return mapDynamoError(error);
    }
  }
}

/** `untilMs` of the ban item returned (ALL_OLD) with a cancelled transaction: wire format (`{N}`) or plain. */
export function cancelledBanUntil(error: unknown): number | undefined {
  const item = (error as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons?.[0]?.Item;
  const value = item?.untilMs;
  const untilMs = Number(typeof value === "object" && value !== null ? (value as { N?: unknown }).N : value);
  return value !== undefined && Number.isFinite(untilMs) ? untilMs : undefined;
}

