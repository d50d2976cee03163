// Capacity on the token path (shared/live/capacity.ts): maxPublishers (and IVS's 12) and maxParticipants against the
// live counts read with the room, without calling IVS.
import { describe, expect, it } from "vitest";
import { RoomFullError, StageFullError } from "../../shared/errors.ts";
import {
  applyCapacity,
  CAPACITY_RETRY_AFTER_SECONDS,
  COUNTS_TRUSTED_FOR_MS,
  type LiveCounts,
} from "../../shared/live/capacity.ts";
import { defaultPolicy } from "../../shared/rooms/policy.ts";

const NOW = Date.parse("2026-12-01T10:00:00.000Z");
const counts = (connected: number, publishing: number, evidenceAt = NOW - 2_000): LiveCounts => ({
  connected,
  publishing,
  evidenceAt,
});
const both = ["PUBLISH", "SUBSCRIBE"] as const;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("maxPublishers", () => {
  const policy = defaultPolicy();

  it("defaults to IVS's 12: the 12th publisher gets PUBLISH, the 13th does not", () => {
    expect(
      applyCapacity({
        policy,
        capabilities: [...both],
        explicit: false,
        isModerator: false,
        counts: counts(20, 11),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["PUBLISH", "SUBSCRIBE"] });
    expect(
      applyCapacity({
        policy,
        capabilities: [...both],
        explicit: false,
        isModerator: false,
        counts: counts(20, 12),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["SUBSCRIBE"], limitedBy: "stage_full" });
  });

  it("capabilities asked for explicitly: 409 stage_full with Retry-After, never a quiet downgrade", () => {
    const error = thrown(() =>
      applyCapacity({
        policy,
        capabilities: [...both],
        explicit: true,
        isModerator: false,
        counts: counts(20, 12),
        now: NOW,
      }),
    );
    expect(error).toBeInstanceOf(StageFullError);
    expect((error as StageFullError).status).toBe(409);
    expect((error as StageFullError).code).toBe("stage_full");
    expect((error as StageFullError).headers["retry-after"]).toBe(String(CAPACITY_RETRY_AFTER_SECONDS));
    // An explicit SUBSCRIBE-only request is not about publishing.
    expect(
      applyCapacity({
        policy,
        capabilities: ["SUBSCRIBE"],
        explicit: true,
        isModerator: false,
        counts: counts(20, 12),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["SUBSCRIBE"] });
  });

  it("a role that can only publish gets 409 rather than a token with nothing in it", () => {
    expect(
      thrown(() =>
        applyCapacity({
          policy,
          capabilities: ["PUBLISH"],
          explicit: false,
          isModerator: false,
          counts: counts(12, 12),
          now: NOW,
        }),
      ),
    ).toBeInstanceOf(StageFullError);
  });

  it("a room's own lower limit, which moderators are held to like everyone (IVS's quota spares no one)", () => {
    const three = { ...policy, maxPublishers: 3 };
    expect(
      applyCapacity({
        policy: three,
        capabilities: [...both],
        explicit: false,
        isModerator: true,
        counts: counts(5, 3),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["SUBSCRIBE"], limitedBy: "stage_full" });
    expect(
      applyCapacity({
        policy: three,
        capabilities: [...both],
        explicit: false,
        isModerator: false,
        counts: counts(5, 2),
        now: NOW,
      }).limitedBy,
    ).toBeUndefined();
  });

  it("a policy stored before maxPublishers existed is held to IVS's 12", () => {
    const old = { ...policy } as Partial<typeof policy>;
    delete old.maxPublishers;
    expect(
      applyCapacity({
        policy: old as typeof policy,
        capabilities: [...both],
        explicit: false,
        isModerator: false,
        counts: counts(12, 12),
        now: NOW,
      }).limitedBy,
    ).toBe("stage_full");
  });
});

describe("maxParticipants", () => {
  const policy = { ...defaultPolicy(), maxParticipants: 3 };

  it("409 room_full with Retry-After at the limit, for any capability", () => {
    expect(
      applyCapacity({
        policy,
        capabilities: ["SUBSCRIBE"],
        explicit: false,
        isModerator: false,
        counts: counts(2, 0),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["SUBSCRIBE"] });
    const error = thrown(() =>
      applyCapacity({
        policy,
        capabilities: ["SUBSCRIBE"],
        explicit: false,
        isModerator: false,
        counts: counts(3, 0),
        now: NOW,
      }),
    );
    expect(error).toBeInstanceOf(RoomFullError);
    expect((error as RoomFullError).code).toBe("room_full");
    expect((error as RoomFullError).headers["retry-after"]).toBe(String(CAPACITY_RETRY_AFTER_SECONDS));
  });

  it("moderators are exempt", () => {
    expect(
      applyCapacity({
        policy,
        capabilities: [...both],
        explicit: false,
        isModerator: true,
        counts: counts(50, 1),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["PUBLISH", "SUBSCRIBE"] });
  });

  it("no limit without maxParticipants", () => {
    expect(
      applyCapacity({
        policy: defaultPolicy(),
        capabilities: ["SUBSCRIBE"],
        explicit: false,
        isModerator: false,
        counts: counts(24_999, 0),
        now: NOW,
      }),
    ).toEqual({ capabilities: ["SUBSCRIBE"] });
  });
});

describe("counts it cannot rest on", () => {
  const policy = { ...defaultPolicy(), maxParticipants: 1 };

  it("no counts yet (nobody ever on stage): no limit applies", () => {
    expect(
      applyCapacity({
        policy,
        capabilities: [...both],
        explicit: true,
        isModerator: false,
        counts: undefined,
        now: NOW,
      }),
    ).toEqual({ capabilities: ["PUBLISH", "SUBSCRIBE"] });
  });

  it("counts whose latest evidence is older than COUNTS_TRUSTED_FOR_MS are not used", () => {
    const old = counts(12, 12, NOW - COUNTS_TRUSTED_FOR_MS - 1);
    expect(
      applyCapacity({ policy, capabilities: [...both], explicit: true, isModerator: false, counts: old, now: NOW }),
    ).toEqual({ capabilities: ["PUBLISH", "SUBSCRIBE"] });
    expect(
      thrown(() =>
        applyCapacity({
          policy,
          capabilities: [...both],
          explicit: true,
          isModerator: false,
          counts: counts(12, 12, NOW - COUNTS_TRUSTED_FOR_MS),
          now: NOW,
        }),
      ),
    ).toBeInstanceOf(RoomFullError);
  });
});
