// POST /rooms: a stage in IVS and the room's rules in DynamoDB, or neither.
import { createStage, deleteStage } from "#shared/aws/ivs.ts";
import type { Deps } from "#shared/deps.ts";
import { ConflictError, ForbiddenError, IdempotencyMismatchError, ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { logger } from "#shared/logger.ts";
import { defaultPolicy } from "#shared/rooms/policy.ts";
import { stageIdOf, type RoomRecord } from "#shared/rooms/room.ts";
import { appendAudit } from "#shared/store/audit.ts";
import {
  deleteIdempotencyRecord,
  findIdempotencyRecord,
  idempotencyRecordPut,
  requestHash,
  type IdempotencyRecord,
} from "#shared/store/idempotency.ts";
import { deleteRoomItems, getRoom, putNewRoom } from "#shared/store/rooms.ts";
import { validate } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";
import { createRoomInput } from "./inputs.ts";
import { NOT_LIVE, roomView } from "./view.ts";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
/** Time kept back from the request's deadline for undoing a created stage when the room cannot be saved. */
const CLEANUP_RESERVE_MS = 2_500;
/** Budget of that undo (the function's own timeout lies beyond the request's deadline). */
const CLEANUP_BUDGET_MS = 5_000;

type CreateRoomInput = ReturnType<typeof createRoomInput> & object;
interface KeyClaim {
  key: string;
  hash: string;
}

export async function createRoom(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const { caller } = request;
  // No body means no fields; a body of `null` is a body, and not an object.
  const input = validate(createRoomInput, request.body === undefined ? {} : request.body);
  const creators = deps.config.roomCreatorGroups;
  if (!caller.isAdmin && creators.length > 0 && !caller.groups.some((g) => creators.includes(g))) {
    throw new ForbiddenError("only members of the room-creator groups may create rooms");
  }
  const key = request.headers["idempotency-key"];
  if (key === undefined) return created((await createRoomOnce(deps, request, input, undefined)) as RoomRecord);
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError([
      { path: "/headers/idempotency-key", message: "must be 1..128 printable ASCII characters" },
    ]);
  }

  // A key already used within 24 h answers with its room; otherwise the room and the record are written together.
  const hash = requestHash(input);
  const earlier = await findIdempotencyRecord(deps.db, caller.userId, key, deps.now());
  if (earlier) return replay(deps, earlier, hash);
  const outcome = await createRoomOnce(deps, request, input, { key, hash });
  if (outcome !== "taken") return created(outcome);
  // A request with the same key won the race (our stage is gone again): answer as its retry would be answered.
  const winner = await findIdempotencyRecord(deps.db, caller.userId, key, deps.now());
  if (!winner) throw new ConflictError("another request with this Idempotency-Key was in progress; retry");
  return replay(deps, winner, hash);
}

async function replay(deps: Deps, record: IdempotencyRecord, hash: string): Promise<HttpResponse> {
  if (record.requestHash !== hash)
    throw new IdempotencyMismatchError("this Idempotency-Key was used with a different body");
  const room = await getRoom(deps.db, record.roomId);
  if (!room) throw new ConflictError("the room created with this Idempotency-Key has since been deleted");
  return created(room);
}

/** Creates the stage, then saves the room; if the room cannot be saved, the stage is deleted again. */
async function createRoomOnce(
  deps: Deps,
  request: AuthenticatedRequest,
  input: CreateRoomInput,
  claim: KeyClaim | undefined,
): Promise<RoomRecord | "taken"> {
  const { caller } = request;
  const tags = input.tags ?? {};
  const stage = await createStage(deps.ivs, { name: input.name ?? "", tags }, request.deadline);
  const nowMs = deps.now();
  const now = new Date(nowMs).toISOString();
  const room: RoomRecord = {
    roomId: stageIdOf(stage.stageArn),
    stageArn: stage.stageArn,
    name: stage.name,
    ...(input.title !== undefined ? { title: input.title } : {}),
    ownerId: caller.userId,
    createdAt: now,
    updatedAt: now,
    policy: input.policy ?? defaultPolicy(),
    tags,
    endpoints: stage.endpoints,
    version: 1,
  };
  let outcome: "created" | "taken";
  try {
    outcome = await putNewRoom(deps.db, room, {
      deadline: request.deadline - CLEANUP_RESERVE_MS,
      ...(claim
        ? {
            alongside: idempotencyRecordPut(deps.db, caller.userId, claim.key, {
              requestHash: claim.hash,
              roomId: room.roomId,
              createdAtMs: nowMs,
            }),
          }
        : {}),
    });
  } catch (error) {
    // Another room holds this id: the stage is that room's, and nothing of ours was written.
    if (error instanceof ConflictError) throw error;
    // No orphan stage: the room could not be saved, so the stage goes again. The write may still have landed
    // (a timeout says nothing about that), so what it may have left is removed too, as far as DynamoDB lets us.
    await discardStage(deps, stage.stageArn);
    await deleteRoomItems(deps.db, room.roomId)
      .then(() => (claim ? deleteIdempotencyRecord(deps.db, caller.userId, claim.key, room.roomId) : undefined))
      .catch((cleanupError: unknown) =>
        logger.warn("could not check for a half-written room", { roomId: room.roomId, error: cleanupError as Error }),
      );
    throw error;
  }
  if (outcome === "taken") {
    await discardStage(deps, stage.stageArn);
    return "taken";
  }
  await appendAudit(deps.db, room.roomId, {
    at: now,
    actor: caller.userId,
    action: "room.created",
    target: room.roomId,
    detail: { name: room.name },
  }).catch((error: unknown) => logger.warn("audit entry not written", { error: error as Error }));
  await publish(
    deps,
    webhookEvent("room.created", { roomId: room.roomId, ownerId: room.ownerId, actorId: caller.userId }, nowMs),
  );
  return room;
}

async function discardStage(deps: Deps, stageArn: string): Promise<void> {
  await deleteStage(deps.ivs, stageArn, Date.now() + CLEANUP_BUDGET_MS).catch((error: unknown) =>
    logger.error("orphan stage left behind", { stageArn, error: error as Error }),
  );
}

function created(room: RoomRecord): HttpResponse {
  return { status: 201, headers: { location: `/rooms/${room.roomId}` }, body: roomView(room, "host", true, NOT_LIVE) };
}
