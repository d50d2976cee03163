// The account-wide IVS read budget (shared/live/budget.ts): slots claimed with a put-if-absent, so that however many
// callers in however many containers ask, IVS's 5 calls per second per operation are never exceeded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  IVS_READ_TPS,
  MAX_WAIT_SLOTS,
  mostInWindow,
  roomMayRead,
  ROOM_READ_INTERVAL_MS,
  SLOT_MS,
  slotOf,
  takeIvsRead,
  type Clock,
  type SlotClaims,
} from "../../shared/live/budget.ts";

/** The store's put-if-absent, in memory: one winner per (operation, slot), like DynamoDB's conditional put. */
function memorySlots(): SlotClaims & { taken: Map<string, number> } {
  const taken = new Map<string, number>();
  return {
    taken,
    async claimSlot(operation, slot) {
      await Promise.resolve();
      const key = `${operation}#${slot}`;
      if (taken.has(key)) return false;
      taken.set(key, slot);
      return true;
    },
  };
}

/** A virtual clock: sleeping advances it; several callers share it. */
function virtualClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    async sleep(ms) {
      now += ms;
      await Promise.resolve();
    },
  };
}

describe("takeIvsRead", () => {
  it("one caller per slot and operation; others wait for the next slots, then give up", async () => {
    const slots = memorySlots();
    const clock = virtualClock(10 * SLOT_MS + 10);
    const outcomes: boolean[] = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(await takeIvsRead(slots, "ListParticipants", virtualClock(clock.now()), clock.now() + 5_000));
    // The current slot and the MAX_WAIT_SLOTS after it: that many callers get a call, the rest are refused.
    expect(outcomes.filter(Boolean)).toHaveLength(1 + MAX_WAIT_SLOTS);
    expect([...slots.taken.values()].sort()).toEqual([10, 11, 12]);
    // Another operation has budget of its own.
    expect(await takeIvsRead(slots, "GetStage", virtualClock(clock.now()), clock.now() + 5_000)).toBe(true);
  });

  it("does not wait past the deadline", async () => {
    const slots = memorySlots();
    const clock = virtualClock(100 * SLOT_MS);
    expect(await takeIvsRead(slots, "GetStage", clock, clock.now() + 5_000)).toBe(true);
    const before = clock.now();
    expect(await takeIvsRead(slots, "GetStage", clock, clock.now() + SLOT_MS - 1)).toBe(false);
    expect(clock.now()).toBe(before);
  });

  it("any number of concurrent callers at any times: never more than IVS's 5 call starts in any second", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 200 }),
        async (arrivals) => {
          const slots = memorySlots();
          const starts: number[] = [];
          await Promise.all(
            arrivals.map(async (at) => {
              const clock = virtualClock(at);
              if (await takeIvsRead(slots, "ListParticipants", clock, at + 10_000)) starts.push(clock.now());
            }),
          );
          expect(mostInWindow(starts, 1_000)).toBeLessThanOrEqual(IVS_READ_TPS);
          // ...with room to spare for the call's travel to IVS: still at most 5 within any 1200 ms.
          expect(mostInWindow(starts, 1_200)).toBeLessThanOrEqual(IVS_READ_TPS);
          // A slot is used once.
          expect(new Set(starts.map(slotOf)).size).toBe(starts.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("mostInWindow", () => {
  it("counts the busiest window", () => {
    expect(mostInWindow([])).toBe(0);
    expect(mostInWindow([0, 999, 1_000])).toBe(2);
    expect(mostInWindow([0, 100, 200, 300, 400, 500], 1_000)).toBe(6);
    expect(mostInWindow([0, 300, 600, 900, 1_200, 1_500], 1_000)).toBe(4);
  });
});

describe("a room's own share", () => {
  it("a room may be read again once ROOM_READ_INTERVAL_MS has passed", () => {
    expect(roomMayRead(null, 0)).toBe(true);
    expect(roomMayRead(1_000, 1_000 + ROOM_READ_INTERVAL_MS - 1)).toBe(false);
    expect(roomMayRead(1_000, 1_000 + ROOM_READ_INTERVAL_MS)).toBe(true);
  });
});
