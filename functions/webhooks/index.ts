// The webhook function: delivers the queued webhook events (its SQS event source; shared/webhooks/deliver.ts), and
// every few minutes (its schedule) moves the events the queue refused from the table's outbox into the queue
// (shared/webhooks/sweep.ts). Clients, configuration and the signing keys are kept per container.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createSqsClient, sendToQueue, setVisibility } from "#shared/aws/sqs.ts";
import { loadWebhookConfig } from "#shared/config.ts";
import { logger } from "#shared/logger.ts";
import { countWebhookDelivery, withMetrics, useMetricsPublisher } from "#shared/metrics.ts";
import { powertoolsPublisher } from "#shared/metrics-powertools.ts";
import { listOutbox, removeFromOutbox } from "#shared/store/webhook-outbox.ts";
import { deliverBatch, type DeliveryPorts } from "#shared/webhooks/deliver.ts";
import { webhookKeys } from "#shared/webhooks/sign.ts";
import { sweepOutbox } from "#shared/webhooks/sweep.ts";

useMetricsPublisher(powertoolsPublisher());
const config = loadWebhookConfig();
const sqs = createSqsClient();
const secrets = new SecretsManagerClient({
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500 },
});
const db = { doc: createDocumentClient(), table: config.tableName };

/** How often a warm container re-reads the secret: a rotation reaches every delivery within this. */
const SECRET_REFRESH_MS = 5 * 60_000;
/** The sweep's own budget for queueing (the function's timeout is longer). */
const SWEEP_ENQUEUE_BUDGET_MS = 5_000;

let keys: { value: string[]; readAt: number } | undefined;
async function signingKeys(): Promise<string[]> {
  if (keys && Date.now() - keys.readAt < SECRET_REFRESH_MS) return keys.value;
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: config.secretId }));
    keys = { value: webhookKeys(out.SecretString ?? ""), readAt: Date.now() };
  } catch (error) {
    // Keys read before still sign (a rotation waits); with none, this attempt fails and is retried.
    if (!keys) throw error;
    logger.warn("could not re-read the webhook secret; signing with the keys read before", {
      error: (error as Error).message,
    });
  }
  return keys.value;
}

const ports: DeliveryPorts = {
  url: config.url,
  keys: signingKeys,
  async post(url, body, headers, timeoutMs) {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not needed: only its status.
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, retryAfter: response.headers.get("retry-after") };
  },
  retryIn: (receiptHandle, seconds) => setVisibility(sqs, config.queueUrl, receiptHandle, seconds),
  now: Date.now,
  random: Math.random,
  log: logger,
  observe: (outcome) => {
    if (outcome.kind !== "dropped") countWebhookDelivery(outcome.kind);
  },
};

type ScheduledEvent = { source?: string; "detail-type"?: string };

export const handler = (
  event: SQSEvent | ScheduledEvent,
  context: Context,
): Promise<SQSBatchResponse | { queued: number; left: number }> => withMetrics(context, () => deliverOrSweep(event));

async function deliverOrSweep(
  event: SQSEvent | ScheduledEvent,
): Promise<SQSBatchResponse | { queued: number; left: number }> {
  if ("Records" in event && Array.isArray(event.Records)) {
    const failed = await deliverBatch(
      ports,
      event.Records.map((r) => ({
        messageId: r.messageId,
        receiptHandle: r.receiptHandle,
        body: r.body,
        receiveCount: Number(r.attributes?.ApproximateReceiveCount ?? 1),
      })),
    );
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  }
  // The schedule: nothing to sweep while webhooks are off (no event is produced then).
  if (!config.url) return { queued: 0, left: 0 };
  return sweepOutbox({
    list: (limit) => listOutbox(db, limit),
    enqueue: (events) => sendToQueue(sqs, config.queueUrl, events, SWEEP_ENQUEUE_BUDGET_MS),
    remove: (entry) => removeFromOutbox(db, entry),
    log: logger,
  });
}
