// Delivering a batch of queued webhook events: each is signed afresh and posted once; a 2xx is a success, anything
// else (another status, a timeout, a network error, a secret that cannot be read) a failure, which is handed back
// to SQS with the wait before the next attempt (shared/webhooks/retry.ts). The webhook-id is the event's own id on
// every attempt. Records are posted side by side, so one slow receiver answer does not hold up the others.
import { EVENT_ID } from "./events.ts";
import { MAX_ATTEMPTS, retryDelaySeconds } from "./retry.ts";
import { signWebhook } from "./sign.ts";

/** How long one attempt may take, connection included. */
export const ATTEMPT_TIMEOUT_MS = 5_000;
export const USER_AGENT = "stagepass-webhooks/1";

export interface DeliveryRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** SQS's ApproximateReceiveCount: which attempt this is. */
  receiveCount: number;
}

export interface PostResult {
  status: number;
  retryAfter: string | null;
}

export interface DeliveryPorts {
  /** Where to post; undefined when webhooks are off. */
  url: string | undefined;
  /** The signing keys (cached by the caller; throws if the secret cannot be read or is malformed). */
  keys(): Promise<string[]>;
  /** One POST within `timeoutMs`, redirects not followed; throws on a timeout or a network error. */
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult>;
  /** Sets when SQS hands the message back (ChangeMessageVisibility). */
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
  now(): number;
  random(): number;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
    error(message: string, extra: Record<string, unknown>): void;
  };
  /** Told each record's outcome (the WebhookDeliveries and WebhookFailures metrics). */
  observe?(outcome: Outcome): void;
}

export type Outcome =
  | { kind: "delivered"; status: number }
  | { kind: "dropped"; reason: string }
  | { kind: "failed"; status?: number; error?: string; retryInSeconds: number };

/** Delivers the records; answers the message ids to report as failures (ReportBatchItemFailures). */
export async function deliverBatch(ports: DeliveryPorts, records: DeliveryRecord[]): Promise<string[]> {
  const outcomes = await Promise.all(records.map((r) => deliverOne(ports, r)));
  for (const outcome of outcomes) ports.observe?.(outcome);
  return records.filter((_, i) => outcomes[i]!.kind === "failed").map((r) => r.messageId);
}

export async function deliverOne(ports: DeliveryPorts, record: DeliveryRecord): Promise<Outcome> {
  const event = parse(record.body);
  if (!event) {
    // It will not parse better next time: drop it, loudly.
    ports.log.error("dropping a malformed webhook message", { messageId: record.messageId });
    return { kind: "dropped", reason: "malformed" };
  }
  const attempt = Math.max(1, record.receiveCount);
  const about = { webhookId: event.id, type: event.type, attempt };
  if (!ports.url) {
    ports.log.warn("webhooks are off (no WebhookUrl): event dropped", about);
    return { kind: "dropped", reason: "off" };
  }
  let status: number | undefined;
  let retryAfter: string | null = null;
  let error: string | undefined;
  try {
    const headers = {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      ...signWebhook(await ports.keys(), event.id, new Date(ports.now()), record.body),
    };
    ({ status, retryAfter } = await ports.post(ports.url, record.body, headers, ATTEMPT_TIMEOUT_MS));
    if (status >= 200 && status < 300) {
      ports.log.info("webhook delivered", { ...about, status });
      return { kind: "delivered", status };
    }
  } catch (e) {
    error = describe(e);
  }
  const seconds = retryDelaySeconds(attempt, ports.random, retryAfter, ports.now());
  const failure = { ...about, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) };
  if (attempt >= MAX_ATTEMPTS) {
    ports.log.error(`webhook failed ${attempt} times: to the dead-letter queue`, failure);
  } else {
    ports.log.warn("webhook attempt failed; SQS hands it back later", { ...failure, retryInSeconds: seconds });
  }
  try {
    await ports.retryIn(record.receiptHandle, seconds);
  } catch (e) {
    // The message comes back after the queue's own visibility timeout instead.
    ports.log.warn("could not set the retry delay", { ...about, error: (e as Error).message });
  }
  return {
    kind: "failed",
    ...(status !== undefined ? { status } : {}),
    ...(error ? { error } : {}),
    retryInSeconds: seconds,
  };
}

/** A failure in a few words: `timeout`, a network error's code (ECONNREFUSED), or the message. */
function describe(e: unknown): string {
  const error = e as Error & { cause?: { code?: string } };
  if (error.name === "TimeoutError") return "timeout";
  return error.cause?.code ?? error.message;
}

function parse(body: string): { id: string; type: string } | undefined {
  try {
    const value = JSON.parse(body) as { id?: unknown; type?: unknown };
    if (typeof value.id === "string" && EVENT_ID.test(value.id) && typeof value.type === "string")
      return { id: value.id, type: value.type };
  } catch {
    // malformed
  }
  return undefined;
}
