import type { LiteClient } from "../../client.ts";

/** DynamoDB BatchGetItem, wire format in and out. */
export const batchGetItem = (client: LiteClient, input: unknown) =>
  client.json("DynamoDB_20120810.BatchGetItem", "application/x-amz-json-1.0", input);
