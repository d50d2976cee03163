// GET /admin/stages (admins): every stage of the account and region, with the room that owns it or null.
import { listStages } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import { ForbiddenError } from "#shared/errors.ts";
import { decodeCursor, encodeCursor, limitParam } from "#shared/http/query.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { stageIdOf } from "#shared/rooms/room.ts";
import { getRooms } from "#shared/store/rooms.ts";

export async function listAdminStages(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  if (!request.caller.isAdmin) throw new ForbiddenError("only admins may list the account's stages");
  const limit = limitParam(request.query, 50);
  const ivsToken = decodeCursor(request.query.nextToken, (v) =>
    typeof v.ivs === "string" && v.ivs.length > 0 && v.ivs.length <= 1024 ? v.ivs : undefined,
  );
  const page = await listStages(deps.ivs, limit, ivsToken, request.deadline);
  const rooms = await getRooms(
    deps.db,
    page.stages.map((s) => stageIdOf(s.stageArn)),
  );
  const owned = new Set(rooms.map((r) => r.roomId));
  const stages = page.stages.map((s) => ({
    stageArn: s.stageArn,
    name: s.name,
    activeSessionId: s.activeSessionId,
    tags: s.tags,
    roomId: owned.has(stageIdOf(s.stageArn)) ? stageIdOf(s.stageArn) : null,
  }));
  return {
    status: 200,
    body: { stages, ...(page.nextToken ? { nextToken: encodeCursor({ ivs: page.nextToken }) } : {}) },
  };
}
