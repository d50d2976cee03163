// Idempotency records for POST /rooms: one per caller and key, for 24 hours.
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { DAY_MS, epochSeconds, idempotencyPk } from "./keys.ts";

export type IdempotencyRecord =
  | { state: "pending"; requestHash: string; createdAtMs: number }
  | { state: "complete"; requestHash: string; createdAtMs: number; roomId: string };

const SK = "IDEM";

/** Claims the key; returns undefined when claimed now, or the existing (unexpired) record. */
export async function claimIdempotencyKey(db: Db, userId: string, key: string, requestHash: string, now: number): Promise<IdempotencyRecord | undefined> {
  try {
    await db.doc.send(new PutCommand({
      TableName: db.table,
      Item: { pk: idempotencyPk(userId, key), sk: SK, state: "pending", requestHash, createdAtMs: now, expiresAt: epochSeconds(now + DAY_MS) },
      ConditionExpression: "attribute_not_exists(pk) OR createdAtMs < :expired",
      ExpressionAttributeValues: { ":expired": now - DAY_MS },
    }));
    return undefined;
  } catch (error) {
    if ((error as { name?: string }).name !== "ConditionalCheckFailedException") return dynamo(() => Promise.reject(error));
  }
  const out = await dynamo(() => db.doc.send(new GetCommand({ TableName: db.table, Key: { pk: idempotencyPk(userId, key), sk: SK }, ConsistentRead: true })));
  return out.Item as IdempotencyRecord | undefined;
}

export async function completeIdempotencyKey(db: Db, userId: string, key: string, roomId: string): Promise<void> {
  await dynamo(() => db.doc.send(new UpdateCommand({
    TableName: db.table,
    Key: { pk: idempotencyPk(userId, key), sk: SK },
    UpdateExpression: "SET #s = :c, roomId = :r",
    ExpressionAttributeNames: { "#s": "state" },
    ExpressionAttributeValues: { ":c": "complete", ":r": roomId },
  })));
}

/** Releases a claim whose request failed, so that a retry can run it again. */
export async function releaseIdempotencyKey(db: Db, userId: string, key: string): Promise<void> {
  await dynamo(() => db.doc.send(new DeleteCommand({
    TableName: db.table,
    Key: { pk: idempotencyPk(userId, key), sk: SK },
    ConditionExpression: "#s = :p",
    ExpressionAttributeNames: { "#s": "state" },
    ExpressionAttributeValues: { ":p": "pending" },
  }))).catch(() => undefined);
}
