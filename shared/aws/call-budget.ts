// How many calls one container may send to an AWS operation whose quota is shared by the whole account (IVS
// CreateParticipantToken: 50 per second per account and region), so that throttling is not amplified by retries
// and by new requests that the quota cannot serve. One budget per container and operation; no I/O, the clock
// injected (tests/unit/call-budget.test.ts).
//
// Two parts:
// - The retry quota of the AWS SDKs' standard retry mode: 500 units; a retry costs 5 (10 after a timeout); every
//   successful call puts 1 back. When a retry cannot be paid, the failure is answered at once.
// - Pacing, from the first ThrottlingException until `holdMs` (10 s) pass without one. Meanwhile every call (a
//   request's first or a retry) needs a pace token: a call that IVS throttles uses its token up, any other answer
//   gives it back, so calls that IVS serves are never held back. The container starts with `startTokens`; tokens
//   come back with time at a fifth of the rate of calls IVS accepted from this container in the last second (at
//   least `minRefillPerSecond`), one at most. A request that finds no token is refused (429 with Retry-After)
//   before any call, and before its caller is charged.
// Under sustained throttling a container therefore spends about one throttled call per five that IVS accepts from
// it, plus the floor: about 1.2 calls per token, each container pacing itself on its own share. That holds while
// each container's share is several calls a second; spread over many more containers than that (dozens, each
// seeing a call or two a second) the floor dominates, and a deployment past the quota signs tokens itself.
export interface CallBudgetSettings {
  retryQuota: number;
  retryCost: number;
  timeoutRetryCost: number;
  successRefund: number;
  holdMs: number;
  startTokens: number;
  /** Pace tokens regained per call that IVS accepted (over the last second). */
  successShare: number;
  minRefillPerSecond: number;
}

export const CALL_BUDGET: CallBudgetSettings = {
  retryQuota: 500,
  retryCost: 5,
  timeoutRetryCost: 10,
  successRefund: 1,
  holdMs: 10_000,
  startTokens: 8,
  successShare: 0.2,
  minRefillPerSecond: 0.5,
};

/** How an attempt ended: answered, throttled, failed otherwise (5xx, a network error, a 4xx), or timed out. */
export type CallOutcome = "ok" | "throttled" | "failed" | "timed-out";

/** One request's use of the budget, from before its other work (e.g. charging its caller) to its last attempt. */
export interface CallPermit {
  /** Before each attempt: false when the attempt must not be made (throttled and no pace token left). */
  start(): boolean;
  /** After each attempt that was made. */
  end(outcome: CallOutcome): void;
  /** After a failed attempt that could be retried: pays the retry from the retry quota, false when it cannot. */
  retry(outcome: CallOutcome): boolean;
  /** The request will make no (further) call: a pace token it took and has not used goes back. */
  release(): void;
}

export interface CallBudgetState {
  throttled: boolean;
  paceTokens: number;
  retryQuota: number;
}

const WINDOW_MS = 1_000;

export class CallBudget {
  private readonly settings: CallBudgetSettings;
  private readonly now: () => number;
  private quota: number;
  private throttledUntil = -Infinity;
  private tokens = 0;
  private refilledAt = 0;
  // Calls accepted in the current and the previous one-second window (a sliding count of the last second).
  private windowStart = 0;
  private acceptedNow = 0;
  private acceptedBefore = 0;

  constructor(options: { now?: () => number; settings?: Partial<CallBudgetSettings> } = {}) {
    this.settings = { ...CALL_BUDGET, ...options.settings };
    this.now = options.now ?? Date.now;
    this.quota = this.settings.retryQuota;
  }

  /**
   * Before a request's other work: a permit, or undefined when the request is to be refused at once (throttled and
   * no pace token). A permit taken while throttled holds its token until its first attempt or its release.
   */
  admit(): CallPermit | undefined {
    if (!this.isThrottled()) return this.permit(false);
    return this.takeToken() ? this.permit(true) : undefined;
  }

  state(): CallBudgetState {
    const throttled = this.isThrottled();
    if (throttled) this.refill();
    return { throttled, paceTokens: throttled ? this.tokens : 0, retryQuota: this.quota };
  }

  private permit(holding: boolean): CallPermit {
    let held = holding;
    let deposit = false;
    return {
      start: () => {
        if (held) {
          held = false;
          deposit = true;
          return true;
        }
        if (!this.isThrottled()) return true;
        deposit = this.takeToken();
        return deposit;
      },
      end: (outcome) => {
        this.record(outcome);
        // A throttled call keeps its token; any other answer gives it back.
        if (deposit && outcome !== "throttled") this.tokens += 1;
        deposit = false;
      },
      retry: (outcome) => {
        const cost = outcome === "timed-out" ? this.settings.timeoutRetryCost : this.settings.retryCost;
        if (this.quota < cost) return false;
        this.quota -= cost;
        return true;
      },
      release: () => {
        if (held) this.tokens += 1;
        held = false;
      },
    };
  }

  private record(outcome: CallOutcome): void {
    const now = this.now();
    if (outcome === "ok") {
      this.slideWindow(now);
      this.acceptedNow += 1;
      this.quota = Math.min(this.settings.retryQuota, this.quota + this.settings.successRefund);
    } else if (outcome === "throttled") {
      if (!this.isThrottled()) {
        this.tokens = this.settings.startTokens;
        this.refilledAt = now;
      }
      this.throttledUntil = now + this.settings.holdMs;
    }
  }

  private isThrottled(): boolean {
    return this.now() < this.throttledUntil;
  }

  private takeToken(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Time gives tokens back up to one; tokens above one (the start tokens, deposits returned) are kept. */
  private refill(): void {
    const now = this.now();
    const perSecond = Math.max(
      this.settings.minRefillPerSecond,
      this.settings.successShare * this.acceptedLastSecond(now),
    );
    const refilled = this.tokens + ((now - this.refilledAt) / 1000) * perSecond;
    this.tokens = Math.max(this.tokens, Math.min(1, refilled));
    this.refilledAt = now;
  }

  private acceptedLastSecond(now: number): number {
    this.slideWindow(now);
    const intoWindow = (now - this.windowStart) / WINDOW_MS;
    return this.acceptedNow + this.acceptedBefore * (1 - intoWindow);
  }

  private slideWindow(now: number): void {
    const elapsed = now - this.windowStart;
    if (elapsed < WINDOW_MS) return;
    this.acceptedBefore = elapsed < 2 * WINDOW_MS ? this.acceptedNow : 0;
    this.acceptedNow = 0;
    this.windowStart = now - (elapsed % WINDOW_MS);
  }
}
