// Table names in the run's shared DynamoDB Local (tests/support/dynamodb-local.ts): unique across the run's worker
// processes and files, so that no two stacks or store suites ever share a table.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";

/** The run's DynamoDB Local, when the project set one up (undefined: start one of your own). */
export function sharedDynamoDbLocal(): string | undefined {
  return inject("dynamoDbLocal");
}

/** A table name no other stack or suite of this run uses: `prefix` and a random suffix. */
export function uniqueTableName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}
