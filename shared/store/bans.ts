// Bans: each holds until its `untilMs`, whatever DynamoDB's TTL has or has not deleted yet.
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { cancellationReasons, dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { queryPartition } from "./query.ts";
import { BAN_PREFIX, banSk, epochSeconds, roomPk } from "./keys.ts";
import { toBan, type Ban } from "./items.ts";

export type { Ban } from "./items.ts";

export async function putBan(db: Db, roomId: string, ban: Ban): Promise<void> {
  await dynamo(() =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { pk: roomPk(roomId), sk: banSk(ban.userId), ...ban, expiresAt: epochSeconds(ban.untilMs) + 60 },
      }),
    ),
  );
}

export async function listActiveBans(db: Db, roomId: string, now: number): Promise<Ban[]> {
  return (await queryPartition(db, roomPk(roomId), { prefix: BAN_PREFIX })).map(toBan).filter((b) => b.untilMs > now);
}

/** Deletes an active ban; returns false when there was no active ban. */
export async function deleteActiveBan(db: Db, roomId: string, userId: string, now: number): Promise<boolean> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: { pk: roomPk(roomId), sk: banSk(userId) },
        ConditionExpression: "attribute_exists(pk) AND untilMs > :now",
        ExpressionAttributeValues: { ":now": now },
      }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "ConditionalCheckFailedException" || cancellationReasons(error))
      return false;
    return dynamo(() => Promise.reject(error));
  }
}
