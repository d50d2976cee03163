// The webhook sink of a function that produces events: the delivery queue, with the table's outbox behind it.
import { sendToQueue, WEBHOOK_ENQUEUE_BUDGET_MS, createWebhookSqsClient } from "../aws/sqs.ts";
import { logger } from "../logger.ts";
import { count } from "../metrics.ts";
import type { Db } from "../store/db.ts";
import { keepInOutbox } from "../store/webhook-outbox.ts";
import type { WebhookSink } from "./events.ts";
import { createWebhookSink } from "./sink.ts";

/**
 * The longest a request spends writing events to the outbox, when the queue refused them. With the queue's budget,
 * at most 1 s in all: less than the 1.5 s a request keeps back from its function's timeout (DEADLINE_MARGIN_MS), so
 * a request that finished its own work in time still answers, whatever SQS and DynamoDB do.
 */
export const OUTBOX_BUDGET_MS = 300;

/** The sink, or undefined when webhooks are off (no queue configured). */
export function webhookSinkFor(queueUrl: string | undefined, db: Db): WebhookSink | undefined {
  if (!queueUrl) return undefined;
  const sqs = createWebhookSqsClient();
  return createWebhookSink({
    enqueue: (events) => sendToQueue(sqs, queueUrl, events, WEBHOOK_ENQUEUE_BUDGET_MS),
    keep: (events) => keepInOutbox(db, events, Date.now(), AbortSignal.timeout(OUTBOX_BUDGET_MS)),
    count,
    log: logger,
  });
}
