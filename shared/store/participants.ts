// The participant records that kicks and role changes use (the token path writes them: token-records.ts).
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { queryPartition } from "./query.ts";
import { PARTICIPANT_GRACE_MS, participantPrefix, pointerSk, roomPk } from "./keys.ts";
import type { ParticipantRecord } from "./token-records.ts";

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
