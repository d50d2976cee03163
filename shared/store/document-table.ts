// The Table port (db.ts) on the SDK's document client. The read stands alone so that a function that only reads
// (rooms, moderation: rooms/access.ts) bundles no write command, and IAM (derived from the bundle) grants it none.
import {
  BatchGetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { Db, Table, TableReads } from "./db.ts";

type TransactItems = NonNullable<TransactWriteCommandInput["TransactItems"]>;

export function documentReads(db: Db): TableReads {
  return {
    table: db.table,
    async batchGet(keys) {
      const out = await db.doc.send(
        new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keys, ConsistentRead: true } } }),
      );
      return { items: out.Responses?.[db.table] ?? [], unprocessed: out.UnprocessedKeys?.[db.table]?.Keys ?? [] };
    },
  };
}

export function documentTable(db: Db): Table {
  return {
    ...documentReads(db),
    async update(input) {
      await db.doc.send(new UpdateCommand({ TableName: db.table, ...input }));
    },
    async transactWrite(items) {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items as TransactItems }));
    },
  };
}
