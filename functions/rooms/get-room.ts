// GET /rooms/{roomId}: the room with its live state from IVS GetStage, cached briefly (GetStage: 5/s per account).
import { getStage, StageNotFoundError } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom } from "#shared/rooms/access.ts";
import { pathParameter } from "#shared/validation.ts";
import { roomView, type LiveState } from "./view.ts";

const LIVE_STATE_TTL_MS = 10_000;
const liveCache = new Map<string, { at: number; state: LiveState }>();

export async function getRoomRoute(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  const live = await liveState(deps, access.room.stageArn, request.deadline);
  return { status: 200, body: roomView(access.room, access.role, access.isModerator, live) };
}

/** Whether anyone is on stage. A stage deleted behind the room's back has nobody on it: the room still answers. */
export async function liveState(deps: Deps, stageArn: string, deadline: number): Promise<LiveState> {
  const cached = liveCache.get(stageArn);
  if (cached && deps.now() - cached.at < LIVE_STATE_TTL_MS) return cached.state;
  const stage = await getStage(deps.ivs, stageArn, deadline).catch((error: unknown) => {
    if (error instanceof StageNotFoundError) return undefined;
    throw error;
  });
  const state = { activeSessionId: stage?.activeSessionId ?? null };
  if (liveCache.size > 1_000) liveCache.clear();
  liveCache.set(stageArn, { at: deps.now(), state });
  return state;
}
