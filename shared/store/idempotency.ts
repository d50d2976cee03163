// Idempotency records for POST /rooms: one per caller and key, kept 24 hours. A record is written only in the same
// transaction as the room it names, so a request that fails leaves no record behind and its retry simply runs
// again; of two requests racing with one key, the second to write finds the first's record and answers with it.
import { createHash } from "node:crypto";
import { DeleteCommand, GetCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { DAY_MS, epochSeconds, idempotencyPk } from "./keys.ts";

export interface IdempotencyRecord {
  requestHash: string;
  roomId: string;
  createdAtMs: number;
}

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** How long a key stays bound to its request. */
export const IDEMPOTENCY_WINDOW_MS = DAY_MS;
const SK = "IDEM";

/** SHA-256 of the request's canonical JSON (object keys sorted), so key order and whitespace do not matter. */
export function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex");
}

/** The caller's unexpired record for this key, if any (DynamoDB's TTL is not trusted to have run). */
export async function findIdempotencyRecord(
  db: Db,
  userId: string,
  key: string,
  now: number,
): Promise<IdempotencyRecord | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new GetCommand({ TableName: db.table, Key: { pk: idempotencyPk(userId, key), sk: SK }, ConsistentRead: true }),
    ),
  );
  const item = out.Item;
  if (!item || Number(item.createdAtMs) <= now - IDEMPOTENCY_WINDOW_MS) return undefined;
  return { requestHash: String(item.requestHash), roomId: String(item.roomId), createdAtMs: Number(item.createdAtMs) };
}

/** The transaction item that writes the record along with its room; its condition fails if an unexpired one exists. */
export function idempotencyRecordPut(db: Db, userId: string, key: string, record: IdempotencyRecord): TransactItem {
  return {
    Put: {
      TableName: db.table,
      Item: {
        pk: idempotencyPk(userId, key),
        sk: SK,
        ...record,
        expiresAt: epochSeconds(record.createdAtMs + IDEMPOTENCY_WINDOW_MS),
      },
      ConditionExpression: "attribute_not_exists(pk) OR createdAtMs <= :expired",
      ExpressionAttributeValues: { ":expired": record.createdAtMs - IDEMPOTENCY_WINDOW_MS },
    },
  };
}

/** Removes the record if it still names this room (cleanup after a room write whose outcome is unknown). */
export async function deleteIdempotencyRecord(db: Db, userId: string, key: string, roomId: string): Promise<void> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: { pk: idempotencyPk(userId, key), sk: SK },
        ConditionExpression: "roomId = :r",
        ExpressionAttributeValues: { ":r": roomId },
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== "ConditionalCheckFailedException")
      await dynamo(() => Promise.reject(error));
  }
}
