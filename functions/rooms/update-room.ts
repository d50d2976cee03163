// PATCH /rooms/{roomId} (moderators): name (→ IVS UpdateStage), title, or a whole new policy.
import { updateStageName } from "#shared/aws/ivs.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom, requireModerator } from "#shared/rooms/access.ts";
import { resolveRole } from "#shared/rooms/resolve-role.ts";
import type { RoomRecord } from "#shared/rooms/room.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { replaceRoom } from "#shared/store/rooms.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";
import type { RoomsDeps } from "./deps.ts";
import { requireBody, updateRoomInput } from "./inputs.ts";
import { liveView, roomView } from "./view.ts";

export async function updateRoom(deps: RoomsDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const input = validate(updateRoomInput, requireBody(request.body));
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  const before = access.room;
  const after: RoomRecord = {
    ...before,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.title !== undefined ? { title: input.title } : {}),
    ...(input.policy !== undefined ? { policy: input.policy } : {}),
    updatedAt: new Date(deps.now()).toISOString(),
    version: before.version + 1,
  };
  // A stage gone from IVS answers 404 (StageNotFoundError), and the room is left as it was.
  if (input.name !== undefined && input.name !== before.name)
    await updateStageName(deps.ivs, before.stageArn, input.name, request.deadline);
  await replaceRoom(deps.db, before, after);
  await appendAudit(deps.db, roomId, {
    at: after.updatedAt,
    actor: request.caller.userId,
    action: "room.updated",
    target: roomId,
    detail: { fields: Object.keys(input) },
  });
  await publish(
    deps,
    webhookEvent(
      "room.updated",
      { roomId, fields: Object.keys(input), version: after.version, actorId: request.caller.userId },
      Date.parse(after.updatedAt),
    ),
  );
  const live = liveView((await deps.live.current(after, request.deadline)).state);
  // The caller's role under the new policy (a custom role of theirs may be gone, or no longer a moderator).
  const decision = resolveRole({
    userId: request.caller.userId,
    groups: request.caller.groups,
    isAdmin: request.caller.isAdmin,
    ownerId: after.ownerId,
    policy: after.policy,
    memberRole: access.inputs.memberRole,
    now: deps.now(),
  });
  const role = decision.kind === "role" ? decision.role : access.role;
  return {
    status: 200,
    body: roomView(after, role, decision.kind === "role" && after.policy.roles[role]!.moderator, live),
  };
}
