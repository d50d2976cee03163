// The webhook outbox (docs/data-model.md): events the delivery queue did not take when they were made, kept until
// the webhook function's sweep queues them (shared/webhooks/sweep.ts). An item expires after 14 days, SQS's longest
// retention, so an outbox nobody sweeps does not grow for ever. The webhook function's role may touch this
// partition only (template.yaml, dynamodb:LeadingKeys).
import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { DAY_MS, epochSeconds, WEBHOOK_OUTBOX_PK, webhookOutboxSk } from "./keys.ts";

export const OUTBOX_RETENTION_MS = 14 * DAY_MS;

export interface OutboxEntry {
  id: string;
  type: string;
  timestamp: string;
  /** The exact webhook body. */
  body: string;
}

/** Writes the entries (one PutItem each), abandoning what is not written when `signal` aborts. */
export async function keepInOutbox(db: Db, entries: OutboxEntry[], now: number, signal?: AbortSignal): Promise<void> {
  await Promise.all(
    entries.map((e) =>
      dynamo(() =>
        db.doc.send(
          new PutCommand({
            TableName: db.table,
            Item: {
              pk: WEBHOOK_OUTBOX_PK,
              sk: webhookOutboxSk(e.timestamp, e.id),
              id: e.id,
              type: e.type,
              timestamp: e.timestamp,
              body: e.body,
              keptAt: new Date(now).toISOString(),
              expiresAt: epochSeconds(now + OUTBOX_RETENTION_MS),
            },
          }),
          signal ? { abortSignal: signal } : {},
        ),
      ),
    ),
  );
}

/** The oldest entries, at most `limit`. */
export async function listOutbox(db: Db, limit: number): Promise<OutboxEntry[]> {
  const out = await dynamo(() =>
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": WEBHOOK_OUTBOX_PK },
        ConsistentRead: true,
        Limit: limit,
      }),
    ),
  );
  return (out.Items ?? []).map((i) => ({
    id: String(i.id),
    type: String(i.type),
    timestamp: String(i.timestamp),
    body: String(i.body),
  }));
}

export async function removeFromOutbox(db: Db, entry: OutboxEntry): Promise<void> {
  await dynamo(() =>
    db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: { pk: WEBHOOK_OUTBOX_PK, sk: webhookOutboxSk(entry.timestamp, entry.id) },
      }),
    ),
  );
}
