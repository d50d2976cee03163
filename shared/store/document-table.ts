// The token path's two calls on the SDK's document client (the functions other than the token function). The read
// stands alone so that a function that only reads (rooms, moderation: rooms/access.ts) bundles no
// TransactWriteItems, and IAM (derived from the bundle) grants it none.
import { BatchGetCommand, TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Db, TokenTable, TokenTableReads } from "./db.ts";

type TransactItems = NonNullable<TransactWriteCommandInput["TransactItems"]>;

export function documentReads(db: Db): TokenTableReads {
  return {
    table: db.table,
    async batchGet(keys) {
      const out = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keys, ConsistentRead: true } } }));
      return { items: out.Responses?.[db.table] ?? [], unprocessed: out.UnprocessedKeys?.[db.table]?.Keys ?? [] };
    },
  };
}

export function documentTable(db: Db): TokenTable {
  return {
    ...documentReads(db),
    async transactWrite(items) {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items as TransactItems }));
    },
  };
}
