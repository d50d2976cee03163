// The participant records that kicks and role changes use (the token path writes them: token-records.ts), and the
// marks of the participants a moderator disconnected (token exchange reads them: token-exchange.ts).
import { BatchWriteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo, mapDynamoError } from "../aws/dynamo.ts";
import { MAX_TOKEN_MINUTES } from "../rooms/policy.ts";
import type { Db } from "./db.ts";
import { queryPartition } from "./query.ts";
import { disconnectedSk, epochSeconds, PARTICIPANT_GRACE_MS, participantPrefix, pointerSk, roomPk } from "./keys.ts";
import type { ParticipantRecord } from "./token-records.ts";

/** A participant still counts while its token is unexpired or expired less than 24 h ago. */
export const participantCounts = (p: { tokenExpiresMs: number }, now: number) =>
  p.tokenExpiresMs + PARTICIPANT_GRACE_MS > now;

export async function listUserParticipants(
  db: Db,
  roomId: string,
  userId: string,
  now: number,
): Promise<ParticipantRecord[]> {
  const items = (await queryPartition(db, roomPk(roomId), {
    prefix: participantPrefix(userId),
  })) as unknown as ParticipantRecord[];
  return items
    .filter((p) => participantCounts(p, now))
    .map(({ participantId, userId: u, role, capabilities, via, tokenExpiresAt, tokenExpiresMs, createdAt }) => ({
      participantId,
      userId: u,
      role,
      capabilities,
      via,
      tokenExpiresAt,
      tokenExpiresMs,
      createdAt,
    }));
}

/** The user a participant id was issued to in this room, if stagepass issued it and it still counts. */
export async function findParticipantOwner(
  db: Db,
  roomId: string,
  participantId: string,
  now: number,
): Promise<string | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new GetCommand({
        TableName: db.table,
        Key: { pk: roomPk(roomId), sk: pointerSk(participantId) },
        ConsistentRead: true,
      }),
    ),
  );
  if (!out.Item || !participantCounts(out.Item as { tokenExpiresMs: number }, now)) return undefined;
  return String(out.Item.userId);
}

/**
 * Marks participants as disconnected by a moderator (kick, ban, role change), before IVS is asked to disconnect
 * them: their tokens can no longer be exchanged (an exchange's transaction checks the mark, so one recorded before
 * the mark is disconnected with the participant id, and none after it). A mark lasts as long as any token issued
 * until now can: the longest token's life and IVS's 24 h after it.
 */
export async function markDisconnected(db: Db, roomId: string, participantIds: string[], now: number): Promise<void> {
  const expiresAt = epochSeconds(now + MAX_TOKEN_MINUTES * 60_000 + PARTICIPANT_GRACE_MS);
  const at = new Date(now).toISOString();
  const unique = [...new Set(participantIds)];
  for (let i = 0; i < unique.length; i += 25) {
    let pending = unique
      .slice(i, i + 25)
      .map((participantId) => ({
        PutRequest: { Item: { pk: roomPk(roomId), sk: disconnectedSk(participantId), participantId, at, expiresAt } },
      }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 5) mapDynamoError(new Error("unprocessed writes"));
      const out = await dynamo(() => db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } })));
      pending = (out.UnprocessedItems?.[db.table] ?? []) as typeof pending;
      if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}
