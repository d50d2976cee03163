// shared/aws/ivs-call.ts with a call budget (shared/aws/call-budget.ts): every attempt asks the budget first, every
// retry is paid from it, and a refusal ends the call at once with 429, without calling IVS.
import { describe, expect, it } from "vitest";
import { CallBudget } from "../../shared/aws/call-budget.ts";
import { call } from "../../shared/aws/ivs-call.ts";
import { RateLimitedError, UpstreamUnavailableError } from "../../shared/errors.ts";

const throttled = () =>
  Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 429 } });
const unavailable = () =>
  Object.assign(new Error("boom"), { name: "ServiceUnavailableException", $metadata: { httpStatusCode: 503 } });
const deadline = () => Date.now() + 10_000;

/** A send that answers with each outcome in turn (the last one repeats), counting its calls. */
function sender(...outcomes: Array<"ok" | (() => Error)>) {
  let calls = 0;
  const send = async () => {
    const o = outcomes[Math.min(calls++, outcomes.length - 1)]!;
    if (o === "ok") return { ok: true };
    throw o();
  };
  return { send, calls: () => calls };
}

describe("IVS calls spending a call budget", () => {
  it("a throttle or two are retried, as before", async () => {
    const budget = new CallBudget();
    const s = sender(throttled, throttled, "ok");
    expect(await call("CreateParticipantToken", deadline(), s.send, budget.admit()!)).toEqual({ ok: true });
    expect(s.calls()).toBe(3);
  });

  it("once the pace tokens are spent, a throttled call is not retried and the next request is refused without a call", async () => {
    const budget = new CallBudget({ settings: { startTokens: 2 } });
    const s = sender(throttled);
    await expect(call("CreateParticipantToken", deadline(), s.send, budget.admit()!)).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    // The first attempt (before IVS had throttled), then one per start token.
    expect(s.calls()).toBe(3);
    expect(budget.admit()).toBeUndefined();
  });

  it("a request admitted before the throttling began is refused at its call: 429 at once", async () => {
    const budget = new CallBudget({ settings: { startTokens: 0 } });
    const early = budget.admit()!;
    await expect(
      call("CreateParticipantToken", deadline(), sender(throttled).send, budget.admit()!),
    ).rejects.toBeInstanceOf(RateLimitedError);
    const s = sender("ok");
    const refused = await call("CreateParticipantToken", deadline(), s.send, early).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).headers["retry-after"]).toBe("1");
    expect(s.calls()).toBe(0);
  });

  it("failures other than throttling are retried while the retry quota pays, then answered 503", async () => {
    const budget = new CallBudget({ settings: { retryQuota: 10 } });
    const s = sender(unavailable);
    await expect(call("CreateParticipantToken", deadline(), s.send, budget.admit()!)).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    // Two retries paid (5 each), the third refused.
    expect(s.calls()).toBe(3);
    expect(budget.state().retryQuota).toBe(0);
    const again = sender(unavailable);
    await expect(call("CreateParticipantToken", deadline(), again.send, budget.admit()!)).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(again.calls()).toBe(1);
  });
});
