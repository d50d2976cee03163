// Who the caller is in a room: one read of the room, the caller's membership and ban, then role resolution.
import type { Caller } from "../auth/caller.ts";
import { ForbiddenError } from "../errors.ts";
import type { Db } from "../store/db.ts";
import { documentReads } from "../store/document-table.ts";
import { readRoomAccess } from "../store/room-access.ts";
import { decideAccess, type RoomAccess } from "./decide-access.ts";

export type { RoomAccess } from "./decide-access.ts";

export async function accessRoom(db: Db, roomId: string, caller: Caller, now: number): Promise<RoomAccess> {
  return decideAccess(await readRoomAccess(documentReads(db), roomId, caller.userId, now), caller, now, roomId);
}

export function requireModerator(access: RoomAccess): void {
  if (!access.isModerator) throw new ForbiddenError(`role ${access.role} is not a moderator of this room`);
}

/** Owner or admin: the only ones who may delete the room or touch a moderator's membership. */
export function isOwnerOrAdmin(access: RoomAccess, caller: Caller): boolean {
  return caller.isAdmin || access.room.ownerId === caller.userId;
}
