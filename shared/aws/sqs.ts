import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 } });
}

/**
 * The webhook queue's client, for the functions that produce events: one retry at most and short timeouts, so that
 * a struggling SQS costs a request under a second (WEBHOOK_ENQUEUE_BUDGET_MS bounds the whole call, retry included).
 */
export function createWebhookSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 300, requestTimeout: 600 } });
}

/** The longest a request spends queueing its webhook events, retry included (in-region, SendMessage takes ~10 ms). */
export const WEBHOOK_ENQUEUE_BUDGET_MS = 700;

/**
 * SendMessageBatch, ten at a time, all within `budgetMs`: answers the ids SQS did not take (a batch that failed as a
 * whole, or its Failed entries). Entry ids are the events' ids.
 */
export async function sendToQueue(
  sqs: SQSClient,
  queueUrl: string,
  messages: Array<{ id: string; body: string }>,
  budgetMs: number,
): Promise<string[]> {
  const signal = AbortSignal.timeout(budgetMs);
  const refused: string[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    try {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m) => ({ Id: m.id, MessageBody: m.body })),
        }),
        { abortSignal: signal },
      );
      refused.push(...(out.Failed ?? []).map((f) => String(f.Id)));
    } catch {
      refused.push(...batch.map((m) => m.id));
    }
  }
  return refused;
}

/** When SQS hands a received message back: `seconds` from now (0..43200). */
export async function setVisibility(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}
