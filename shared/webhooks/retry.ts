// When a failed delivery is tried again. SQS does the waiting: after a failed attempt the webhook function sets the
// message's visibility timeout to the next delay (ChangeMessageVisibility), so SQS hands it back then; the queue's
// redrive policy moves it to the dead-letter queue once it has been received MAX_ATTEMPTS times. template.yaml's
// maxReceiveCount is MAX_ATTEMPTS (tests/unit/webhook-retry.test.ts holds them together).
//
// The schedule is the one the Standard Webhooks specification gives as an example, cut where it passes 24 hours:
//
//   attempt   1     2     3       4        5       6       7        8
//   at        0     5 s   5m05s   35m05s   2h35m   7h35m   17h35m   27h35m   (nominal; each wait ±10 % jitter)
//
// so the last attempt comes at least 24.8 hours after the first (every wait 10 % short), then the event is
// dead-lettered.

/** Seconds to wait after failed attempt n (index n - 1). */
export const RETRY_DELAYS_S = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
/** Each wait is drawn from ±JITTER of its nominal value, so that receivers that failed together are not retried together. */
export const JITTER = 0.1;
/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_S = 12 * 3600;

/**
 * Seconds until the next attempt after attempt `attempt` (1-based) failed; 0 after the last one (the message goes
 * back to the queue at once, and its next receive moves it to the dead-letter queue). A `Retry-After` the receiver
 * sent (seconds or an HTTP date) lengthens the wait, up to SQS's limit, never shortens it.
 */
export function retryDelaySeconds(
  attempt: number,
  random: () => number,
  retryAfter?: string | null,
  now = Date.now(),
): number {
  if (attempt >= MAX_ATTEMPTS) return 0;
  const nominal = RETRY_DELAYS_S[Math.max(0, attempt - 1)]!;
  const jittered = Math.round(nominal * (1 - JITTER + 2 * JITTER * random()));
  return Math.min(MAX_VISIBILITY_S, Math.max(jittered, retryAfterSeconds(retryAfter, now) ?? 0));
}

function retryAfterSeconds(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** Seconds from the first attempt to the last, when every wait is drawn at `factor` of its nominal value. */
export function retrySpanSeconds(factor = 1): number {
  return RETRY_DELAYS_S.reduce((sum, d) => sum + Math.round(d * factor), 0);
}
