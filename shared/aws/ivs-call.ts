// How stagepass calls IVS, whichever client sends: retries with backoff inside the request's budget, then IVS's
// failures mapped to problem errors (throttling → 429, a quota → QuotaExceededError, 5xx and timeouts → 503).
// Used by shared/aws/ivs.ts (the SDK) and the token function's lite CreateParticipantToken, which also spends a
// per-container budget (call-budget.ts) so that IVS's throttling is not amplified.
import { QuotaExceededError, RateLimitedError, UpstreamUnavailableError } from "../errors.ts";
import { countIvsRetry, countIvsThrottle, recordIvsLatency } from "../metrics.ts";
import type { CallOutcome, CallPermit } from "./call-budget.ts";
import { retrying } from "./retry.ts";

/** Longest a single IVS call may take before it is abandoned. */
export const CALL_TIMEOUT_MS = 3_000;
/** Longest one operation (with its retries) may take, whatever the request's own deadline. */
const OPERATION_BUDGET_MS = 6_000;
/** Attempts per operation (the first and three retries). */
const MAX_ATTEMPTS = 4;

const statusOf = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
export const nameOf = (e: unknown) => (e as { name?: string }).name ?? "";
const isThrottle = (e: unknown) => statusOf(e) === 429 || /Throttl|TooManyRequests/.test(nameOf(e));
const isTransient = (e: unknown) => {
  const status = statusOf(e);
  return isThrottle(e) || (status !== undefined && status >= 500) || status === undefined;
};
const outcomeOf = (e: unknown): CallOutcome =>
  isThrottle(e) ? "throttled" : /Timeout|Abort/.test(nameOf(e)) ? "timed-out" : "failed";

/** The budget refused an attempt: IVS is throttling this container and its share is spent. */
class PacedOut extends Error {}

/**
 * One attempt's time limit, as a number of milliseconds (for the lite client's own timer) or as an AbortSignal (for
 * the SDK's `abortSignal`). The signal is made only when asked for: making one and listening to it costs more than
 * the rest of a CreateParticipantToken call's own work (docs/performance.md).
 */
export interface Attempt {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

const attempt = (timeoutMs: number): Attempt => {
  let signal: AbortSignal | undefined;
  return {
    timeoutMs,
    get signal() {
      return (signal ??= AbortSignal.timeout(timeoutMs));
    },
  };
};

/**
 * Runs one IVS call with retries inside the request's time, mapping what is left of failures to problem errors.
 * With a permit (call-budget.ts), each attempt is made only if the container's budget allows it, and each retry is
 * paid from its retry quota; a refused attempt ends the call at once with 429.
 */
export async function call<T>(
  what: string,
  deadline: number,
  send: (attempt: Attempt) => Promise<T>,
  permit?: CallPermit,
): Promise<T> {
  const until = Math.min(deadline, Date.now() + OPERATION_BUDGET_MS);
  // Every attempt sent (not one the budget refused): its time, a retry after the first, a throttle
  // (docs/operations.md).
  let sent = 0;
  const once = async (remaining: number) => {
    const timeoutMs = Math.max(1, Math.min(CALL_TIMEOUT_MS, remaining));
    if (permit && !permit.start()) throw new PacedOut();
    if (sent++ > 0) countIvsRetry(what);
    const started = performance.now();
    try {
      const out = await send(attempt(timeoutMs));
      permit?.end("ok");
      return out;
    } catch (error) {
      permit?.end(outcomeOf(error));
      if (isThrottle(error)) countIvsThrottle(what);
      throw error;
    } finally {
      recordIvsLatency(what, performance.now() - started);
    }
  };
  try {
    return await retrying(
      once,
      (error) => !(error instanceof PacedOut) && isTransient(error),
      // Few attempts: when IVS throttles, the account's quota is spent, and every retry spends more of it.
      {
        deadline: until,
        maxAttempts: MAX_ATTEMPTS,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        ...(permit ? { mayRetry: (error: unknown) => permit.retry(outcomeOf(error)) } : {}),
      },
    );
  } catch (error) {
    if (error instanceof PacedOut) throw new RateLimitedError(`IVS is throttling ${what}; retry shortly`, 1);
    if (isThrottle(error)) throw new RateLimitedError(`IVS is throttling ${what}; retry shortly`, 1, { cause: error });
    if (nameOf(error) === "ServiceQuotaExceededException")
      throw new QuotaExceededError(`IVS refused ${what}: ${(error as Error).message}`, { cause: error });
    if (isTransient(error)) throw new UpstreamUnavailableError(`IVS did not complete ${what}`, 2, { cause: error });
    throw error;
  }
}
