// The DynamoDB document client, one per container (the mapping of its failures to 429/503: dynamo-errors.ts).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { recordDynamoDbLatency } from "../metrics.ts";

export function createDocumentClient(): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    maxAttempts: 3,
    // Abandon a call that does not answer well before API Gateway's 30 s and the function's own timeout.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 },
  });
  // Each call's time (the DynamoDbLatency metric), its retries included: the initialize step runs before them.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        recordDynamoDbLatency(
          String(context.commandName ?? "unknown").replace(/Command$/, ""),
          performance.now() - started,
        );
      }
    },
    { step: "initialize", name: "stagepassDynamoDbLatency" },
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export { cancellationReasons, dynamo, mapDynamoError } from "./dynamo-errors.ts";
