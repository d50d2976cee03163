/**
 * Delivering a batch (shared/webhooks/deliver.ts) with fake ports: what is posted (verified with standardwebhooks'
 * Webhook.verify), what counts as a failure, the wait handed to SQS, and the same webhook-id on every attempt.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { serializeEvent, webhookEvent } from "../../shared/webhooks/events.ts";
import {
  ATTEMPT_TIMEOUT_MS,
  deliverBatch,
  deliverOne,
  type DeliveryPorts,
  type DeliveryRecord,
  type PostResult,
} from "../../shared/webhooks/deliver.ts";
import { MAX_ATTEMPTS } from "../../shared/webhooks/retry.ts";
import { webhookKeys } from "../../shared/webhooks/sign.ts";

const [key] = webhookKeys(randomBytes(32).toString("base64"));
const event = webhookEvent(
  "participant.kicked",
  { roomId: "r1", userId: "u2", participantIds: ["p1"], banMinutes: 0, actorId: "u1" },
  Date.now(),
);
const record = (receiveCount = 1, body = serializeEvent(event), messageId = "m1"): DeliveryRecord => ({
  messageId,
  receiptHandle: `${messageId}#${receiveCount}`,
  body,
  receiveCount,
});

function fakes(answer: (n: number) => PostResult | Error, opts: Partial<DeliveryPorts> = {}) {
  const posts: Array<{ url: string; body: string; headers: Record<string, string>; timeoutMs: number }> = [];
  const waits: Array<[string, number]> = [];
  const logs: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const log = (level: string) => (message: string, extra: Record<string, unknown>) =>
    logs.push({ level, message, extra });
  const ports: DeliveryPorts = {
    url: "https://app.example.com/hooks",
    keys: async () => [key!],
    async post(url, body, headers, timeoutMs) {
      posts.push({ url, body, headers, timeoutMs });
      const a = answer(posts.length);
      if (a instanceof Error) throw a;
      return a;
    },
    retryIn: async (handle, seconds) => {
      waits.push([handle, seconds]);
    },
    now: Date.now,
    random: () => 0.5,
    log: { info: log("info"), warn: log("warn"), error: log("error") },
    ...opts,
  };
  return { ports, posts, waits, logs };
}

const ok: PostResult = { status: 204, retryAfter: null };

describe("delivering a webhook", () => {
  it("posts the queued body as is, JSON, signed so that standardwebhooks verifies it, with a 5 s limit", async () => {
    const f = fakes(() => ok);
    expect(await deliverOne(f.ports, record())).toEqual({ kind: "delivered", status: 204 });
    const [post] = f.posts;
    expect(post!.url).toBe("https://app.example.com/hooks");
    expect(post!.body).toBe(serializeEvent(event));
    expect(post!.timeoutMs).toBe(ATTEMPT_TIMEOUT_MS);
    expect(post!.headers["content-type"]).toBe("application/json");
    expect(post!.headers["webhook-id"]).toBe(event.id);
    expect(new Webhook(key!).verify(post!.body, post!.headers)).toEqual(event);
    expect(f.waits).toEqual([]);
  });

  it.each([
    ["a 500", () => ({ status: 500, retryAfter: null })],
    ["a 3xx (redirects are not followed)", () => ({ status: 301, retryAfter: null })],
    ["a 410", () => ({ status: 410, retryAfter: null })],
    ["a timeout", () => Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" })],
    ["a refused connection", () => Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })],
  ])("%s is a failure: reported to SQS with the schedule's next wait", async (_, answer) => {
    const f = fakes(answer as () => PostResult | Error);
    const outcome = await deliverOne(f.ports, record(2));
    expect(outcome).toMatchObject({ kind: "failed", retryInSeconds: 300 });
    expect(f.waits).toEqual([["m1#2", 300]]);
    expect(f.logs.find((l) => l.level === "warn")!.extra).toMatchObject({
      webhookId: event.id,
      attempt: 2,
      retryInSeconds: 300,
    });
  });

  it("names the failure in the log: the status, `timeout`, or the network error's code", async () => {
    for (const [answer, expected] of [
      [{ status: 503, retryAfter: null }, { status: 503 }],
      [Object.assign(new Error("aborted"), { name: "TimeoutError" }), { error: "timeout" }],
      [Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }), { error: "ECONNREFUSED" }],
    ] as const) {
      const f = fakes(() => answer as PostResult | Error);
      await deliverOne(f.ports, record());
      expect(f.logs[0]!.extra).toMatchObject(expected);
    }
  });

  it("a receiver's Retry-After lengthens the wait", async () => {
    const f = fakes(() => ({ status: 429, retryAfter: "900" }));
    await deliverOne(f.ports, record(1));
    expect(f.waits).toEqual([["m1#1", 900]]);
  });

  it("the last attempt failing: no wait, an error log, and the failure reported (the redrive policy dead-letters it)", async () => {
    const f = fakes(() => ({ status: 500, retryAfter: null }));
    expect(await deliverOne(f.ports, record(MAX_ATTEMPTS))).toMatchObject({ kind: "failed", retryInSeconds: 0 });
    expect(f.waits).toEqual([[`m1#${MAX_ATTEMPTS}`, 0]]);
    expect(f.logs.map((l) => l.level)).toEqual(["error"]);
    expect(f.logs[0]!.message).toMatch(/dead-letter/);
  });

  it("every attempt carries the event's id as webhook-id, each signed afresh with its own timestamp", async () => {
    let clock = 1_800_000_000_000;
    const f = fakes((n) => (n < 3 ? { status: 500, retryAfter: null } : ok), { now: () => clock });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await deliverOne(f.ports, record(attempt));
      clock += 10_000;
    }
    expect(f.posts.map((p) => p.headers["webhook-id"])).toEqual([event.id, event.id, event.id]);
    expect(f.posts.map((p) => p.headers["webhook-timestamp"])).toEqual(["1800000000", "1800000010", "1800000020"]);
    expect(new Set(f.posts.map((p) => p.body)).size).toBe(1);
  });

  it("a secret that cannot be read fails the attempt (retried later), without posting", async () => {
    const f = fakes(() => ok, {
      keys: async () => {
        throw new Error("AccessDeniedException");
      },
    });
    expect(await deliverOne(f.ports, record())).toMatchObject({ kind: "failed", error: "AccessDeniedException" });
    expect(f.posts).toEqual([]);
    expect(f.waits).toEqual([["m1#1", 5]]);
  });

  it("drops, and does not retry, a malformed message, and every message while webhooks are off", async () => {
    const f = fakes(() => ok);
    expect(await deliverOne(f.ports, record(1, "{not json"))).toEqual({ kind: "dropped", reason: "malformed" });
    expect(await deliverOne(f.ports, record(1, '{"id":"x.y","type":"room.created"}'))).toEqual({
      kind: "dropped",
      reason: "malformed",
    });
    const off = fakes(() => ok, { url: undefined });
    expect(await deliverOne(off.ports, record())).toEqual({ kind: "dropped", reason: "off" });
    expect([...f.posts, ...off.posts, ...f.waits, ...off.waits]).toEqual([]);
  });

  it("a batch: the records that failed are reported by message id, the others are not", async () => {
    const bodies = new Map<string, number>([
      ["m1", 204],
      ["m2", 500],
      ["m3", 200],
    ]);
    const f = fakes(() => ok, {
      post: async (_url, body) => ({ status: bodies.get(JSON.parse(body).data.roomId)!, retryAfter: null }),
    });
    const body = (roomId: string) => serializeEvent(webhookEvent("room.deleted", { roomId, actorId: "u1" }, 0));
    const failed = await deliverBatch(
      f.ports,
      ["m1", "m2", "m3"].map((m) => record(1, body(m), m)),
    );
    expect(failed).toEqual(["m2"]);
  });
});
