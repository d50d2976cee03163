// An in-process stand-in for the SQS queues template.yaml declares: the real SQS client sends to it over the SQS
// JSON protocol, and it delivers to the consuming function at least once, in batches, retrying failed records
// (ReportBatchItemFailures) with backoff and moving them to a dead-letter list after maxReceiveCount receives.
// A consumer may set when a record it failed comes back (ChangeMessageVisibility, as the webhook function does):
// that wait is honoured, scaled by `delayScale` (1: as SQS; 0.001: five minutes in 0.3 s) so that a schedule of
// hours can be watched offline. Without it, a failed record comes back after a short backoff.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { FunctionRuntime } from "./runtime.ts";

interface Message {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  state: MessageState;
  lastReceivedAt?: number;
  /** Set by ChangeMessageVisibility while in flight: when the message comes back if the consumer fails it. */
  visibleAtIfFailed?: number;
}

export type MessageState = "waiting" | "in-flight" | "delivered" | "dead-lettered";

/** A message as the queue has it now (GET /dev/webhooks lists the webhook queue's). */
export interface MessageView {
  messageId: string;
  body: string;
  sentAt: number;
  state: MessageState;
  receiveCount: number;
  lastReceivedAt?: number;
  /** When a waiting message is next handed to the consumer. */
  visibleAt?: number;
}

export interface LocalQueue {
  name: string;
  url: string;
  arn: string;
  send(body: string): string;
  stats(): { waiting: number; inFlight: number; delivered: number; deadLetters: number };
  deadLetters(): Array<{ messageId: string; body: string }>;
  /** The most recent messages (up to 500), newest first, whatever became of them. */
  history(): MessageView[];
  /** The next `count` sends (SendMessage or SendMessageBatch calls) fail with a 500, as an SQS outage would. */
  refuseSends(count: number): void;
  /** Resolves once nothing is waiting or in flight (or rejects after timeoutMs). */
  drained(timeoutMs?: number): Promise<void>;
}

export interface QueueServer {
  endpoint: string;
  queues: Map<string, LocalQueue>;
  createQueue(name: string, opts: { maxReceiveCount: number }): LocalQueue;
  attach(queueName: string, consumer: FunctionRuntime, batchSize: number): void;
  close(): Promise<void>;
}

const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 3_000;
const HISTORY = 500;
/** SQS's longest visibility timeout. */
const MAX_VISIBILITY_S = 43_200;

