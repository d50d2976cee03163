// The room as responses show it: policy and tags to moderators only (keys omitted, never null).
import type { RoomRecord } from "#shared/rooms/room.ts";

export interface LiveState {
  activeSessionId: string | null;
}

export function roomView(room: RoomRecord, yourRole: string, isModerator: boolean, live?: LiveState) {
  return {
    roomId: room.roomId,
    stageArn: room.stageArn,
    name: room.name,
    ...(room.title !== undefined ? { title: room.title } : {}),
    ownerId: room.ownerId,
    createdAt: room.createdAt,
    updatedAt: room.updatedAt,
    ...(live ? { activeSessionId: live.activeSessionId, live: live.activeSessionId !== null } : {}),
    yourRole,
    ...(isModerator ? { policy: room.policy, tags: room.tags } : {}),
  };
}
