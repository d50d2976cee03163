// Retries with capped exponential backoff and full jitter, never past a deadline.

export interface RetryPolicy {
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxAttempts?: number;
  /** Asked last, once a retry would otherwise be made: false ends the retries (e.g. a retry budget that is spent). */
  mayRetry?: (error: unknown) => boolean;
}

export async function retrying<T>(
  attempt: (remainingMs: number) => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  policy: RetryPolicy,
): Promise<T> {
  const base = policy.baseDelayMs ?? 50;
  const cap = policy.maxDelayMs ?? 800;
  const maxAttempts = policy.maxAttempts ?? 8;
  for (let n = 0; ; n++) {
    const remaining = policy.deadline - Date.now();
    try {
      return await attempt(remaining);
    } catch (error) {
      if (!isRetryable(error) || n + 1 >= maxAttempts) throw error;
      const delay = Math.random() * Math.min(cap, base * 2 ** n);
      if (Date.now() + delay + 50 >= policy.deadline) throw error;
      if (policy.mayRetry && !policy.mayRetry(error)) throw error;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
