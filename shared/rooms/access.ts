// Who the caller is in a room: one read of the room, the caller's membership and ban, then role resolution.
import type { Caller } from "../auth/caller.ts";
import { BannedError, ForbiddenError, NotFoundError } from "../errors.ts";
import type { Db } from "../store/db.ts";
import { readTokenDecisionInputs, type TokenDecisionInputs } from "../store/participants.ts";
import type { RoleDefinition } from "./policy.ts";
import { resolveRole } from "./resolve-role.ts";
import type { RoomRecord } from "./room.ts";

export interface RoomAccess {
  room: RoomRecord;
  role: string;
  roleDefinition: RoleDefinition;
  isModerator: boolean;
  /** How the role was granted (admin, owner, member, group, open). */
  via: "admin" | "owner" | "member" | "group" | "open";
  inputs: TokenDecisionInputs;
}

/** Applies role resolution to what was read; throws 404, 403 banned or 403 forbidden. */
export function decideAccess(inputs: TokenDecisionInputs, caller: Caller, now: number, roomId: string): RoomAccess {
  const room = inputs.room;
  if (!room) throw new NotFoundError(`room ${roomId} does not exist`);
  const decision = resolveRole({
    userId: caller.userId,
    groups: caller.groups,
    isAdmin: caller.isAdmin,
    ownerId: room.ownerId,
    policy: room.policy,
    memberRole: inputs.memberRole,
    bannedUntil: inputs.ban?.untilMs,
    now,
  });
  if (decision.kind === "banned") throw new BannedError(new Date(decision.until).toISOString());
  if (decision.kind === "forbidden") throw new ForbiddenError("you have no role in this room");
  const roleDefinition = room.policy.roles[decision.role]!;
  return { room, role: decision.role, roleDefinition, isModerator: roleDefinition.moderator, via: decision.reason, inputs };
}

export async function accessRoom(db: Db, roomId: string, caller: Caller, now: number): Promise<RoomAccess> {
  return decideAccess(await readTokenDecisionInputs(db, roomId, caller.userId, now), caller, now, roomId);
}

export function requireModerator(access: RoomAccess): void {
  if (!access.isModerator) throw new ForbiddenError(`role ${access.role} is not a moderator of this room`);
}

/** Owner or admin: the only ones who may delete the room or touch a moderator's membership. */
export function isOwnerOrAdmin(access: RoomAccess, caller: Caller): boolean {
  return caller.isAdmin || access.room.ownerId === caller.userId;
}
