// The DynamoDB document client, one per container (the mapping of its failures to 429/503: dynamo-errors.ts).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export function createDocumentClient(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    maxAttempts: 3,
    // Abandon a call that does not answer well before API Gateway's 30 s and the function's own timeout.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export { cancellationReasons, dynamo, mapDynamoError } from "./dynamo-errors.ts";
