// What the token path writes: the caller's token counter for the minute, charged before IVS is asked (and given
// back when no token comes of it), and the issued participant, recorded in one transaction that fails if a ban
// appeared meanwhile. Written against the Table port (db.ts): the token function runs it on its lite client.
import { cancellationReasons, mapDynamoError } from "../aws/dynamo-errors.ts";
import type { Capability } from "../rooms/policy.ts";
import type { Table } from "./db.ts";
import {
  banSk,
  epochSeconds,
  PARTICIPANT_GRACE_MS,
  participantSk,
  pointerSk,
  rateSk,
  ROOM_SK,
  roomPk,
} from "./keys.ts";
import { minuteOf } from "./room-access.ts";

export interface ParticipantRecord {
  participantId: string;
  userId: string;
  role: string;
  capabilities: Capability[];
  /** How the role was granted; an admin's participants can be kicked only by an admin. */
  via: string;
  /** The display name in the token's attributes (shown in the room's participant list). */
  displayName?: string;
  tokenExpiresAt: string;
  tokenExpiresMs: number;
  createdAt: string;
}

/** One token counted against a user in a room for a minute, by one request: what a refund gives back. */
export interface TokenCharge {
  roomId: string;
  userId: string;
  minute: number;
  requestId: string;
}

// The counter keeps, beside its count, the ids of the requests it counted: a charge or a refund that the client
// sends again (after a timeout, when the first attempt may have been applied) then counts once.
const NAMES = { "#c": "count", "#r": "requests" };

const isConditionFailure = (error: unknown) => (error as { name?: string }).name === "ConditionalCheckFailedException";

/**
 * Counts one token against the user's limit for this minute, unless the count already reached it: one conditional
 * increment, which DynamoDB applies one at a time on the counter item, so that N concurrent requests charge exactly
 * up to the limit. Undefined when the limit is reached.
 */
export async function chargeToken(
  db: Table,
  roomId: string,
  userId: string,
  opts: { now: number; limit: number; requestId: string },
): Promise<TokenCharge | undefined> {
  const charge = { roomId, userId, minute: minuteOf(opts.now), requestId: opts.requestId };
  try {
    await db.update({
      Key: { pk: roomPk(roomId), sk: rateSk(userId, charge.minute) },
      UpdateExpression: "ADD #c :one, #r :request SET expiresAt = :exp",
      ConditionExpression: "(attribute_not_exists(#c) OR #c < :limit) AND NOT contains(#r, :id)",
      ExpressionAttributeNames: NAMES,
      // The counter lives on a minute past its own, then TTL may remove it (reads key it by minute anyway).
      ExpressionAttributeValues: {
        ":one": 1,
        ":request": new Set([opts.requestId]),
        ":id": opts.requestId,
        ":limit": opts.limit,
        ":exp": epochSeconds((charge.minute + 2) * 60_000),
      },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    return charge;
  } catch (error) {
    if (!isConditionFailure(error)) return mapDynamoError(error);
    // Refused because this very request was counted already (an earlier attempt was applied): it is charged.
    return countedRequests(error).includes(opts.requestId) ? charge : undefined;
  }
}

/** Gives a charge back (the request got no token), once, whatever the retries. Throws as DynamoDB fails (429/503). */
export async function refundToken(db: Table, charge: TokenCharge): Promise<void> {
  try {
    await db.update({
      Key: { pk: roomPk(charge.roomId), sk: rateSk(charge.userId, charge.minute) },
      UpdateExpression: "ADD #c :minus DELETE #r :request",
      ConditionExpression: "contains(#r, :id)",
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ":minus": -1, ":request": new Set([charge.requestId]), ":id": charge.requestId },
    });
  } catch (error) {
    // Not (or no longer) counted: nothing to give back.
    if (!isConditionFailure(error)) mapDynamoError(error);
  }
}

/** The request ids of the counter returned (ALL_OLD) with a failed condition: wire format (`{SS}`) or a Set. */
function countedRequests(error: unknown): string[] {
  const value = (error as { Item?: Record<string, unknown> }).Item?.requests;
  if (value instanceof Set) return [...value].map(String);
  const ss = (value as { SS?: unknown } | undefined)?.SS;
  return Array.isArray(ss) ? ss.map(String) : [];
}

export type RecordOutcome =
  | { kind: "recorded" }
  /** A ban appeared after the decision; `untilMs` when DynamoDB returned the ban item with the cancellation. */
  | { kind: "banned"; untilMs: number | undefined }
  | { kind: "room_gone" };

/** Attempts of the recording transaction when DynamoDB cancels it for a conflict with a concurrent one. */
const MAX_CONFLICT_ATTEMPTS = 3;

/**
 * One transaction: fails if a ban appeared meanwhile or if the room is gone; otherwise records the participant
 * (and its pointer) until expiry + 24 h. A ban written after this transaction is followed by the kick's read of
 * the user's participants, which finds this one: a token is either refused here or disconnected there.
 */
export async function recordIssuedParticipant(
  db: Table,
  roomId: string,
  participant: ParticipantRecord,
  opts: { now: number },
): Promise<RecordOutcome> {
  const pk = roomPk(roomId);
  const expiresAt = epochSeconds(participant.tokenExpiresMs + PARTICIPANT_GRACE_MS);
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
    {
      Put: {
        TableName: db.table,
        Item: { pk, sk: participantSk(participant.userId, participant.participantId), ...participant, expiresAt },
      },
    },
    // The pointer also says who the participant is, for the room's participant list (shared/store/live.ts).
    {
      Put: {
        TableName: db.table,
        Item: {
          pk,
          sk: pointerSk(participant.participantId),
          userId: participant.userId,
          role: participant.role,
          ...(participant.displayName !== undefined ? { displayName: participant.displayName } : {}),
          tokenExpiresMs: participant.tokenExpiresMs,
          expiresAt,
        },
      },
    },
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
        // DynamoDB cancels (rather than queues) a transaction that meets another one on the same item (the room's,
        // the user's ban): nothing was written, so try again a few times before answering 503.
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
  const item = (error as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons?.[0]
    ?.Item;
  const value = item?.untilMs;
  const untilMs = Number(typeof value === "object" && value !== null ? (value as { N?: unknown }).N : value);
  return value !== undefined && Number.isFinite(untilMs) ? untilMs : undefined;
}
