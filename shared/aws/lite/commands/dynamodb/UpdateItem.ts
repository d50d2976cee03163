import type { LiteClient } from "../../client.ts";

/** DynamoDB UpdateItem, wire format in and out. */
export const updateItem = (client: LiteClient, input: unknown) =>
  client.json("DynamoDB_20120810.UpdateItem", "application/x-amz-json-1.0", input);
