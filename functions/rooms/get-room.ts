// GET /rooms/{roomId}: the room with its live state (session and counts), as kept from IVS's events and reads
// (shared/live): at most 10 s old while IVS's read budget allows, whoever and however many ask. A stage deleted
// behind the room's back has nobody on it: the room still answers.
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom } from "#shared/rooms/access.ts";
import { pathParameter } from "#shared/validation.ts";
import type { RoomsDeps } from "./deps.ts";
import { liveView, roomView } from "./view.ts";

export async function getRoomRoute(deps: RoomsDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  const live = await deps.live.current(access.room, request.deadline);
  return { status: 200, body: roomView(access.room, access.role, access.isModerator, liveView(live.state)) };
}