export async function startQueueServer(opts: {
  region: string;
  accountId: string;
  delayScale?: number;
}): Promise<QueueServer> {
  const delayScale = opts.delayScale ?? 1;
  const queues = new Map<
    string,
    LocalQueue & {
      messages: Message[];
      maxReceiveCount: number;
      dead: Message[];
      inFlight: number;
      delivered: number;
      flight: Message[];
      recent: Message[];
      refusals: number;
      kick(): void;
      consumer?: { runtime: FunctionRuntime; batchSize: number };
    }
  >();
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const reply = (status: number, body: unknown, type?: string) => {
        res.writeHead(status, {
          "content-type": "application/x-amz-json-1.0",
          ...(type ? { "x-amzn-query-error": `${type};Sender` } : {}),
        });
        res.end(JSON.stringify(body));
      };
      let input: {
        QueueUrl?: string;
        MessageBody?: string;
        Entries?: Array<{ Id: string; MessageBody: string }>;
        ReceiptHandle?: string;
        VisibilityTimeout?: number;
      };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return reply(400, { __type: "com.amazonaws.sqs#InvalidRequest", message: "bad JSON" });
      }
      const queueName =
        String(input.QueueUrl ?? "")
          .split("/")
          .pop() ?? "";
      const queue = queues.get(queueName);
      if (!queue)
        return reply(
          400,
          { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
          "AWS.SimpleQueueService.NonExistentQueue",
        );
      const md5 = (s: string) => createHash("md5").update(s).digest("hex");
      if ((target.endsWith(".SendMessage") || target.endsWith(".SendMessageBatch")) && queue.refusals > 0) {
        queue.refusals -= 1;
        return reply(500, {
          __type: "com.amazonaws.sqs#InternalError",
          message: "We encountered an internal error. Please try again.",
        });
      }
      if (target.endsWith(".ChangeMessageVisibility")) {
        const seconds = input.VisibilityTimeout;
        if (!Number.isInteger(seconds) || seconds! < 0 || seconds! > MAX_VISIBILITY_S) {
          return reply(
            400,
            {
              __type: "com.amazonaws.sqs#InvalidParameterValue",
              message: `VisibilityTimeout must be 0..${MAX_VISIBILITY_S}`,
            },
            "InvalidParameterValue",
          );
        }
        const message = queue.flight.find((m) => `${m.messageId}#${m.receiveCount}` === input.ReceiptHandle);
        if (!message)
          return reply(
            400,
            { __type: "com.amazonaws.sqs#MessageNotInflight", message: "The message referred to isn't in flight." },
            "AWS.SimpleQueueService.MessageNotInflight",
          );
        message.visibleAtIfFailed = Date.now() + seconds! * 1000 * delayScale;
        return reply(200, {});
      }
      if (target.endsWith(".SendMessage")) {
        const body = String(input.MessageBody ?? "");
        if (!body)
          return reply(400, { __type: "com.amazonaws.sqs#MissingParameter", message: "MessageBody is required" });
        return reply(200, { MessageId: queue.send(body), MD5OfMessageBody: md5(body) });
      }
      if (target.endsWith(".SendMessageBatch")) {
        const entries = input.Entries ?? [];
        if (entries.length < 1 || entries.length > 10)
          return reply(400, { __type: "com.amazonaws.sqs#TooManyEntriesInBatchRequest", message: "1..10 entries" });
        return reply(200, {
          Successful: entries.map((e) => ({
            Id: e.Id,
            MessageId: queue.send(e.MessageBody),
            MD5OfMessageBody: md5(e.MessageBody),
          })),
          Failed: [],
        });
      }
      return reply(400, {
        __type: "com.amazonaws.sqs#UnsupportedOperation",
        message: `${target} is not supported by the local queue`,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const schedule = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    t.unref();
    timers.add(t);
  };

  const createQueue: QueueServer["createQueue"] = (name, { maxReceiveCount }) => {
    const queue = {
      name,
      url: `${endpoint}/${opts.accountId}/${name}`,
      arn: `arn:aws:sqs:${opts.region}:${opts.accountId}:${name}`,
      messages: [] as Message[],
      dead: [] as Message[],
      flight: [] as Message[],
      recent: [] as Message[],
      refusals: 0,
      maxReceiveCount,
      inFlight: 0,
      delivered: 0,
      consumer: undefined as { runtime: FunctionRuntime; batchSize: number } | undefined,
      send(body: string) {
        const message: Message = {
          messageId: randomUUID(),
          body,
          sentAt: Date.now(),
          receiveCount: 0,
          visibleAt: 0,
          state: "waiting",
        };
        queue.messages.push(message);
        queue.recent.push(message);
        if (queue.recent.length > HISTORY) queue.recent.shift();
        schedule(() => queue.kick(), 0);
        return message.messageId;
      },
      stats: () => ({
        waiting: queue.messages.length,
        inFlight: queue.inFlight,
        delivered: queue.delivered,
        deadLetters: queue.dead.length,
      }),
      deadLetters: () => queue.dead.map(({ messageId, body }) => ({ messageId, body })),
      history: () =>
        queue.recent
          .slice()
          .reverse()
          .map((m) => ({
            messageId: m.messageId,
            body: m.body,
            sentAt: m.sentAt,
            state: m.state,
            receiveCount: m.receiveCount,
            ...(m.lastReceivedAt !== undefined ? { lastReceivedAt: m.lastReceivedAt } : {}),
            ...(m.state === "waiting" ? { visibleAt: Math.max(m.visibleAt, m.sentAt) } : {}),
          })),
      refuseSends(count: number) {
        queue.refusals = count;
      },
      async drained(timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        while (queue.messages.length > 0 || queue.inFlight > 0) {
          if (Date.now() > until) throw new Error(`queue ${name} not drained within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      // One poller per queue, as Lambda's SQS event source scales down to one for a reserved concurrency of 1.
      kick() {
        if (closed || !queue.consumer || queue.inFlight > 0) return;
        const now = Date.now();
        const visible = queue.messages.filter((m) => m.visibleAt <= now).slice(0, queue.consumer.batchSize);
        if (visible.length === 0) {
          const next = Math.min(...queue.messages.map((m) => m.visibleAt));
          if (Number.isFinite(next)) schedule(() => queue.kick(), Math.max(10, next - now));
          return;
        }
        queue.messages = queue.messages.filter((m) => !visible.includes(m));
        queue.inFlight = visible.length;
        queue.flight = visible;
        for (const m of visible) {
          m.receiveCount += 1;
          m.state = "in-flight";
          m.lastReceivedAt = now;
          delete m.visibleAtIfFailed;
        }
        const event = {
          Records: visible.map((m) => ({
            messageId: m.messageId,
            receiptHandle: `${m.messageId}#${m.receiveCount}`,
            body: m.body,
            attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              SentTimestamp: String(m.sentAt),
              SenderId: "local",
              ApproximateFirstReceiveTimestamp: String(now),
            },
            messageAttributes: {},
            md5OfBody: createHash("md5").update(m.body).digest("hex"),
            eventSource: "aws:sqs",
            eventSourceARN: queue.arn,
            awsRegion: opts.region,
          })),
        };
        const settle = (failedIds: Set<string>) => {
          for (const m of visible) {
            if (!failedIds.has(m.messageId)) {
              queue.delivered += 1;
              m.state = "delivered";
              continue;
            }
            if (m.receiveCount >= queue.maxReceiveCount) {
              queue.dead.push(m);
              m.state = "dead-lettered";
              continue;
            }
            m.visibleAt =
              m.visibleAtIfFailed ?? Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (m.receiveCount - 1));
            m.state = "waiting";
            queue.messages.push(m);
          }
          queue.inFlight = 0;
          queue.flight = [];
          schedule(() => queue.kick(), 0);
        };
        queue.consumer.runtime.invoke(event).then(
          (result) => {
            const failures =
              (result as { batchItemFailures?: Array<{ itemIdentifier: string }> } | null)?.batchItemFailures ?? [];
            settle(new Set(failures.map((f) => f.itemIdentifier)));
          },
          () => settle(new Set(visible.map((m) => m.messageId))),
        );
      },
    };
    queues.set(name, queue);
    return queue;
  };

  return {
    endpoint,
    queues: queues as unknown as Map<string, LocalQueue>,
    createQueue,
    attach(queueName, runtime, batchSize) {
      const queue = queues.get(queueName);
      if (!queue) throw new Error(`no local queue ${queueName}`);
      queue.consumer = { runtime, batchSize };
      queue.kick();
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
