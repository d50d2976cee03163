// The token path's reads and writes, and the participant records that kicks and role changes use.
import { BatchGetCommand, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { cancellationReasons, dynamo, mapDynamoError } from "../aws/dynamo.ts";
import type { Capability } from "../rooms/policy.ts";
import type { RoomRecord } from "../rooms/room.ts";
import { toBan, type Ban } from "./bans.ts";
import type { Db } from "./db.ts";
import { queryPartition } from "./query.ts";
import {
  banSk, epochSeconds, memberSk, PARTICIPANT_GRACE_MS, participantPrefix, participantSk, pointerSk, rateSk, ROOM_SK, roomPk,
} from "./keys.ts";
import { fromRoomItem } from "./rooms.ts";

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
export async function readTokenDecisionInputs(db: Db, roomId: string, userId: string, now: number): Promise<TokenDecisionInputs> {
  const pk = roomPk(roomId);
  const wanted = [ROOM_SK, memberSk(userId), banSk(userId), rateSk(userId, minuteOf(now))];
  const found = new Map<string, Record<string, unknown>>();
  let keys: Array<Record<string, unknown>> = wanted.map((sk) => ({ pk, sk }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 4) mapDynamoError(new Error("unprocessed keys"));
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    const out = await dynamo(() => db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keys, ConsistentRead: true } } })));
    for (const item of out.Responses?.[db.table] ?? []) found.set(String(item.sk), item);
    keys = out.UnprocessedKeys?.[db.table]?.Keys ?? [];
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
  db: Db, roomId: string, participant: ParticipantRecord, opts: { now: number; rateLimit: number | undefined },
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
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
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
function cancelledBanUntil(error: unknown): number | undefined {
  const item = (error as { CancellationReasons?: Array<{ Item?: Record<string, unknown> }> }).CancellationReasons?.[0]?.Item;
  const value = item?.untilMs;
  const untilMs = Number(typeof value === "object" && value !== null ? (value as { N?: unknown }).N : value);
  return value !== undefined && Number.isFinite(untilMs) ? untilMs : undefined;
}

/** A participant still counts while its token is unexpired or expired less than 24 h ago. */
export const participantCounts = (p: { tokenExpiresMs: number }, now: number) => p.tokenExpiresMs + PARTICIPANT_GRACE_MS > now;

export async function listUserParticipants(db: Db, roomId: string, userId: string, now: number): Promise<ParticipantRecord[]> {
  const items = (await queryPartition(db, roomPk(roomId), { prefix: participantPrefix(userId) })) as unknown as ParticipantRecord[];
  return items.filter((p) => participantCounts(p, now)).map(({ participantId, userId: u, role, capabilities, via, tokenExpiresAt, tokenExpiresMs, createdAt }) =>
    ({ participantId, userId: u, role, capabilities, via, tokenExpiresAt, tokenExpiresMs, createdAt }));
}

/** The user a participant id was issued to in this room, if stagepass issued it and it still counts. */
export async function findParticipantOwner(db: Db, roomId: string, participantId: string, now: number): Promise<string | undefined> {
  const out = await dynamo(() => db.doc.send(new GetCommand({ TableName: db.table, Key: { pk: roomPk(roomId), sk: pointerSk(participantId) }, ConsistentRead: true })));
  if (!out.Item || !participantCounts(out.Item as { tokenExpiresMs: number }, now)) return undefined;
  return String(out.Item.userId);
}
