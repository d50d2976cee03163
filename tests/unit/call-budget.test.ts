// The per-container budget for IVS calls (shared/aws/call-budget.ts), on an injected clock: the SDK standard retry
// quota, and the pacing that starts with IVS's first ThrottlingException. The last tests run containers against a
// model of IVS's 50-per-second window to show what the budget is for: under sustained throttling, fewer than 1.5
// calls per accepted call, with the quota still used.
import { describe, expect, it } from "vitest";
import { CALL_BUDGET, CallBudget, type CallOutcome, type CallPermit } from "../../shared/aws/call-budget.ts";

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** One attempt on a permit: starts it and ends it with `outcome`; false when the budget refused the attempt. */
function attempt(permit: CallPermit, outcome: CallOutcome): boolean {
  if (!permit.start()) return false;
  permit.end(outcome);
  return true;
}

/** Requests admitted in a row, each one attempt ending with `outcome`; how many were made before a refusal. */
function calls(budget: CallBudget, n: number, outcome: CallOutcome): number {
  for (let i = 0; i < n; i++) {
    const permit = budget.admit();
    if (!permit || !attempt(permit, outcome)) return i;
  }
  return n;
}

describe("while IVS does not throttle", () => {
  it("admits every request and every attempt, failures and timeouts included", () => {
    const c = clock();
    const budget = new CallBudget({ now: c.now });
    expect(calls(budget, 1000, "ok")).toBe(1000);
    expect(calls(budget, 100, "failed")).toBe(100);
    expect(calls(budget, 100, "timed-out")).toBe(100);
    expect(budget.state()).toMatchObject({ throttled: false });
  });

  it("pays retries from the SDK standard quota: 500, 5 a retry, 10 after a timeout, 1 back per success", () => {
    const budget = new CallBudget({ now: clock().now });
    const permit = budget.admit()!;
    for (let i = 0; i < 100; i++) expect(permit.retry("failed")).toBe(true);
    expect(budget.state().retryQuota).toBe(0);
    expect(permit.retry("failed")).toBe(false);
    // Successes put one unit back each: five pay for one retry.
    expect(calls(budget, 4, "ok")).toBe(4);
    expect(permit.retry("failed")).toBe(false);
    expect(calls(budget, 1, "ok")).toBe(1);
    expect(permit.retry("failed")).toBe(true);
    expect(calls(budget, 10, "ok")).toBe(10);
    expect(permit.retry("timed-out")).toBe(true);
    expect(permit.retry("timed-out")).toBe(false);
    // Never above 500.
    expect(calls(budget, 1000, "ok")).toBe(1000);
    expect(budget.state().retryQuota).toBe(CALL_BUDGET.retryQuota);
  });
});

describe("once IVS throttles", () => {
  it("paces every call from the first ThrottlingException: 8 tokens, used up by throttled calls, given back by others", () => {
    const c = clock();
    const budget = new CallBudget({ now: c.now });
    expect(calls(budget, 1, "throttled")).toBe(1);
    expect(budget.state()).toEqual({ throttled: true, paceTokens: 8, retryQuota: 500 });
    // Calls that IVS answers (or fails, or that time out) give their token back: no limit while they do.
    expect(calls(budget, 50, "ok")).toBe(50);
    expect(calls(budget, 50, "failed")).toBe(50);
    expect(calls(budget, 50, "timed-out")).toBe(50);
    expect(budget.state().paceTokens).toBe(8);
    // Throttled ones keep it: the ninth is refused before any call, and a retry is refused alike.
    expect(calls(budget, 20, "throttled")).toBe(8);
    expect(budget.admit()).toBeUndefined();
  });

  it("a permit admitted while throttled holds its token until its first attempt, and gives it back if released", () => {
    const c = clock();
    const budget = new CallBudget({ now: c.now });
    calls(budget, 1, "throttled");
    const permits = Array.from({ length: 8 }, () => budget.admit());
    expect(permits.every((p) => p !== undefined)).toBe(true);
    expect(budget.admit()).toBeUndefined();
    permits[0]!.release();
    permits[0]!.release();
    expect(budget.state().paceTokens).toBe(1);
    // The others start on the token they hold, even with none left in the budget.
    expect(budget.admit()).toBeDefined();
    expect(attempt(permits[1]!, "ok")).toBe(true);
    expect(budget.state().paceTokens).toBe(1);
    // ...and a retry needs a token of its own: here the one just given back.
    expect(permits[1]!.start()).toBe(true);
    expect(permits[1]!.start()).toBe(false);
  });

  it("a request admitted before the throttling started needs a token for its call", () => {
    const c = clock();
    const budget = new CallBudget({ now: c.now });
    const early = budget.admit()!;
    calls(budget, 1, "throttled");
    calls(budget, 8, "throttled");
    expect(early.start()).toBe(false);
  });

  it("gets tokens back with time, at a fifth of the calls IVS accepted in the last second, at least 0.5 a second, one at most", () => {
    const c = clock();
    const idle = new CallBudget({ now: c.now });
    calls(idle, 9, "throttled");
    expect(idle.admit()).toBeUndefined();
    c.advance(1_000);
    expect(idle.state().paceTokens).toBeCloseTo(0.5, 6);
    c.advance(999);
    expect(idle.admit()).toBeUndefined();
    expect(idle.state().paceTokens).toBeCloseTo(0.9995, 6);

    // 50 calls accepted in the last second: 10 tokens a second, but time gives back one at most.
    const b = clock(0);
    const busy = new CallBudget({ now: b.now });
    calls(busy, 50, "ok");
    calls(busy, 9, "throttled");
    b.advance(50);
    expect(busy.state().paceTokens).toBeCloseTo(0.5, 6);
    b.advance(50);
    expect(busy.admit()).toBeDefined();
    b.advance(500);
    expect(busy.state().paceTokens).toBe(1);
  });

  it("ends 10 s after the last ThrottlingException, and starts again with 8 tokens at the next", () => {
    const c = clock();
    const budget = new CallBudget({ now: c.now });
    calls(budget, 9, "throttled");
    c.advance(9_999);
    expect(budget.state().throttled).toBe(true);
    c.advance(1);
    expect(budget.state()).toMatchObject({ throttled: false });
    expect(calls(budget, 100, "ok")).toBe(100);
    calls(budget, 1, "throttled");
    expect(budget.state().paceTokens).toBe(8);
  });
});

