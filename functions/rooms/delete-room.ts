// DELETE /rooms/{roomId} (owner or admin): the stage goes (everyone is disconnected), then every record of the
// room except its audit trail, which admins can read for 90 more days.
import { deleteStage } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import { ForbiddenError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom, isOwnerOrAdmin } from "#shared/rooms/access.ts";
import { appendAudit, markAuditOfDeletedRoom } from "#shared/store/audit.ts";
import { deleteRoomItems } from "#shared/store/rooms.ts";
import { pathParameter } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";

export async function deleteRoom(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  if (!isOwnerOrAdmin(access, request.caller))
    throw new ForbiddenError("only the room's owner or an admin may delete it");
  await deleteStage(deps.ivs, access.room.stageArn, request.deadline);
  const now = deps.now();
  // The audit first: if a later step fails, a retry finds the room again and finishes the job.
  await appendAudit(deps.db, roomId, {
    at: new Date(now).toISOString(),
    actor: request.caller.userId,
    action: "room.deleted",
    target: roomId,
    detail: {},
  });
  await markAuditOfDeletedRoom(deps.db, roomId, request.caller.userId, now);
  await deleteRoomItems(deps.db, roomId);
  await publish(deps, webhookEvent("room.deleted", { roomId, actorId: request.caller.userId }, now));
  return { status: 204 };
}
