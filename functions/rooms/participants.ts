// GET /rooms/{roomId}/participants?state=connected|all (anyone with a role in the room): who is on the room's stage,
// with the role and display name stagepass issued each participant (null for tokens made elsewhere). The state is at
// most 10 s old while IVS's read budget allows (`asOf` says when IVS was read); past the budget, the last known.
import { ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { participantsView } from "#shared/live/state.ts";
import { accessRoom } from "#shared/rooms/access.ts";
import { pathParameter } from "#shared/validation.ts";
import type { RoomsDeps } from "./deps.ts";

const STATES = ["connected", "all"] as const;

function stateParam(query: Record<string, string>): (typeof STATES)[number] {
  const raw = query.state;
  if (raw === undefined) return "connected";
  const found = STATES.find((s) => s === raw);
  if (!found) throw new ValidationError([{ path: "/query/state", message: `must be one of ${STATES.join(", ")}` }]);
  return found;
}

export async function listParticipantsRoute(deps: RoomsDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const which = stateParam(request.query);
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  const live = await deps.live.current(access.room, request.deadline);
  return { status: 200, body: participantsView(live.state, which) };
}
