// Signing as the Standard Webhooks specification says, with its own library (standardwebhooks): HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>", base64, as `v1,<signature>`; one signature per key, space separated,
// so that a secret can be rotated without a gap (docs/webhooks.md).
//
// The secret holds one key, or several separated by white space while a rotation is under way (the new key first).
// A key is base64 of at least 24 random bytes, with or without the `whsec_` prefix that receivers are given: the
// stack generates 48 base64 letters and digits (36 bytes) at deploy (template.yaml, WebhookSecret).
import { Webhook } from "standardwebhooks";

export const SECRET_PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MIN_KEY_BYTES = 24;

export class WebhookSecretError extends Error {}

/** The keys a secret value holds, each as `whsec_<base64>`, the current one first. Throws on a malformed one. */
export function webhookKeys(secretValue: string): string[] {
  const keys = secretValue
    .split(/\s+/)
    .filter(Boolean)
    .map((k) => (k.startsWith(SECRET_PREFIX) ? k.slice(SECRET_PREFIX.length) : k));
  if (keys.length === 0) throw new WebhookSecretError("the webhook secret is empty");
  for (const [i, key] of keys.entries()) {
    // Never the key itself in a message: only where it is and what is wrong with it.
    if (key.length % 4 !== 0 || !BASE64.test(key))
      throw new WebhookSecretError(`key ${i + 1} of the webhook secret is not base64`);
    if (Buffer.from(key, "base64").length < MIN_KEY_BYTES)
      throw new WebhookSecretError(`key ${i + 1} of the webhook secret is shorter than ${MIN_KEY_BYTES} bytes`);
  }
  return keys.map((k) => `${SECRET_PREFIX}${k}`);
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The three Standard Webhooks headers of one attempt, made at `at` (a retry is signed afresh, with its own time). */
export function signWebhook(keys: string[], id: string, at: Date, body: string): SignedHeaders {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": keys.map((key) => new Webhook(key).sign(id, at, body)).join(" "),
  };
}
