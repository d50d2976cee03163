/**
 * Signatures as the Standard Webhooks specification defines them, checked with the specification's own library
 * (standardwebhooks' Webhook.verify) and, independently, with node:crypto from the specification's text:
 * base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")) as `v1,<sig>`.
 */
import { createHmac, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook, webhookKeys, WebhookSecretError } from "../../shared/webhooks/sign.ts";

const key = () => randomBytes(32).toString("base64");
const body =
  '{"type":"room.created","id":"evt_0123456789abcdef0123456789abcdef","timestamp":"2026-01-01T00:00:00.000Z","data":{"roomId":"r1"}}';
const id = "evt_0123456789abcdef0123456789abcdef";

afterEach(() => vi.useRealTimers());

describe("the webhook secret's keys", () => {
  it("one key, with or without whsec_, comes out as whsec_<base64>", () => {
    const k = key();
    expect(webhookKeys(k)).toEqual([`whsec_${k}`]);
    expect(webhookKeys(`whsec_${k}\n`)).toEqual([`whsec_${k}`]);
  });

  it("the form the stack generates (48 letters and digits) is a key of 36 bytes", () => {
    const generated = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3";
    expect(generated).toHaveLength(48);
    expect(Buffer.from(generated, "base64")).toHaveLength(36);
    expect(webhookKeys(generated)).toEqual([`whsec_${generated}`]);
  });

  it("during a rotation: several keys separated by white space, the new one first", () => {
    const [a, b] = [key(), key()];
    expect(webhookKeys(`whsec_${a} ${b}`)).toEqual([`whsec_${a}`, `whsec_${b}`]);
  });

  it("refuses an empty secret, a key that is not base64, and one shorter than 24 bytes, without echoing the key", () => {
    expect(() => webhookKeys("  ")).toThrow(WebhookSecretError);
    const notBase64 = "not-base64-at-all-but-long-enough-to-be-a-key!!";
    expect(() => webhookKeys(notBase64)).toThrow(/key 1 of the webhook secret is not base64/);
    const short = randomBytes(16).toString("base64");
    expect(() => webhookKeys(`${key()} ${short}`)).toThrow(/key 2 .* shorter than 24 bytes/);
    try {
      webhookKeys(notBase64);
    } catch (e) {
      expect((e as Error).message).not.toContain(notBase64);
    }
  });
});

describe("signWebhook", () => {
  it("gives the three headers, and standardwebhooks' Webhook.verify accepts them and returns the payload", () => {
    const [k] = webhookKeys(key());
    const headers = signWebhook([k!], id, new Date(), body);
    expect(Object.keys(headers).sort()).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    expect(headers["webhook-id"]).toBe(id);
    expect(headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(k!).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it("is the specification's HMAC, computed here from its text", () => {
    const raw = randomBytes(32);
    const at = new Date(1_700_000_000_000);
    const headers = signWebhook([`whsec_${raw.toString("base64")}`], id, at, body);
    const expected = createHmac("sha256", raw).update(`${id}.1700000000.${body}`).digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
  });

  it("with two keys, signs with both: a receiver holding either one verifies", () => {
    const keys = webhookKeys(`${key()} ${key()}`);
    const headers = signWebhook(keys, id, new Date(), body);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const k of keys) expect(() => new Webhook(k).verify(body, { ...headers })).not.toThrow();
  });

  it("fails verification for a tampered body, another id, a wrong key, and the same message six minutes later", () => {
    const [k] = webhookKeys(key());
    const headers = signWebhook([k!], id, new Date(), body);
    const verify =
      (b: string, h: Record<string, string>, withKey = k!) =>
      () =>
        new Webhook(withKey).verify(b, h);
    expect(verify(body.replace("r1", "r2"), { ...headers })).toThrow(/No matching signature/);
    expect(verify(body, { ...headers, "webhook-id": "evt_ffffffffffffffffffffffffffffffff" })).toThrow(
      /No matching signature/,
    );
    expect(verify(body, { ...headers }, webhookKeys(key())[0]!)).toThrow(/No matching signature/);
    expect(verify(body, { ...headers })).not.toThrow();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 6 * 60_000);
    expect(verify(body, { ...headers })).toThrow(/timestamp too old/);
  });
});
