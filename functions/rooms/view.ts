// The room as responses show it: policy and tags to moderators only (keys omitted, never null).
import { isLive, liveCounts, type LiveState } from "#shared/live/state.ts";
import type { RoomRecord } from "#shared/rooms/room.ts";

export interface LiveView {
  activeSessionId: string | null;
  counts: { connected: number; publishing: number };
}

export const NOT_LIVE: LiveView = { activeSessionId: null, counts: { connected: 0, publishing: 0 } };

export const liveView = (state: LiveState): LiveView => ({
  activeSessionId: isLive(state) ? state.sessionId : null,
  counts: liveCounts(state),
});

export function roomView(room: RoomRecord, yourRole: string, isModerator: boolean, live?: LiveView) {
  return {
    roomId: room.roomId,
    stageArn: room.stageArn,
    name: room.name,
    ...(room.title !== undefined ? { title: room.title } : {}),
    ownerId: room.ownerId,
    createdAt: room.createdAt,
    updatedAt: room.updatedAt,
    ...(live
      ? { activeSessionId: live.activeSessionId, live: live.activeSessionId !== null, counts: live.counts }
      : {}),
    yourRole,
    ...(isModerator ? { policy: room.policy, tags: room.tags } : {}),
  };
}
