// Tags of the room's stage (IVS TagResource, UntagResource, ListTagsForResource), moderators only. A stage deleted
// behind the room's back answers 404 (StageNotFoundError from shared/aws/ivs.ts).
import { listTags, tagStage, untagStage } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import { ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { accessRoom, requireModerator } from "#shared/rooms/access.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { replaceRoom } from "#shared/store/rooms.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";
import { MAX_TAGS, putTagsInput, requireBody, tagKeysFromQuery } from "./inputs.ts";

export async function getTags(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  return { status: 200, body: { tags: await listTags(deps.ivs, access.room.stageArn, request.deadline) } };
}

export async function putTags(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const { tags } = validate(putTagsInput, requireBody(request.body));
  if (tags === undefined) throw new ValidationError([{ path: "/tags", message: "is required" }]);
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  const current = await listTags(deps.ivs, access.room.stageArn, request.deadline);
  const merged = { ...current, ...tags };
  if (Object.keys(merged).length > MAX_TAGS) {
    throw new ValidationError([
      {
        path: "/tags",
        message: `the stage would have ${Object.keys(merged).length} tags; at most ${MAX_TAGS} are allowed`,
      },
    ]);
  }
  if (Object.keys(tags).length > 0) await tagStage(deps.ivs, access.room.stageArn, tags, request.deadline);
  await recordTags(deps, request, access.room, merged, { set: Object.keys(tags) });
  return { status: 200, body: { tags: merged } };
}

export async function deleteTags(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const keys = tagKeysFromQuery(request.query.keys);
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  await untagStage(deps.ivs, access.room.stageArn, keys, request.deadline);
  const remaining = Object.fromEntries(Object.entries(access.room.tags).filter(([k]) => !keys.includes(k)));
  await recordTags(deps, request, access.room, remaining, { removed: keys });
  return { status: 204 };
}

/** Keeps the room's copy of its tags (shown to moderators) in step, and audits the change. */
async function recordTags(
  deps: Deps,
  request: AuthenticatedRequest,
  room: Parameters<typeof replaceRoom>[1],
  tags: Record<string, string>,
  detail: Record<string, unknown>,
) {
  const now = new Date(deps.now()).toISOString();
  await replaceRoom(deps.db, room, { ...room, tags, updatedAt: now, version: room.version + 1 });
  await appendAudit(deps.db, room.roomId, {
    at: now,
    actor: request.caller.userId,
    action: "tags.changed",
    target: room.roomId,
    detail,
  });
  await publish(
    deps,
    webhookEvent(
      "room.updated",
      { roomId: room.roomId, fields: ["tags"], version: room.version + 1, actorId: request.caller.userId },
      Date.parse(now),
    ),
  );
}
