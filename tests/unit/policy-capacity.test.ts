// The room policy's capacity fields (shared/rooms/policy.ts): maxPublishers 1..12 (default 12, IVS's quota),
// maxParticipants 1..25000 (default none), anything else 400.
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../shared/errors.ts";
import { parsePolicy } from "../../shared/rooms/policy.ts";

function errorsOf(value: unknown): string[] {
  try {
    parsePolicy(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors.map((e) => e.path);
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}

describe("policy capacity", () => {
  it("defaults: 12 publishers, no participant limit (the key left out)", () => {
    const p = parsePolicy({});
    expect(p.maxPublishers).toBe(12);
    expect("maxParticipants" in p).toBe(false);
  });

  it("keeps values within bounds", () => {
    expect(parsePolicy({ maxPublishers: 1, maxParticipants: 1 })).toMatchObject({
      maxPublishers: 1,
      maxParticipants: 1,
    });
    expect(parsePolicy({ maxPublishers: 12, maxParticipants: 25_000 })).toMatchObject({
      maxPublishers: 12,
      maxParticipants: 25_000,
    });
  });

  it("refuses values out of bounds or of the wrong type, naming the field", () => {
    for (const maxPublishers of [0, 13, 1.5, "12", null])
      expect(errorsOf({ maxPublishers })).toEqual(["/policy/maxPublishers"]);
    for (const maxParticipants of [0, 25_001, -1, 2.5, "10", null])
      expect(errorsOf({ maxParticipants })).toEqual(["/policy/maxParticipants"]);
  });
});
