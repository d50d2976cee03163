// The room policy: defaults, roles merged key by key over the built-ins, and every rule that makes one invalid.
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../shared/errors.ts";
import { BUILT_IN_ROLES, compareRoles, defaultPolicy, parsePolicy } from "../../shared/rooms/policy.ts";
import { CONTRACT_DEFAULT_POLICY } from "../support/contract.ts";

const DEFAULT = CONTRACT_DEFAULT_POLICY;

function errorsOf(value: unknown): Array<{ path: string; message: string }> {
  try {
    parsePolicy(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}

describe("policy defaults", () => {
  it("are docs/api.md's", () => {
    expect(defaultPolicy()).toEqual(DEFAULT);
    expect(parsePolicy({})).toEqual(DEFAULT);
  });

  it("are a fresh copy each time (a caller's change does not leak into the built-ins)", () => {
    const p = defaultPolicy();
    p.roles.host!.capabilities.pop();
    p.allowedAttributes.push("x");
    expect(defaultPolicy()).toEqual(DEFAULT);
    expect(BUILT_IN_ROLES.host!.capabilities).toEqual(["PUBLISH", "SUBSCRIBE"]);
  });

  it("fill every field not given", () => {
    expect(parsePolicy({ access: "members", defaultDurationMinutes: 30 })).toEqual({
      ...DEFAULT,
      access: "members",
      defaultDurationMinutes: 30,
    });
  });
});

describe("roles merge key by key over the built-ins", () => {
  it("a new role is added and the built-ins stay", () => {
    const p = parsePolicy({ roles: { guest: { capabilities: ["SUBSCRIBE"], maxDurationMinutes: 30 } } });
    expect(Object.keys(p.roles).sort()).toEqual(["guest", "host", "speaker", "viewer"]);
    expect(p.roles.guest).toEqual({ capabilities: ["SUBSCRIBE"], moderator: false, maxDurationMinutes: 30 });
  });

  it("a built-in can be redefined; the fields not given keep the built-in's values", () => {
    const p = parsePolicy({ roles: { viewer: { maxDurationMinutes: 20160 }, speaker: { capabilities: ["PUBLISH"] } } });
    expect(p.roles.viewer).toEqual({ capabilities: ["SUBSCRIBE"], moderator: false, maxDurationMinutes: 20160 });
    expect(p.roles.speaker).toEqual({ capabilities: ["PUBLISH"], moderator: false, maxDurationMinutes: 240 });
    expect(p.roles.host).toEqual(DEFAULT.roles.host);
  });

  it("host may be changed but stays a moderator", () => {
    expect(parsePolicy({ roles: { host: { maxDurationMinutes: 60, moderator: true } } }).roles.host).toEqual({
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      moderator: true,
      maxDurationMinutes: 60,
    });
    expect(errorsOf({ roles: { host: { moderator: false } } })).toEqual([
      expect.objectContaining({ path: "/policy/roles/host/moderator" }),
    ]);
  });

  it("a custom moderator role and group mappings to any defined role are accepted", () => {
    const p = parsePolicy({
      access: "members",
      defaultRole: "guest",
      roles: { guest: {}, mod: { moderator: true, capabilities: ["SUBSCRIBE"] } },
      groupRoles: { staff: "mod", "Band Members": "speaker" },
    });
    expect(p.defaultRole).toBe("guest");
    expect(p.roles.mod).toEqual({ capabilities: ["SUBSCRIBE"], moderator: true, maxDurationMinutes: 240 });
    expect(p.groupRoles).toEqual({ staff: "mod", "Band Members": "speaker" });
  });
});

describe("invalid policies are rejected with the path of each problem", () => {
  const cases: Array<[string, unknown, string]> = [
    ["not an object", [], "/policy"],
    ["null", null, "/policy"],
    ["an unknown field", { acess: "open" }, "/policy/acess"],
    ["an unknown access", { access: "private" }, "/policy/access"],
    ["a defaultRole it does not define", { defaultRole: "guest" }, "/policy/defaultRole"],
    ["a defaultRole that is no role name", { defaultRole: "Guest" }, "/policy/defaultRole"],
    ["a group mapped to a role it does not define", { groupRoles: { staff: "mod" } }, "/policy/groupRoles/staff"],
    ["a defaultRole named like an object's own property", { defaultRole: "constructor" }, "/policy/defaultRole"],
    [
      "a group mapped to a role named like an object's own property",
      { groupRoles: { staff: "constructor" } },
      "/policy/groupRoles/staff",
    ],
    ["a group mapped to a non-string", { groupRoles: { staff: 1 } }, "/policy/groupRoles/staff"],
    ["an empty group name", { groupRoles: { "": "viewer" } }, "/policy/groupRoles/"],
    ["a role name with capitals", { roles: { Guest: {} } }, "/policy/roles/Guest"],
    ["a role name starting with a digit", { roles: { "1x": {} } }, "/policy/roles/1x"],
    ["a role name of 33 characters", { roles: { ["a".repeat(33)]: {} } }, `/policy/roles/${"a".repeat(33)}`],
    [
      "an unknown capability",
      { roles: { guest: { capabilities: ["SUBSCRIBE", "ADMIN"] } } },
      "/policy/roles/guest/capabilities/1",
    ],
    [
      "a repeated capability",
      { roles: { guest: { capabilities: ["SUBSCRIBE", "SUBSCRIBE"] } } },
      "/policy/roles/guest/capabilities",
    ],
    ["no capability at all", { roles: { guest: { capabilities: [] } } }, "/policy/roles/guest/capabilities"],
    ["maxDurationMinutes 0", { roles: { guest: { maxDurationMinutes: 0 } } }, "/policy/roles/guest/maxDurationMinutes"],
    [
      "maxDurationMinutes 20161",
      { roles: { viewer: { maxDurationMinutes: 20161 } } },
      "/policy/roles/viewer/maxDurationMinutes",
    ],
    [
      "maxDurationMinutes not whole",
      { roles: { viewer: { maxDurationMinutes: 1.5 } } },
      "/policy/roles/viewer/maxDurationMinutes",
    ],
    ["moderator not a boolean", { roles: { viewer: { moderator: "no" } } }, "/policy/roles/viewer/moderator"],
    ["an unknown role field", { roles: { viewer: { canKick: true } } }, "/policy/roles/viewer/canKick"],
    ["defaultDurationMinutes 0", { defaultDurationMinutes: 0 }, "/policy/defaultDurationMinutes"],
    ["defaultDurationMinutes 20161", { defaultDurationMinutes: 20161 }, "/policy/defaultDurationMinutes"],
    ["defaultDurationMinutes as a string", { defaultDurationMinutes: "60" }, "/policy/defaultDurationMinutes"],
    ["allowedAttributes not a list", { allowedAttributes: "displayName" }, "/policy/allowedAttributes"],
    ["a repeated allowed attribute", { allowedAttributes: ["a", "a"] }, "/policy/allowedAttributes"],
  ];
  it.each(cases)("%s", (_name, value, path) => {
    const errors = errorsOf(value);
    expect(errors.map((e) => e.path)).toContain(path);
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it("bounds are inclusive: 1 and 20160 minutes are accepted", () => {
    const p = parsePolicy({
      defaultDurationMinutes: 20160,
      roles: { viewer: { maxDurationMinutes: 1 }, host: { maxDurationMinutes: 20160 } },
    });
    expect(p.roles.viewer!.maxDurationMinutes).toBe(1);
    expect(p.roles.host!.maxDurationMinutes).toBe(20160);
  });

  it("a __proto__ role name neither passes nor pollutes", () => {
    const errors = errorsOf(JSON.parse('{"roles":{"__proto__":{"moderator":true}}}'));
    expect(errors.length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).moderator).toBeUndefined();
  });
});

describe("compareRoles ranks for group mapping", () => {
  it("moderator, then more capabilities, then longer maxDurationMinutes", () => {
    const r = (moderator: boolean, n: 1 | 2, minutes: number) => ({
      moderator,
      capabilities: n === 2 ? (["PUBLISH", "SUBSCRIBE"] as const) : (["SUBSCRIBE"] as const),
      maxDurationMinutes: minutes,
    });
    const cmp = (a: ReturnType<typeof r>, b: ReturnType<typeof r>) =>
      Math.sign(compareRoles({ ...a, capabilities: [...a.capabilities] }, { ...b, capabilities: [...b.capabilities] }));
    expect(cmp(r(true, 1, 1), r(false, 2, 20160))).toBe(1);
    expect(cmp(r(false, 2, 1), r(false, 1, 20160))).toBe(1);
    expect(cmp(r(false, 1, 241), r(false, 1, 240))).toBe(1);
    expect(cmp(r(false, 1, 240), r(false, 1, 240))).toBe(0);
    expect(cmp(r(false, 1, 240), r(true, 1, 240))).toBe(-1);
  });
});
