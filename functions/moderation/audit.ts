// GET /rooms/{roomId}/audit (moderators; admins also for 90 days after the room was deleted), newest first.
import type { DepsWithQueue } from "#shared/deps.ts";
import { ForbiddenError, NotFoundError } from "#shared/errors.ts";
import { decodeCursor, encodeCursor, limitParam } from "#shared/http/query.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom, requireModerator } from "#shared/rooms/access.ts";
import { AUDIT_RETENTION_AFTER_DELETE_MS, isAuditPosition, listAudit, roomDeletedAt } from "#shared/store/audit.ts";
import { getRoom } from "#shared/store/rooms.ts";
import { pathParameter } from "#shared/validation.ts";

export async function listAuditRoute(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const limit = limitParam(request.query, 50);
  // The cursor keeps its field name `sk`, so that cursors already handed out stay valid.
  const after = decodeCursor(request.query.nextToken, (v) => (isAuditPosition(v.sk) ? v.sk : undefined));
  const now = deps.now();
  const room = await getRoom(deps.db, roomId);
  if (room) {
    requireModerator(await accessRoom(deps.db, roomId, request.caller, now));
  } else {
    const deletedAt = await roomDeletedAt(deps.db, roomId);
    if (deletedAt === undefined || now - deletedAt > AUDIT_RETENTION_AFTER_DELETE_MS)
      throw new NotFoundError(`room ${roomId} does not exist`);
    if (!request.caller.isAdmin) throw new ForbiddenError("only admins may read the audit trail of a deleted room");
  }
  const page = await listAudit(deps.db, roomId, limit, after);
  return {
    status: 200,
    body: { entries: page.entries, ...(page.next ? { nextToken: encodeCursor({ sk: page.next }) } : {}) },
  };
}
