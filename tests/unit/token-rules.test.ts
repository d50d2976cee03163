// The token request's rules (shared/token/rules.ts) as plain functions: capabilities, duration and attributes,
// at and around their bounds. The same rules are exercised through the offline stack in tests/e2e/token.test.ts.
import { describe, expect, it } from "vitest";
import type { Caller } from "../../shared/auth/caller.ts";
import { ForbiddenError, ValidationError } from "../../shared/errors.ts";
import { defaultPolicy, type Policy } from "../../shared/rooms/policy.ts";
import { MAX_ATTRIBUTES_BYTES, planToken, tokenInput } from "../../shared/token/rules.ts";
import { validate } from "../../shared/validation.ts";

const caller: Caller = {
  userId: "3f0c2d7e-1111-4222-a333-444455556666",
  displayName: "ana",
  groups: [],
  isAdmin: false,
};
const policy: Policy = defaultPolicy();
const viewer = { name: "viewer", definition: policy.roles.viewer! };
const host = { name: "host", definition: policy.roles.host! };
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), "utf8");

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

/** An avatarUrl that makes the final attributes exactly `total` bytes, filled with `unit` (any UTF-8 width). */
function avatarFor(total: number, unit: string, displayName = caller.displayName, role = "viewer"): string {
  const base = bytes({ avatarUrl: "", role, displayName });
  const room = total - base;
  const width = Buffer.byteLength(unit, "utf8");
  const fill = unit.repeat(Math.floor(room / width));
  return fill + "a".repeat(room - Buffer.byteLength(fill, "utf8"));
}

describe("capabilities", () => {
  it("defaults to all of the role's capabilities, sorted", () => {
    expect(planToken({}, host, policy, caller).capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
    expect(planToken({}, viewer, policy, caller).capabilities).toEqual(["SUBSCRIBE"]);
    expect(planToken({ capabilities: ["SUBSCRIBE", "PUBLISH"] }, host, policy, caller).capabilities).toEqual([
      "PUBLISH",
      "SUBSCRIBE",
    ]);
  });

  it("refuses a capability the role lacks with 403 naming it", () => {
    const error = thrown(() => planToken({ capabilities: ["SUBSCRIBE", "PUBLISH"] }, viewer, policy, caller));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).detail).toContain("PUBLISH");
    expect((error as ForbiddenError).detail).not.toContain("SUBSCRIBE");
  });

  it("gives no token for a role without capabilities (IVS would read an empty list as both)", () => {
    const none = { name: "lurker", definition: { capabilities: [], moderator: false, maxDurationMinutes: 60 } };
    expect(thrown(() => planToken({}, none, policy, caller))).toBeInstanceOf(ForbiddenError);
  });

  it("rejects an empty, repeated or unknown capability list as input", () => {
    for (const capabilities of [[], ["PUBLISH", "PUBLISH"], ["RECORD"], "PUBLISH", [1]]) {
      expect(thrown(() => validate(tokenInput, { capabilities }))).toBeInstanceOf(ValidationError);
    }
  });
});

describe("duration", () => {
  it("defaults to min(defaultDurationMinutes, role max)", () => {
    expect(planToken({}, viewer, policy, caller).durationMinutes).toBe(60);
    expect(planToken({}, viewer, { ...policy, defaultDurationMinutes: 500 }, caller).durationMinutes).toBe(240);
  });

  it("accepts 1 and the role's max, refuses 0, max + 1 and non-integers", () => {
    expect(planToken({ durationMinutes: 1 }, viewer, policy, caller).durationMinutes).toBe(1);
    expect(planToken({ durationMinutes: 240 }, viewer, policy, caller).durationMinutes).toBe(240);
    expect(planToken({ durationMinutes: 720 }, host, policy, caller).durationMinutes).toBe(720);
    const over = thrown(() => planToken({ durationMinutes: 241 }, viewer, policy, caller)) as ValidationError;
    expect(over).toBeInstanceOf(ValidationError);
    expect(over.errors[0]!.path).toBe("/durationMinutes");
    expect(thrown(() => planToken({ durationMinutes: 721 }, host, policy, caller))).toBeInstanceOf(ValidationError);
    for (const durationMinutes of [0, -1, 1.5, 20161, "60", null]) {
      expect(thrown(() => validate(tokenInput, { durationMinutes }))).toBeInstanceOf(ValidationError);
    }
  });
});

