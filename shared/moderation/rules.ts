// The moderation rules as plain functions: who may kick or ban whom, who may change whose membership, and which
// participants a change of role disconnects. docs/api.md, "Moderation" and "Members"; unit tests:
// tests/unit/moderation-rules.test.ts.
import type { Caller } from "../auth/caller.ts";
import { ForbiddenError, ValidationError } from "../errors.ts";
import { roleDefinition, type Capability, type Policy, type RoleDefinition } from "../rooms/policy.ts";
import { resolveRole } from "../rooms/resolve-role.ts";

/** The user a kick or ban is aimed at, as far as the room and the records read so far tell. */
export interface KickTarget {
  /** The room's owner. */
  isOwner: boolean;
  /** Known to be an admin (before the user pool is asked: from the participant records or the caller's own JWT). */
  isAdmin: boolean;
}

/** A participant as its record shows it: what it was issued with, and how its role was granted. */
export interface IssuedParticipant {
  participantId: string;
  role: string;
  capabilities: Capability[];
  via: string;
}

/**
 * Whether the target is known to be an admin from what was read: a participant issued to them as an admin, or the
 * caller acting on themselves with an admin's JWT.
 */
export function knownAdmin(
  caller: Pick<Caller, "userId" | "isAdmin">,
  targetUserId: string,
  participants: readonly Pick<IssuedParticipant, "via">[],
): boolean {
  return participants.some((p) => p.via === "admin") || (targetUserId === caller.userId && caller.isAdmin);
}

/**
 * Nobody kicks the room's owner or an admin except an admin, and nobody bans them (403). Called with what is known,
 * then again once the user pool has said whether the target is an admin (see mustAskUserPool).
 */
export function checkKick(caller: Pick<Caller, "isAdmin">, target: KickTarget, ban: boolean): void {
  const protectedUser = target.isOwner || target.isAdmin;
  if (protectedUser && !caller.isAdmin)
    throw new ForbiddenError("a moderator may not kick the room's owner or an admin");
  if (protectedUser && ban) throw new ForbiddenError("nobody can ban the room's owner or an admin");
}

/**
 * Whether the user pool must be asked if the target is an admin before checkKick can decide. Not when the room or
 * the records already say (owner, known admin). Yes before a ban: an admin who never took a token here must not be
 * banned either. Yes for a moderator's kick of a user with no participant here, whom nothing else describes. Never
 * for any other kick: a kick of a user with participants (a kick storm) does not wait on the user pool.
 */
export function mustAskUserPool(
  caller: Pick<Caller, "isAdmin">,
  target: KickTarget,
  kick: { ban: boolean; targetHasParticipants: boolean },
): boolean {
  if (target.isOwner || target.isAdmin) return false;
  return kick.ban || (!caller.isAdmin && !kick.targetHasParticipants);
}

/** The role a member is to be given: it must exist in the room's policy (400). */
export function roleToGrant(policy: Policy, role: string): RoleDefinition {
  const definition = roleDefinition(policy, role);
  if (!definition)
    throw new ValidationError([{ path: "/role", message: `role ${role} is not defined in this room's policy` }]);
  return definition;
}

/**
 * Moderators manage members; only the room's owner or an admin may grant a moderator role, or change or remove a
 * member who holds one (403). `granted` is the new role's definition, undefined when the member is removed.
 */
export function checkMembershipChange(
  caller: Pick<Caller, "userId" | "isAdmin">,
  room: { ownerId: string; policy: Policy },
  existing: { role: string } | undefined,
  granted: RoleDefinition | undefined,
): void {
  if (caller.isAdmin || caller.userId === room.ownerId) return;
  if (granted?.moderator) throw new ForbiddenError("only the room's owner or an admin may grant a moderator role");
  if (existing && roleDefinition(room.policy, existing.role)?.moderator)
    throw new ForbiddenError("only the room's owner or an admin may change or remove a moderator");
}

/**
 * After a change of the user's membership (`memberRole`, undefined once removed): the user's participants that hold a
 * capability the user's role no longer grants, which are disconnected at once. The user's groups live in their JWT,
 * not here: the role is resolved from membership and the room, and while no membership decides, a participant issued
 * through a group mapping keeps the capabilities of a role that some group still maps to. Participants issued to an
 * admin are left alone (admins are host everywhere).
 */
export function participantsBeyondRole(
  room: { ownerId: string; policy: Policy },
  user: { userId: string; memberRole: string | undefined },
  participants: readonly IssuedParticipant[],
  now: number,
): IssuedParticipant[] {
  const { policy } = room;
  const decision = resolveRole({
    userId: user.userId,
    groups: [],
    isAdmin: false,
    ownerId: room.ownerId,
    policy,
    memberRole: user.memberRole,
    now,
  });
  const allowed = new Set<Capability>(decision.kind === "role" ? policy.roles[decision.role]!.capabilities : []);
  if (user.memberRole === undefined || !roleDefinition(policy, user.memberRole)) {
    const mapped = new Set(Object.values(policy.groupRoles));
    for (const p of participants) {
      if (p.via === "group" && mapped.has(p.role))
        for (const c of roleDefinition(policy, p.role)?.capabilities ?? []) allowed.add(c);
    }
  }
  return participants.filter((p) => p.via !== "admin" && p.capabilities.some((c) => !allowed.has(c)));
}