/**
 * Containers sharing IVS's 50-per-second quota (a sliding one-second window, as the emulator enforces it), offered
 * `offeredPerSecond` requests spread evenly over them, each request one attempt plus retries paid by the budget.
 */
function simulate(containers: number, offeredPerSecond: number, seconds: number) {
  const c = clock(0);
  const budgets = Array.from({ length: containers }, () => new CallBudget({ now: c.now }));
  const accepted: number[] = [];
  const ivs = (): CallOutcome => {
    while (accepted.length > 0 && c.now() - accepted[0]! >= 1_000) accepted.shift();
    if (accepted.length >= 50) return "throttled";
    accepted.push(c.now());
    return "ok";
  };
  let sent = 0;
  let tokens = 0;
  const step = 1_000 / offeredPerSecond;
  for (let i = 0; i < seconds * offeredPerSecond; i++) {
    c.advance(step);
    const permit = budgets[i % containers]!.admit();
    if (!permit) continue;
    // Up to 4 attempts, each paid (retries) and paced by the budget, as ivs-call.ts does.
    for (let n = 0; n < 4; n++) {
      if (n > 0 && !permit.retry("throttled")) break;
      if (!permit.start()) break;
      sent++;
      const outcome = ivs();
      permit.end(outcome);
      if (outcome === "ok") {
        tokens++;
        break;
      }
    }
  }
  return { callsPerToken: sent / tokens, tokensPerSecond: tokens / seconds };
}

describe("under sustained throttling (a model of IVS's 50/s quota)", () => {
  it.each([
    [1, 150],
    [1, 500],
    [4, 150],
    [10, 150],
    [10, 1000],
  ])(
    "%i container(s) offered %i requests a second: under 1.5 calls per token, the quota still used",
    (containers, offered) => {
      const { callsPerToken, tokensPerSecond } = simulate(containers, offered, 30);
      expect(callsPerToken).toBeLessThan(1.5);
      expect(tokensPerSecond).toBeGreaterThanOrEqual(40);
    },
  );

  it("without the pacing (retry quota alone), the same load costs far more calls per token", () => {
    // The SDK's standard mode by itself: retries until the quota is spent, first attempts never held back.
    const c = clock(0);
    const quota = new CallBudget({ now: c.now, settings: { startTokens: Number.POSITIVE_INFINITY } });
    let sent = 0;
    let tokens = 0;
    const accepted: number[] = [];
    for (let i = 0; i < 150 * 30; i++) {
      c.advance(1_000 / 150);
      const permit = quota.admit()!;
      for (let n = 0; n < 4; n++) {
        if (n > 0 && !permit.retry("throttled")) break;
        permit.start();
        sent++;
        while (accepted.length > 0 && c.now() - accepted[0]! >= 1_000) accepted.shift();
        const ok = accepted.length < 50;
        if (ok) accepted.push(c.now());
        permit.end(ok ? "ok" : "throttled");
        if (ok) {
          tokens++;
          break;
        }
      }
    }
    expect(sent / tokens).toBeGreaterThan(2);
  });
});
