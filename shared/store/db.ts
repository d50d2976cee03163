import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** What every store function needs: the document client and the table's name. */
export interface Db {
  doc: DynamoDBDocumentClient;
  table: string;
}
