/**
 * IVS's published per-account API rates (SOURCES: CreateParticipantToken 50 TPS; stage operations and
 * DisconnectParticipant 5 TPS, GetParticipant, ListParticipants, ListParticipantEvents, GetStageSession and
 * ListStageSessions among them; tag operations 10 TPS; public-key operations 3 TPS), one limiter per operation.
 *
 * The limiter is a sliding one-second window (at most `rate` accepted calls in any 1000 ms): equivalent to a token
 * bucket of capacity `rate` for a burst, but deterministic for tests — `rate + 1` calls within one second always
 * see exactly one ThrottlingException, however long the burst takes to arrive.
 */
import type { OperationName } from "./model.ts";

const WINDOW_MS = 1000;

export class RateLimiter {
  private enforce: boolean;
  private readonly accepted = new Map<OperationName, number[]>();
  private readonly rateOf: (operation: OperationName) => number;
  private readonly now: () => number;

  constructor(options: { enforce: boolean; rateOf: (operation: OperationName) => number; now?: () => number }) {
    this.enforce = options.enforce;
    this.rateOf = options.rateOf;
    this.now = options.now ?? (() => performance.now());
  }

  setEnforce(on: boolean): void {
    this.enforce = on;
    this.accepted.clear();
  }

  isEnforced(): boolean {
    return this.enforce;
  }

  /** True if the call may proceed (and records it); false if it is over the operation's rate. */
  tryAcquire(operation: OperationName): boolean {
    if (!this.enforce) return true;
    const now = this.now();
    let times = this.accepted.get(operation);
    if (!times) {
      times = [];
      this.accepted.set(operation, times);
    }
    while (times.length > 0 && now - times[0]! >= WINDOW_MS) times.shift();
    if (times.length >= this.rateOf(operation)) return false;
    times.push(now);
    return true;
  }
}
