/**
 * The retry schedule (shared/webhooks/retry.ts) and the queue that carries it out (template.yaml): retries span at
 * least 24 hours before the dead-letter queue, whatever the jitter draws; the queue keeps messages longer than that;
 * the redrive policy dead-letters after the schedule's last attempt.
 */
import { describe, expect, it } from "vitest";
import { functionsOf, loadTemplate } from "../../local/template.ts";
import { WEBHOOK_OUTBOX_PK } from "../../shared/store/keys.ts";
import {
  JITTER,
  MAX_ATTEMPTS,
  MAX_VISIBILITY_S,
  RETRY_DELAYS_S,
  retryDelaySeconds,
  retrySpanSeconds,
} from "../../shared/webhooks/retry.ts";
import { ATTEMPT_TIMEOUT_MS } from "../../shared/webhooks/deliver.ts";

const DAY_S = 24 * 3600;
const template = loadTemplate();
const props = (id: string) => template.Resources[id]!.Properties as Record<string, any>;

describe("the retry schedule", () => {
  it("spans at least 24 hours from the first attempt to the last, every wait drawn at its shortest", () => {
    expect(retrySpanSeconds(1 - JITTER)).toBeGreaterThanOrEqual(DAY_S);
    // The waits actually drawn: a random() of 0 is the shortest of each.
    const shortest = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => retryDelaySeconds(i + 1, () => 0)).reduce(
      (a, b) => a + b,
      0,
    );
    expect(shortest).toBeGreaterThanOrEqual(DAY_S);
    expect(shortest).toBe(retrySpanSeconds(1 - JITTER));
  });

  it("grows, each wait within ±10 % of its nominal value and within SQS's 12-hour visibility limit", () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const nominal = RETRY_DELAYS_S[attempt - 1]!;
      const low = retryDelaySeconds(attempt, () => 0);
      const high = retryDelaySeconds(attempt, () => 0.999999);
      expect(low).toBeGreaterThanOrEqual(Math.floor(nominal * 0.9));
      expect(high).toBeLessThanOrEqual(Math.ceil(nominal * 1.1));
      expect(high).toBeLessThanOrEqual(MAX_VISIBILITY_S);
      if (attempt > 1) expect(nominal).toBeGreaterThanOrEqual(RETRY_DELAYS_S[attempt - 2]!);
    }
  });

  it("after the last attempt: no wait (the next receive dead-letters it)", () => {
    expect(MAX_ATTEMPTS).toBe(8);
    expect(retryDelaySeconds(MAX_ATTEMPTS, () => 0.5)).toBe(0);
    expect(retryDelaySeconds(MAX_ATTEMPTS + 3, () => 0.5, "3600")).toBe(0);
  });

  it("a Retry-After (seconds or HTTP date) lengthens a wait, never shortens it, and never past 12 hours", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryDelaySeconds(1, () => 0.5, "120", now)).toBe(120);
    expect(retryDelaySeconds(3, () => 0.5, "120", now)).toBe(1800);
    expect(retryDelaySeconds(1, () => 0.5, new Date(now + 600_000).toUTCString(), now)).toBe(600);
    expect(retryDelaySeconds(1, () => 0.5, "999999", now)).toBe(MAX_VISIBILITY_S);
    expect(retryDelaySeconds(1, () => 0.5, "soon", now)).toBe(5);
  });
});

describe("the webhook queue in template.yaml carries it out", () => {
  const queue = props("WebhookQueue");
  const fn = functionsOf(template).find((f) => f.logicalId === "WebhookFunction")!;

  it("dead-letters after the schedule's last attempt, into a queue of its own that keeps messages 14 days", () => {
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"] },
      maxReceiveCount: MAX_ATTEMPTS,
    });
    expect(props("WebhookDeadLetterQueue").MessageRetentionPeriod).toBe(14 * DAY_S);
  });

  it("keeps a message longer than its retries can last, every wait drawn at its longest", () => {
    expect(queue.MessageRetentionPeriod).toBeGreaterThan(retrySpanSeconds(1 + JITTER) + 3600);
  });

  it("the function outlasts ten posts side by side; a failed batch waits six times its timeout; nothing throttles it", () => {
    expect(fn.timeoutSeconds * 1000).toBeGreaterThan(ATTEMPT_TIMEOUT_MS * 2);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.timeoutSeconds);
    expect(fn.queues).toEqual([{ queueLogicalId: "WebhookQueue", batchSize: 10 }]);
    // A throttled invocation counts as a receive: the event source caps concurrency instead of reserved concurrency.
    const events = props("WebhookFunction").Events;
    expect(events.Deliveries.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    expect(events.Deliveries.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(props("WebhookFunction").ReservedConcurrentExecutions).toBeUndefined();
  });

  it("the function may touch the outbox partition only, the one shared/store names", () => {
    const statements = props("WebhookRole").Policies[0].PolicyDocument.Statement as Array<Record<string, any>>;
    const table = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("dynamodb:")));
    expect(table).toHaveLength(1);
    expect(table[0]!.Condition).toEqual({
      "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [WEBHOOK_OUTBOX_PK] },
    });
  });

  it("the secret is generated at deploy: base64 letters and digits only, 36 bytes' worth", () => {
    expect(props("WebhookSecret").GenerateSecretString).toEqual({ PasswordLength: 48, ExcludePunctuation: true });
    expect(props("WebhookSecret").SecretString).toBeUndefined();
  });
});
