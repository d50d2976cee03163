import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** What every store function needs: the document client and the table's name. */
export interface Db {
  doc: DynamoDBDocumentClient;
  table: string;
}

/** Keys, items and values as plain JavaScript values (the document client's form, not DynamoDB's wire format). */
export type DocItem = Record<string, unknown>;

/** One TransactWriteItems item in document form: `{ Put: {...} }`, `{ Update: {...} }`, `{ ConditionCheck: {...} }`... */
export type DocTransactItem = Record<string, DocItem | undefined>;

/**
 * The two calls of the token path (store/token-path.ts), on one table. Implemented on the SDK's document client
 * (store/document-table.ts) for the functions that bundle the SDK, and on the lite client for the token function
 * (aws/lite/dynamo-table.ts). Failures are thrown as the SDK throws them (name, $metadata, CancellationReasons).
 */
export interface TokenTable extends TokenTableReads {
  transactWrite(items: DocTransactItem[]): Promise<void>;
}

/** The token path's read alone (role resolution in the other functions needs no write). */
export interface TokenTableReads {
  table: string;
  /** A strongly consistent BatchGetItem of `keys`: the items found, and the keys DynamoDB left unprocessed. */
  batchGet(keys: DocItem[]): Promise<{ items: DocItem[]; unprocessed: DocItem[] }>;
}
