// The moderation rules (shared/moderation/rules.ts), branch by branch: who may kick or ban whom, when the user pool
// must be asked, who may change whose membership, and which participants a change of role disconnects.
import { describe, expect, it } from "vitest";
import { ForbiddenError, ValidationError } from "../../shared/errors.ts";
import {
  checkKick,
  checkMembershipChange,
  knownAdmin,
  mustAskUserPool,
  participantsBeyondRole,
  roleToGrant,
  type IssuedParticipant,
} from "../../shared/moderation/rules.ts";
import { defaultPolicy, parsePolicy } from "../../shared/rooms/policy.ts";

const admin = { userId: "admin-1", isAdmin: true };
const moderator = { userId: "mod-1", isAdmin: false };
const owner = { userId: "owner-1", isAdmin: false };
const room = { ownerId: owner.userId, policy: defaultPolicy() };

const participant = (over: Partial<IssuedParticipant> = {}): IssuedParticipant => ({
  participantId: "p-1",
  role: "viewer",
  capabilities: ["SUBSCRIBE"],
  via: "open",
  ...over,
});

/** The message of the ForbiddenError `run` throws, or undefined when it throws nothing. */
function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return (error as ForbiddenError).detail;
  }
}

describe("knownAdmin", () => {
  it("is true when one of the target's participants was issued to them as an admin", () => {
    expect(knownAdmin(moderator, "u", [participant(), participant({ via: "admin" })])).toBe(true);
  });

  it("is true when an admin acts on themselves, known from their own JWT", () => {
    expect(knownAdmin(admin, admin.userId, [])).toBe(true);
  });

  it("is false otherwise: other participants, a non-admin acting on themselves, an admin acting on someone else", () => {
    expect(knownAdmin(moderator, "u", [participant({ via: "member" }), participant({ via: "group" })])).toBe(false);
    expect(knownAdmin(moderator, moderator.userId, [])).toBe(false);
    expect(knownAdmin(admin, "u", [])).toBe(false);
  });
});

describe("checkKick", () => {
  const anyone = { isOwner: false, isAdmin: false };
  const theOwner = { isOwner: true, isAdmin: false };
  const anAdmin = { isOwner: false, isAdmin: true };

  it("lets a moderator kick and ban anyone who is neither the owner nor an admin", () => {
    expect(refusal(() => checkKick(moderator, anyone, false))).toBeUndefined();
    expect(refusal(() => checkKick(moderator, anyone, true))).toBeUndefined();
  });

  it("refuses a moderator's kick of the owner or of an admin, with or without a ban", () => {
    for (const target of [theOwner, anAdmin]) {
      for (const ban of [false, true]) {
        expect(refusal(() => checkKick(moderator, target, ban))).toBe(
          "a moderator may not kick the room's owner or an admin",
        );
      }
    }
  });

  it("lets an admin kick the owner and other admins", () => {
    expect(refusal(() => checkKick(admin, theOwner, false))).toBeUndefined();
    expect(refusal(() => checkKick(admin, anAdmin, false))).toBeUndefined();
    expect(refusal(() => checkKick(admin, anyone, true))).toBeUndefined();
  });

  it("refuses everyone, admins included, a ban of the owner or of an admin", () => {
    expect(refusal(() => checkKick(admin, theOwner, true))).toBe("nobody can ban the room's owner or an admin");
    expect(refusal(() => checkKick(admin, anAdmin, true))).toBe("nobody can ban the room's owner or an admin");
  });
});

describe("mustAskUserPool", () => {
  const anyone = { isOwner: false, isAdmin: false };

  it("never when the room or the records already say: the owner, a known admin", () => {
    for (const caller of [admin, moderator]) {
      for (const target of [
        { isOwner: true, isAdmin: false },
        { isOwner: false, isAdmin: true },
      ]) {
        expect(mustAskUserPool(caller, target, { ban: true, targetHasParticipants: false })).toBe(false);
      }
    }
  });

  it("always before a ban, whoever bans and whatever participants the target has", () => {
    for (const caller of [admin, moderator]) {
      for (const targetHasParticipants of [false, true]) {
        expect(mustAskUserPool(caller, anyone, { ban: true, targetHasParticipants })).toBe(true);
      }
    }
  });

  it("for a moderator's kick of a user with no participant here", () => {
    expect(mustAskUserPool(moderator, anyone, { ban: false, targetHasParticipants: false })).toBe(true);
  });

  it("not for a kick of a user with participants (a kick storm never waits on the pool), nor for an admin's kick", () => {
    expect(mustAskUserPool(moderator, anyone, { ban: false, targetHasParticipants: true })).toBe(false);
    expect(mustAskUserPool(admin, anyone, { ban: false, targetHasParticipants: false })).toBe(false);
  });
});

describe("roleToGrant", () => {
  it("is the role's definition in the room's policy", () => {
    expect(roleToGrant(room.policy, "speaker")).toEqual(room.policy.roles.speaker);
  });

  it("refuses (400 on /role) a role the policy does not define, a property of every object included", () => {
    for (const role of ["guest", "constructor"]) {
      expect(() => roleToGrant(room.policy, role)).toThrow(ValidationError);
      try {
        roleToGrant(room.policy, role);
      } catch (error) {
        expect((error as ValidationError).errors).toEqual([
          { path: "/role", message: `role ${role} is not defined in this room's policy` },
        ]);
      }
    }
  });
});

