// Reading a whole slice of one partition: every page, strongly consistent.
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";

/** Every item under `pk` whose sort key begins with `prefix` (the whole partition without one). */
export async function queryPartition(
  db: Db,
  pk: string,
  opts: { prefix?: string; projection?: string } = {},
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo(() =>
      db.doc.send(
        new QueryCommand({
          TableName: db.table,
          KeyConditionExpression: opts.prefix !== undefined ? "pk = :pk AND begins_with(sk, :p)" : "pk = :pk",
          ExpressionAttributeValues: { ":pk": pk, ...(opts.prefix !== undefined ? { ":p": opts.prefix } : {}) },
          ...(opts.projection ? { ProjectionExpression: opts.projection } : {}),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
