import type { LiteClient } from "../../client.ts";

/** DynamoDB TransactWriteItems, wire format in and out. */
export const transactWriteItems = (client: LiteClient, input: unknown) =>
  client.json("DynamoDB_20120810.TransactWriteItems", "application/x-amz-json-1.0", input);