describe("checkMembershipChange", () => {
  const host = room.policy.roles.host!;
  const viewer = room.policy.roles.viewer!;

  it("lets the owner and admins grant, change and remove any role, a moderator's included", () => {
    for (const caller of [owner, admin]) {
      expect(refusal(() => checkMembershipChange(caller, room, { role: "host" }, viewer))).toBeUndefined();
      expect(refusal(() => checkMembershipChange(caller, room, undefined, host))).toBeUndefined();
      expect(refusal(() => checkMembershipChange(caller, room, { role: "host" }, undefined))).toBeUndefined();
    }
  });

  it("lets a moderator grant, change and remove roles that are not moderators", () => {
    expect(refusal(() => checkMembershipChange(moderator, room, undefined, viewer))).toBeUndefined();
    expect(
      refusal(() => checkMembershipChange(moderator, room, { role: "viewer" }, room.policy.roles.speaker)),
    ).toBeUndefined();
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "speaker" }, undefined))).toBeUndefined();
  });

  it("refuses a moderator who grants a moderator role", () => {
    expect(refusal(() => checkMembershipChange(moderator, room, undefined, host))).toBe(
      "only the room's owner or an admin may grant a moderator role",
    );
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "host" }, host))).toBe(
      "only the room's owner or an admin may grant a moderator role",
    );
  });

  it("refuses a moderator who changes or removes a member holding a moderator role", () => {
    const message = "only the room's owner or an admin may change or remove a moderator";
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "host" }, viewer))).toBe(message);
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "host" }, undefined))).toBe(message);
  });

  it("treats a member whose role the policy no longer defines as holding no moderator role", () => {
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "gone" }, viewer))).toBeUndefined();
    expect(refusal(() => checkMembershipChange(moderator, room, { role: "constructor" }, undefined))).toBeUndefined();
  });
});

describe("participantsBeyondRole", () => {
  const user = "u-1";
  const publisher = (over: Partial<IssuedParticipant> = {}) =>
    participant({
      participantId: "pub",
      role: "speaker",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      via: "member",
      ...over,
    });
  const subscriber = (over: Partial<IssuedParticipant> = {}) => participant({ participantId: "sub", ...over });
  const ids = (ps: IssuedParticipant[]) => ps.map((p) => p.participantId);

  it("keeps every participant whose capabilities the member's new role still grants", () => {
    expect(
      participantsBeyondRole(room, { userId: user, memberRole: "speaker" }, [publisher(), subscriber()], 0),
    ).toEqual([]);
  });

  it("names the participants holding a capability the new role lacks", () => {
    expect(
      ids(participantsBeyondRole(room, { userId: user, memberRole: "viewer" }, [publisher(), subscriber()], 0)),
    ).toEqual(["pub"]);
  });

  it("after a removal, judges by what the room gives a non-member: an open room's default role, a members-only room nothing", () => {
    expect(
      ids(participantsBeyondRole(room, { userId: user, memberRole: undefined }, [publisher(), subscriber()], 0)),
    ).toEqual(["pub"]);
    const membersOnly = { ...room, policy: parsePolicy({ access: "members" }) };
    expect(
      ids(participantsBeyondRole(membersOnly, { userId: user, memberRole: undefined }, [publisher(), subscriber()], 0)),
    ).toEqual(["pub", "sub"]);
  });

  it("never names an admin's participants, nor the owner's while host keeps its capabilities", () => {
    const membersOnly = { ...room, policy: parsePolicy({ access: "members" }) };
    expect(
      participantsBeyondRole(membersOnly, { userId: user, memberRole: undefined }, [publisher({ via: "admin" })], 0),
    ).toEqual([]);
    expect(
      participantsBeyondRole(
        membersOnly,
        { userId: owner.userId, memberRole: undefined },
        [publisher({ via: "owner" })],
        0,
      ),
    ).toEqual([]);
  });

  it("while no membership decides, keeps a participant issued through a group mapping that the policy still has", () => {
    const mapped = { ...room, policy: parsePolicy({ access: "members", groupRoles: { band: "speaker" } }) };
    const viaGroup = publisher({ via: "group" });
    expect(participantsBeyondRole(mapped, { userId: user, memberRole: undefined }, [viaGroup], 0)).toEqual([]);
    // A member role decides alone: the group's capabilities no longer count.
    expect(ids(participantsBeyondRole(mapped, { userId: user, memberRole: "viewer" }, [viaGroup], 0))).toEqual(["pub"]);
    // A member role the policy no longer defines does not decide.
    expect(participantsBeyondRole(mapped, { userId: user, memberRole: "gone" }, [viaGroup], 0)).toEqual([]);
  });

  it("does not keep a group participant whose role no group maps any more, nor one that only claims a group's role", () => {
    const unmapped = { ...room, policy: parsePolicy({ access: "members", groupRoles: { band: "viewer" } }) };
    expect(
      ids(participantsBeyondRole(unmapped, { userId: user, memberRole: undefined }, [publisher({ via: "group" })], 0)),
    ).toEqual(["pub"]);
    const mapped = { ...room, policy: parsePolicy({ access: "members", groupRoles: { band: "speaker" } }) };
    expect(
      ids(participantsBeyondRole(mapped, { userId: user, memberRole: undefined }, [publisher({ via: "member" })], 0)),
    ).toEqual(["pub"]);
  });
});
