// GET /rooms/{roomId}/bans and DELETE /rooms/{roomId}/bans/{userId} (moderators).
import type { DepsWithQueue } from "#shared/deps.ts";
import { NotFoundError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom, requireModerator } from "#shared/rooms/access.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { deleteActiveBan, listActiveBans } from "#shared/store/bans.ts";
import { pathParameter } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";

export async function listBans(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const now = deps.now();
  requireModerator(await accessRoom(deps.db, roomId, request.caller, now));
  const bans = await listActiveBans(deps.db, roomId, now);
  return {
    status: 200,
    body: {
      bans: bans.map(({ userId, until, reason, bannedBy, createdAt }) => ({
        userId,
        until,
        reason,
        bannedBy,
        createdAt,
      })),
    },
  };
}

export async function deleteBan(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const userId = pathParameter(request, "userId");
  const now = deps.now();
  requireModerator(await accessRoom(deps.db, roomId, request.caller, now));
  if (!(await deleteActiveBan(deps.db, roomId, userId, now)))
    throw new NotFoundError(`user ${userId} has no active ban in room ${roomId}`);
  await appendAudit(deps.db, roomId, {
    at: new Date(now).toISOString(),
    actor: request.caller.userId,
    action: "user.unbanned",
    target: userId,
    detail: {},
  });
  await publish(deps, webhookEvent("user.unbanned", { roomId, userId, actorId: request.caller.userId }, now));
  return { status: 204 };
}
