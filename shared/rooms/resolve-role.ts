// Role resolution for user U in room R (docs/api.md, "Role resolution"): the first matching step wins.
import { compareRoles, roleDefinition, type Policy } from "./policy.ts";

export interface RoleInputs {
  userId: string;
  groups: readonly string[];
  isAdmin: boolean;
  ownerId: string;
  policy: Policy;
  /** The member's role, when U is a member. */
  memberRole?: string | undefined;
  /** End of U's ban (epoch ms), when U has a ban record; expired bans are ignored here. */
  bannedUntil?: number | undefined;
  now: number;
}

export type RoleDecision =
  | { kind: "role"; role: string; reason: "admin" | "owner" | "member" | "group" | "open" }
  | { kind: "banned"; until: number }
  | { kind: "forbidden" };

export function resolveRole(u: RoleInputs): RoleDecision {
  if (u.isAdmin) return { kind: "role", role: "host", reason: "admin" };
  if (u.userId === u.ownerId) return { kind: "role", role: "host", reason: "owner" };
  if (u.bannedUntil !== undefined && u.bannedUntil > u.now) return { kind: "banned", until: u.bannedUntil };
  if (u.memberRole !== undefined && roleDefinition(u.policy, u.memberRole))
    return { kind: "role", role: u.memberRole, reason: "member" };
  const mapped = u.groups
    .map((g) => (Object.hasOwn(u.policy.groupRoles, g) ? u.policy.groupRoles[g] : undefined))
    .filter((r): r is string => r !== undefined && roleDefinition(u.policy, r) !== undefined);
  if (mapped.length > 0) {
    // Strongest first; equally strong roles are told apart by name, so the order of the JWT's groups never matters.
    const strongest = mapped.reduce((best, r) => {
      const order = compareRoles(u.policy.roles[r]!, u.policy.roles[best]!);
      return order > 0 || (order === 0 && r < best) ? r : best;
    });
    return { kind: "role", role: strongest, reason: "group" };
  }
  if (u.policy.access === "open") return { kind: "role", role: u.policy.defaultRole, reason: "open" };
  return { kind: "forbidden" };
}
