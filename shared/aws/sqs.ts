import { SQSClient } from "@aws-sdk/client-sqs";

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 } });
}
