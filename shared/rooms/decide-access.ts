// Who the caller is in a room, from what the room-access read returned: role resolution and its refusals. No
// store and no AWS client here, so that the token function (which bundles no SDK) shares it with the others.
import type { Caller } from "../auth/caller.ts";
import { BannedError, ForbiddenError, NotFoundError } from "../errors.ts";
import type { RoomAccessInputs } from "../store/room-access.ts";
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
  inputs: RoomAccessInputs;
}

/** Applies role resolution to what was read; throws 404, 403 banned or 403 forbidden. */
export function decideAccess(inputs: RoomAccessInputs, caller: Caller, now: number, roomId: string): RoomAccess {
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
  return {
    room,
    role: decision.role,
    roleDefinition,
    isModerator: roleDefinition.moderator,
    via: decision.reason,
    inputs,
  };
}
