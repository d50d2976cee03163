// Token exchange's read and write, on the Table port (db.ts) that the token function runs on its lite client. One
// strongly consistent read of what the decision needs: the room access (room-access.ts) and, in the same round trip,
// the caller's participant record and whether a moderator disconnected it. One transaction that updates the
// participant's record and pointer, and fails if a ban or a disconnection appeared meanwhile. The caller's token
// limit is charged and given back as for a new token (token-records.ts).
import { cancellationReasons, mapDynamoError } from "../aws/dynamo-errors.ts";
import type { Capability } from "../rooms/policy.ts";
import type { ExchangedRecord, ExchangeSubject } from "../token/exchange.ts";
import type { Table, TableReads } from "./db.ts";
import {
  banSk,
  disconnectedSk,
  epochSeconds,
  PARTICIPANT_GRACE_MS,
  participantSk,
  pointerSk,
  ROOM_SK,
  roomPk,
} from "./keys.ts";
import { readRoomAccessWith, type RoomAccessInputs } from "./room-access.ts";
import { cancelledBanUntil } from "./token-records.ts";

export interface ExchangeInputs extends RoomAccessInputs {
  subject: ExchangeSubject | undefined;
}

export async function readExchangeInputs(
  db: TableReads,
  roomId: string,
  userId: string,
  participantId: string,
  now: number,
): Promise<ExchangeInputs> {
  const partSk = participantSk(userId, participantId);
  const markSk = disconnectedSk(participantId);
  const { access, more } = await readRoomAccessWith(db, roomId, userId, now, [partSk, markSk]);
  const participant = more.get(partSk);
  return {
    ...access,
    subject: participant
      ? {
          participantId,
          userId: String(participant.userId),
          capabilities: participant.capabilities as Capability[],
          tokenCapabilities: participant.tokenCapabilities as Capability[] | undefined,
          tokenExpiresMs: Number(participant.tokenExpiresMs),
          disconnected: more.has(markSk),
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
  | { kind: "raced" };

const MAX_CONFLICT_ATTEMPTS = 3;

/**
 * One transaction: fails if a ban appeared meanwhile, if the room is gone, if a moderator disconnected the
 * participant, or if another exchange changed its record first; otherwise updates the participant's record and
 * pointer, kept until the latest expiry + 24 h. A kick or role change after it disconnects the participant id,
 * which reaches this token too.
 */
export async function recordExchange(
  db: Table,
  roomId: string,
  write: ExchangeWrite,
  opts: { now: number },
): Promise<ExchangeOutcome> {
  const pk = roomPk(roomId);
  const { record } = write;
  const expiresAt = epochSeconds(record.tokenExpiresMs + PARTICIPANT_GRACE_MS);
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
    {
      ConditionCheck: {
        TableName: db.table,
        Key: { pk, sk: disconnectedSk(write.participantId) },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    },
    {
      Update: {
        TableName: db.table,
        Key: { pk, sk: participantSk(write.userId, write.participantId) },
        UpdateExpression:
          "SET #role = :role, via = :via, capabilities = :caps, tokenCapabilities = :tokenCaps, " +
          "tokenExpiresAt = :expAt, tokenExpiresMs = :expMs, expiresAt = :ttl, exchangedAt = :at",
        ConditionExpression: "attribute_exists(pk) AND tokenExpiresMs = :prevExpMs",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: {
          ":role": record.role,
          ":via": record.via,
          ":caps": record.capabilities,
          ":tokenCaps": record.tokenCapabilities,
          ":expAt": record.tokenExpiresAt,
          ":expMs": record.tokenExpiresMs,
          ":ttl": expiresAt,
          ":at": write.exchangedAt,
          ":prevExpMs": write.previousExpiresMs,
        },
      },
    },
    {
      Update: {
        TableName: db.table,
        Key: { pk, sk: pointerSk(write.participantId) },
        // The pointer carries the role the live participants list shows: the exchanged token's.
        UpdateExpression: "SET tokenExpiresMs = :expMs, expiresAt = :ttl, #role = :role",
        ConditionExpression: "attribute_exists(pk) AND userId = :user",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: {
          ":expMs": record.tokenExpiresMs,
          ":ttl": expiresAt,
          ":user": write.userId,
          ":role": record.role,
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
        if (reasons[2] === "ConditionalCheckFailed") return { kind: "disconnected" };
        if (reasons[3] === "ConditionalCheckFailed" || reasons[4] === "ConditionalCheckFailed")
          return { kind: "raced" };
        if (reasons.includes("TransactionConflict") && attempt < MAX_CONFLICT_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
          continue;
        }
      }
      return mapDynamoError(error);
    }
  }
}
