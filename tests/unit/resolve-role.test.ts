// Role resolution (docs/api.md, "Role resolution"): a pure function, checked step by step and tie-break by tie-break.
import { describe, expect, it } from "vitest";
import { defaultPolicy, type Policy, type RoleDefinition } from "../../shared/rooms/policy.ts";
import { resolveRole, type RoleDecision, type RoleInputs } from "../../shared/rooms/resolve-role.ts";

const NOW = Date.parse("2026-11-26T10:00:00.000Z");
const OWNER = "owner-sub";
const U = "user-sub";

const role = (
  capabilities: RoleDefinition["capabilities"],
  moderator: boolean,
  maxDurationMinutes: number,
): RoleDefinition => ({ capabilities, moderator, maxDurationMinutes });

/** A policy with the built-ins plus roles that differ in exactly one ranking criterion. */
function policy(overrides: Partial<Policy> = {}): Policy {
  const base = defaultPolicy();
  return {
    ...base,
    roles: {
      ...base.roles,
      // moderator, but fewer capabilities and a shorter life than "speaker"
      mod: role(["SUBSCRIBE"], true, 10),
      // same moderator flag and capabilities as "speaker", longer life
      longspeaker: role(["PUBLISH", "SUBSCRIBE"], false, 600),
      // identical to "viewer"
      watcher: role(["SUBSCRIBE"], false, 240),
      // publish-only: as many capabilities as "viewer" but a different one
      pub: role(["PUBLISH"], false, 240),
    },
    ...overrides,
  };
}

interface Case {
  name: string;
  given: Partial<RoleInputs>;
  expected: RoleDecision;
}

const base = (): RoleInputs => ({ userId: U, groups: [], isAdmin: false, ownerId: OWNER, policy: policy(), now: NOW });

const members = policy({ access: "members" });
const banned = NOW + 60_000;