describe("attributes", () => {
  it("adds role and displayName (from the caller unless given)", () => {
    expect(planToken({}, viewer, policy, caller).attributes).toEqual({ role: "viewer", displayName: "ana" });
    expect(
      planToken({ attributes: { displayName: "Ana B", avatarUrl: "https://x/a.png" } }, viewer, policy, caller)
        .attributes,
    ).toEqual({ displayName: "Ana B", avatarUrl: "https://x/a.png", role: "viewer" });
  });

  it("refuses a key the policy does not allow, and any attempt to set role", () => {
    const notAllowed = thrown(() =>
      planToken({ attributes: { email: "a@b.c" } }, viewer, policy, caller),
    ) as ValidationError;
    expect(notAllowed).toBeInstanceOf(ValidationError);
    expect(notAllowed.errors).toEqual([{ path: "/attributes/email", message: expect.any(String) }]);
    const role = thrown(() => planToken({ attributes: { role: "host" } }, viewer, policy, caller)) as ValidationError;
    expect(role.errors).toEqual([{ path: "/attributes/role", message: expect.any(String) }]);
    // Even when a policy lists "role" among its allowed keys, the service's value wins: it is refused.
    const lax = { ...policy, allowedAttributes: [...policy.allowedAttributes, "role"] };
    expect(thrown(() => planToken({ attributes: { role: "host" } }, viewer, lax, caller))).toBeInstanceOf(
      ValidationError,
    );
    // displayName is the client's only when the policy allows the key.
    const strict = { ...policy, allowedAttributes: ["avatarUrl"] };
    expect(thrown(() => planToken({ attributes: { displayName: "x" } }, viewer, strict, caller))).toBeInstanceOf(
      ValidationError,
    );
  });

  it("allows exactly 1024 bytes of UTF-8 JSON and refuses 1025, counting multi-byte characters as bytes", () => {
    for (const unit of ["a", "é", "€", "😀"]) {
      const ok = planToken(
        { attributes: { avatarUrl: avatarFor(MAX_ATTRIBUTES_BYTES, unit) } },
        viewer,
        policy,
        caller,
      );
      expect(bytes(ok.attributes)).toBe(1024);
      const over = thrown(() =>
        planToken({ attributes: { avatarUrl: avatarFor(MAX_ATTRIBUTES_BYTES + 1, unit) } }, viewer, policy, caller),
      ) as ValidationError;
      expect(over).toBeInstanceOf(ValidationError);
      expect(over.errors[0]!.path).toBe("/attributes");
    }
    // 300 four-byte characters are 600 UTF-16 units but 1200 bytes: too many.
    expect(
      thrown(() => planToken({ attributes: { avatarUrl: "😀".repeat(300) } }, viewer, policy, caller)),
    ).toBeInstanceOf(ValidationError);
  });

  it("counts the display name taken from the JWT in the limit", () => {
    const long = { ...caller, displayName: "n".repeat(128) };
    const avatar = avatarFor(MAX_ATTRIBUTES_BYTES, "a");
    // Fits with the short name, but not once the caller's long display name is added.
    expect(bytes(planToken({ attributes: { avatarUrl: avatar } }, viewer, policy, caller).attributes)).toBe(1024);
    expect(thrown(() => planToken({ attributes: { avatarUrl: avatar } }, viewer, policy, long))).toBeInstanceOf(
      ValidationError,
    );
  });

  it("counts JSON escaping as the bytes it takes", () => {
    // A quote is one character but two bytes of JSON.
    const base = bytes({ avatarUrl: "", role: "viewer", displayName: "ana" });
    const quotes = '"'.repeat(Math.floor((1024 - base) / 2));
    const at = bytes({ avatarUrl: quotes, role: "viewer", displayName: "ana" });
    const fits = planToken({ attributes: { avatarUrl: quotes + "a".repeat(1024 - at) } }, viewer, policy, caller);
    expect(bytes(fits.attributes)).toBe(1024);
    expect(thrown(() => planToken({ attributes: { avatarUrl: `${quotes}"` } }, viewer, policy, caller))).toBeInstanceOf(
      ValidationError,
    );
  });

  it("rejects non-string values and unknown body fields as input", () => {
    for (const body of [
      { attributes: { avatarUrl: 1 } },
      { attributes: [] },
      { attributes: { "": "x" } },
      { foo: 1 },
      [],
      "x",
    ]) {
      expect(thrown(() => validate(tokenInput, body))).toBeInstanceOf(ValidationError);
    }
  });
});
