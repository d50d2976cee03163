/**
 * The offline stack's queue stand-in (local/queue.ts) as the webhook function uses it, through the real SQS client:
 * a consumer that fails a record and sets its visibility (ChangeMessageVisibility) gets it back when it said, scaled
 * by delayScale; the receive count is the attempt; maxReceiveCount dead-letters; the history tells each message's
 * state; refused sends fail as an SQS outage would.
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQueueServer, type QueueServer } from "../../local/queue.ts";
import type { FunctionRuntime } from "../../local/runtime.ts";

let server: QueueServer;
let sqs: SQSClient;
beforeAll(async () => {
  server = await startQueueServer({ region: "us-east-1", accountId: "123456789012", delayScale: 0.001 });
  sqs = new SQSClient({
    endpoint: server.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  sqs.destroy();
  await server.close();
});

/** A consumer that fails every record `failures` times, asking for `seconds` of visibility each time. */
function consumer(queueUrl: string, failures: number, seconds: number) {
  const seen: Array<{ body: string; receiveCount: number; receiptHandle: string; changedBy?: number }> = [];
  const runtime: FunctionRuntime = {
    name: "Consumer",
    async invoke(event) {
      const failed: string[] = [];
      for (const r of (event as SQSEvent).Records) {
        const receiveCount = Number(r.attributes.ApproximateReceiveCount);
        const entry: (typeof seen)[number] = { body: r.body, receiveCount, receiptHandle: r.receiptHandle };
        seen.push(entry);
        if (receiveCount <= failures) {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: r.receiptHandle,
              VisibilityTimeout: seconds,
            }),
          );
          entry.changedBy = Date.now();
          failed.push(r.messageId);
        }
      }
      return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
    },
    close: async () => undefined,
  };
  return { runtime, seen };
}

describe("the local queue", () => {
  it("hands a failed record back when the consumer's ChangeMessageVisibility said (scaled), counting receives", async () => {
    const queue = server.createQueue("Retried", { maxReceiveCount: 5 });
    const c = consumer(queue.url, 2, 300);
    server.attach("Retried", c.runtime, 10);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "hello" }));
    // After the first failure: waiting, visible 300 s × 0.001 after the ChangeMessageVisibility call.
    const first = () => queue.history()[0]!;
    while (!(first().state === "waiting" && first().receiveCount === 1)) await new Promise((r) => setTimeout(r, 5));
    const waiting = first();
    expect(waiting.visibleAt! - waiting.lastReceivedAt!).toBeGreaterThanOrEqual(300);
    expect(waiting.visibleAt!).toBeLessThanOrEqual(c.seen[0]!.changedBy! + 300);
    await queue.drained(10_000);
    expect(c.seen.map((s) => s.receiveCount)).toEqual([1, 2, 3]);
    expect(queue.history()[0]).toMatchObject({ state: "delivered", receiveCount: 3 });
  });

  it("dead-letters after maxReceiveCount receives", async () => {
    const queue = server.createQueue("Doomed", { maxReceiveCount: 3 });
    const c = consumer(queue.url, 99, 0);
    server.attach("Doomed", c.runtime, 10);
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "never" }));
    await queue.drained(10_000);
    expect(c.seen.map((s) => s.receiveCount)).toEqual([1, 2, 3]);
    expect(queue.deadLetters().map((m) => m.body)).toEqual(["never"]);
    expect(queue.history()[0]).toMatchObject({ state: "dead-lettered", receiveCount: 3 });
  });

  it("refuses what SQS refuses: a visibility out of 0..43200, a receipt handle of a message not in flight", async () => {
    const queue = server.createQueue("Strict", { maxReceiveCount: 3 });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: "x#1", VisibilityTimeout: 43_201 }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: "x#1", VisibilityTimeout: 10 }),
      ),
    ).rejects.toMatchObject({ name: "MessageNotInflight" });
  });

  it("refuseSends: the next sends fail with a 500, then sending works again", async () => {
    const queue = server.createQueue("Outage", { maxReceiveCount: 3 });
    queue.refuseSends(2);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "a" }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
    });
    await expect(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: [{ Id: "1", MessageBody: "b" }] })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "c" }));
    expect(queue.history().map((m) => m.body)).toEqual(["c"]);
  });
});