const cases: Case[] = [
  // 1. admin → host, before everything else (admins are never banned)
  { name: "1: admin gets host", given: { isAdmin: true }, expected: { kind: "role", role: "host", reason: "admin" } },
  {
    name: "1: admin with an active ban still gets host",
    given: { isAdmin: true, bannedUntil: banned },
    expected: { kind: "role", role: "host", reason: "admin" },
  },
  {
    name: "1: admin in a members-only room where they are a viewer member",
    given: { isAdmin: true, policy: members, memberRole: "viewer" },
    expected: { kind: "role", role: "host", reason: "admin" },
  },
  {
    name: "1: admin who is also the owner is resolved as admin",
    given: { isAdmin: true, userId: OWNER },
    expected: { kind: "role", role: "host", reason: "admin" },
  },
  // 2. owner → host, never banned
  { name: "2: owner gets host", given: { userId: OWNER }, expected: { kind: "role", role: "host", reason: "owner" } },
  {
    name: "2: owner with a ban record still gets host",
    given: { userId: OWNER, bannedUntil: banned },
    expected: { kind: "role", role: "host", reason: "owner" },
  },
  {
    name: "2: owner who is also a viewer member gets host",
    given: { userId: OWNER, memberRole: "viewer", policy: members },
    expected: { kind: "role", role: "host", reason: "owner" },
  },
  // 3. active ban → banned, before membership, groups and open access
  {
    name: "3: active ban refuses in an open room",
    given: { bannedUntil: banned },
    expected: { kind: "banned", until: banned },
  },
  {
    name: "3: active ban beats membership",
    given: { bannedUntil: banned, memberRole: "host" },
    expected: { kind: "banned", until: banned },
  },
  {
    name: "3: active ban beats a group role",
    given: { bannedUntil: banned, groups: ["g"], policy: policy({ groupRoles: { g: "speaker" } }) },
    expected: { kind: "banned", until: banned },
  },
  {
    name: "3: active ban in a members-only room is banned, not forbidden",
    given: { bannedUntil: banned, policy: members },
    expected: { kind: "banned", until: banned },
  },
  {
    name: "3: a ban that ended (TTL not yet run) is ignored",
    given: { bannedUntil: NOW - 1 },
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  {
    name: "3: a ban ending exactly now is over",
    given: { bannedUntil: NOW },
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  // 4. member → member's role
  {
    name: "4: member gets their role",
    given: { memberRole: "speaker" },
    expected: { kind: "role", role: "speaker", reason: "member" },
  },
  {
    name: "4: member role beats a stronger group role",
    given: { memberRole: "viewer", groups: ["g"], policy: policy({ groupRoles: { g: "host" } }) },
    expected: { kind: "role", role: "viewer", reason: "member" },
  },
  {
    name: "4: member of a members-only room gets in",
    given: { memberRole: "watcher", policy: members },
    expected: { kind: "role", role: "watcher", reason: "member" },
  },
  {
    name: "4: a member whose role the policy no longer defines falls through to open",
    given: { memberRole: "gone" },
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  {
    name: "4: ... and to forbidden in a members-only room",
    given: { memberRole: "gone", policy: members },
    expected: { kind: "forbidden" },
  },
  {
    name: "4: a member role named like an object's own property (constructor) is no role",
    given: { memberRole: "constructor", policy: members },
    expected: { kind: "forbidden" },
  },
  // 5. groups in groupRoles → strongest of those roles
  {
    name: "5: one mapped group",
    given: { groups: ["g"], policy: policy({ groupRoles: { g: "speaker" } }) },
    expected: { kind: "role", role: "speaker", reason: "group" },
  },
  {
    name: "5: groups not in groupRoles are ignored",
    given: { groups: ["other", "g"], policy: policy({ groupRoles: { g: "speaker" } }) },
    expected: { kind: "role", role: "speaker", reason: "group" },
  },
  {
    name: "5: a group role beats open access's default role",
    given: { groups: ["g"], policy: policy({ groupRoles: { g: "pub" }, defaultRole: "speaker" }) },
    expected: { kind: "role", role: "pub", reason: "group" },
  },
  {
    name: "5: mapped group gets into a members-only room",
    given: { groups: ["g"], policy: policy({ access: "members", groupRoles: { g: "viewer" } }) },
    expected: { kind: "role", role: "viewer", reason: "group" },
  },
  {
    name: "5 tie-break: moderator beats more capabilities and a longer life",
    given: { groups: ["a", "b"], policy: policy({ groupRoles: { a: "longspeaker", b: "mod" } }) },
    expected: { kind: "role", role: "mod", reason: "group" },
  },
  {
    name: "5 tie-break: moderator wins in either group order",
    given: { groups: ["b", "a"], policy: policy({ groupRoles: { a: "longspeaker", b: "mod" } }) },
    expected: { kind: "role", role: "mod", reason: "group" },
  },
  {
    name: "5 tie-break: more capabilities beats a longer life",
    given: {
      groups: ["a", "b"],
      policy: policy({
        groupRoles: { a: "speaker", b: "watcher" },
        roles: { ...policy().roles, watcher: role(["SUBSCRIBE"], false, 20160) },
      }),
    },
    expected: { kind: "role", role: "speaker", reason: "group" },
  },
  {
    name: "5 tie-break: more capabilities, other group order",
    given: {
      groups: ["b", "a"],
      policy: policy({
        groupRoles: { a: "speaker", b: "watcher" },
        roles: { ...policy().roles, watcher: role(["SUBSCRIBE"], false, 20160) },
      }),
    },
    expected: { kind: "role", role: "speaker", reason: "group" },
  },
  {
    name: "5 tie-break: longer maxDurationMinutes wins when the rest is equal",
    given: { groups: ["a", "b"], policy: policy({ groupRoles: { a: "speaker", b: "longspeaker" } }) },
    expected: { kind: "role", role: "longspeaker", reason: "group" },
  },
  {
    name: "5 tie-break: longer life, other group order",
    given: { groups: ["b", "a"], policy: policy({ groupRoles: { a: "speaker", b: "longspeaker" } }) },
    expected: { kind: "role", role: "longspeaker", reason: "group" },
  },
  {
    name: "5 tie-break: fully equal roles resolve the same whatever the group order (a)",
    given: { groups: ["a", "b"], policy: policy({ groupRoles: { a: "watcher", b: "viewer" } }) },
    expected: { kind: "role", role: "viewer", reason: "group" },
  },
  {
    name: "5 tie-break: fully equal roles resolve the same whatever the group order (b)",
    given: { groups: ["b", "a"], policy: policy({ groupRoles: { a: "watcher", b: "viewer" } }) },
    expected: { kind: "role", role: "viewer", reason: "group" },
  },
  {
    name: "5: three groups, the host mapping wins",
    given: { groups: ["x", "y", "z"], policy: policy({ groupRoles: { x: "viewer", y: "host", z: "longspeaker" } }) },
    expected: { kind: "role", role: "host", reason: "group" },
  },
  {
    name: "5: a mapping to a role the policy lacks is ignored",
    given: { groups: ["g"], policy: policy({ groupRoles: { g: "nope" } }) },
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  {
    name: "5: ... a role named constructor included",
    given: { groups: ["g"], policy: policy({ groupRoles: { g: "constructor" } }) },
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  {
    name: "5: inherited object keys are not group mappings",
    given: { groups: ["constructor", "__proto__", "toString"], policy: members },
    expected: { kind: "forbidden" },
  },
  // 6. open → defaultRole
  {
    name: "6: open room gives the default role",
    given: {},
    expected: { kind: "role", role: "viewer", reason: "open" },
  },
  {
    name: "6: open room with another default role",
    given: { policy: policy({ defaultRole: "speaker" }) },
    expected: { kind: "role", role: "speaker", reason: "open" },
  },
  // 7. otherwise forbidden
  {
    name: "7: stranger in a members-only room is forbidden",
    given: { policy: members },
    expected: { kind: "forbidden" },
  },
  {
    name: "7: stranger with unmapped groups in a members-only room is forbidden",
    given: { groups: ["g"], policy: members },
    expected: { kind: "forbidden" },
  },
];

describe("resolveRole", () => {
  it.each(cases)("$name", ({ given, expected }) => {
    expect(resolveRole({ ...base(), ...given })).toEqual(expected);
  });

  it("never answers banned for an admin or the owner, whatever else holds", () => {
    for (const who of [{ isAdmin: true }, { userId: OWNER }]) {
      for (const p of [policy(), members]) {
        const d = resolveRole({
          ...base(),
          ...who,
          policy: p,
          bannedUntil: NOW + 1,
          memberRole: "viewer",
          groups: ["g"],
        });
        expect(d).toMatchObject({ kind: "role", role: "host" });
      }
    }
  });

  it("is pure: the same answer twice, and its inputs left unchanged", () => {
    const inputs = {
      ...base(),
      groups: ["a", "b"],
      policy: policy({ groupRoles: { a: "speaker", b: "longspeaker" } }),
    };
    const frozen = structuredClone(inputs);
    expect(resolveRole(inputs)).toEqual(resolveRole(inputs));
    expect(inputs).toEqual(frozen);
  });
});
