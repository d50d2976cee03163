// The Table port (store/db.ts) on the lite client: the document form converted to DynamoDB's wire format (and
// back) as the SDK's document client does (attribute-values.ts).
import type { DocItem, DocTransactItem, Table } from "../../store/db.ts";
import { fromItem, toItem, type AttributeValue } from "./attribute-values.ts";
import type { LiteClient } from "./client.ts";
import { batchGetItem } from "./commands/dynamodb/BatchGetItem.ts";
import { transactWriteItems } from "./commands/dynamodb/TransactWriteItems.ts";
import { updateItem } from "./commands/dynamodb/UpdateItem.ts";

type Wire = Record<string, unknown>;
type WireItem = Record<string, AttributeValue>;

const toWire = (value: DocItem): Wire => toItem(value);
/** The members of a transaction item that hold values (the rest are names and expressions). */
const VALUE_MEMBERS = ["Key", "Item", "ExpressionAttributeValues"];

function transactItemToWire(item: DocTransactItem): Record<string, DocItem> {
  const out: Record<string, DocItem> = {};
  for (const [kind, body] of Object.entries(item)) {
    if (body === undefined) continue;
    const wire: DocItem = { ...body };
    for (const member of VALUE_MEMBERS) if (body[member] !== undefined) wire[member] = toWire(body[member] as DocItem);
    out[kind] = wire;
  }
  return out;
}

export function liteTable(client: LiteClient, table: string): Table {
  return {
    table,
    async batchGet(keys) {
      const out = (await batchGetItem(client, {
        RequestItems: { [table]: { Keys: keys.map(toWire), ConsistentRead: true } },
      })) as { Responses?: Record<string, WireItem[]>; UnprocessedKeys?: Record<string, { Keys?: WireItem[] }> };
      return {
        items: (out.Responses?.[table] ?? []).map(fromItem),
        unprocessed: (out.UnprocessedKeys?.[table]?.Keys ?? []).map(fromItem),
      };
    },
    async update(input) {
      const { Key, ExpressionAttributeValues, ...rest } = input;
      await updateItem(client, {
        TableName: table,
        Key: toWire(Key),
        ...rest,
        ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toWire(ExpressionAttributeValues) } : {}),
      });
    },
    async transactWrite(items) {
      await transactWriteItems(client, { TransactItems: items.map(transactItemToWire) });
    },
  };
}
