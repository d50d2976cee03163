// POST /rooms: a stage in IVS and the room's rules in DynamoDB, or neither.
import { createHash } from "node:crypto";
import { createStage, deleteStage } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import { ConflictError, ForbiddenError, IdempotencyMismatchError, ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { logger } from "#shared/logger.ts";
import { defaultPolicy } from "#shared/rooms/policy.ts";
import { stageIdOf, type RoomRecord } from "#shared/rooms/room.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from "#shared/store/idempotency.ts";
import { getRoom, putNewRoom } from "#shared/store/rooms.ts";
import { validate } from "#shared/validation.ts";
import { createRoomInput } from "./inputs.ts";
import { roomView } from "./view.ts";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export async function createRoom(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const { caller } = request;
  const input = validate(createRoomInput, request.body ?? {});
  const creators = deps.config.roomCreatorGroups;
  if (!caller.isAdmin && creators.length > 0 && !caller.groups.some((g) => creators.includes(g))) {
    throw new ForbiddenError("only members of the room-creator groups may create rooms");
  }
  const key = request.headers["idempotency-key"];
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError([{ path: "/headers/idempotency-key", message: "must be 1..128 printable ASCII characters" }]);
  }

  if (key !== undefined) {
    const requestHash = createHash("sha256").update(JSON.stringify(input)).digest("hex");
    const existing = await claimIdempotencyKey(deps.db, caller.userId, key, requestHash, deps.now());
    if (existing) {
      if (existing.requestHash !== requestHash) throw new IdempotencyMismatchError("this Idempotency-Key was used with a different body");
      if (existing.state === "pending") throw new ConflictError("a request with this Idempotency-Key is still in progress");
      const room = await getRoom(deps.db, existing.roomId);
      if (!room) throw new ConflictError("the room created with this Idempotency-Key has since been deleted");
      return created(room);
    }
    try {
      const room = await createRoomOnce(deps, request, input);
      await completeIdempotencyKey(deps.db, caller.userId, key, room.roomId);
      return created(room);
    } catch (error) {
      await releaseIdempotencyKey(deps.db, caller.userId, key);
      throw error;
    }
  }
  return created(await createRoomOnce(deps, request, input));
}

async function createRoomOnce(
  deps: Deps, request: AuthenticatedRequest, input: ReturnType<typeof createRoomInput> & object,
): Promise<RoomRecord> {
  const tags = input.tags ?? {};
  const stage = await createStage(deps.ivs, { name: input.name ?? "", tags }, request.deadline);
  const now = new Date(deps.now()).toISOString();
  const room: RoomRecord = {
    roomId: stageIdOf(stage.stageArn),
    stageArn: stage.stageArn,
    name: stage.name,
    ...(input.title !== undefined ? { title: input.title } : {}),
    ownerId: request.caller.userId,
    createdAt: now,
    updatedAt: now,
    policy: input.policy ?? defaultPolicy(),
    tags,
    endpoints: stage.endpoints,
    version: 1,
  };
  try {
    await putNewRoom(deps.db, room);
  } catch (error) {
    // No orphan stage: the room could not be saved, so the stage goes again (with a fresh budget of its own).
    await deleteStage(deps.ivs, stage.stageArn, Date.now() + 5_000).catch((cleanupError: unknown) =>
      logger.error("orphan stage left behind", { stageArn: stage.stageArn, error: cleanupError as Error }));
    throw error;
  }
  await appendAudit(deps.db, room.roomId, {
    at: now, actor: request.caller.userId, action: "room.created", target: room.roomId, detail: { name: room.name },
  }).catch((error: unknown) => logger.warn("audit entry not written", { error: error as Error }));
  return room;
}

function created(room: RoomRecord): HttpResponse {
  return { status: 201, headers: { location: `/rooms/${room.roomId}` }, body: roomView(room, "host", true, { activeSessionId: null }) };
}
