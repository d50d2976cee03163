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

/** One UpdateItem in document form (its table is the port's). */
export interface DocUpdate {
  Key: DocItem;
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: DocItem;
  /** ALL_OLD: a failed condition's error carries the item (`Item`, in DynamoDB's wire format). */
  ReturnValuesOnConditionCheckFailure?: "ALL_OLD";
}

/**
 * One table, through the few calls that code shared with the token function makes (store/room-access.ts,
 * store/token-records.ts). Implemented on the SDK's document client (store/document-table.ts) for the functions
 * that bundle the SDK, and on the lite client for the token function (aws/lite/dynamo-table.ts). Failures are
 * thrown as the SDK throws them (name, $metadata, CancellationReasons).
 */
export interface Table extends TableReads {
  update(input: DocUpdate): Promise<void>;
  transactWrite(items: DocTransactItem[]): Promise<void>;
}

/** The read alone (role resolution in the other functions needs no write). */
export interface TableReads {
  table: string;
  /** A strongly consistent BatchGetItem of `keys`: the items found, and the keys DynamoDB left unprocessed. */
  batchGet(keys: DocItem[]): Promise<{ items: DocItem[]; unprocessed: DocItem[] }>;
}
