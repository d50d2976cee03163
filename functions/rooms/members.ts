// Members: GET (moderators), PUT and DELETE under the membership rules (shared/moderation/rules.ts). A change takes
// effect at once: participants holding a capability the user no longer has are disconnected.
import type { Caller } from "#shared/auth/caller.ts";
import type { DepsWithQueue } from "#shared/deps.ts";
import { NotFoundError, ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { disconnectAll } from "#shared/moderation/disconnect.ts";
import { checkMembershipChange, participantsBeyondRole, roleToGrant } from "#shared/moderation/rules.ts";
import { accessRoom, requireModerator, type RoomAccess } from "#shared/rooms/access.ts";
import { ROLE_NAME } from "#shared/rooms/policy.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { deleteMember, getMember, listMembers, putMember, type Member } from "#shared/store/members.ts";
import { listUserParticipants, markDisconnected } from "#shared/store/participants.ts";
import { object, pathParameter, string, validate } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";
import { requireBody } from "./inputs.ts";

const putMemberInput = object({ role: string({ pattern: ROLE_NAME }) });

export async function listMembersRoute(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  return { status: 200, body: { members: await listMembers(deps.db, roomId) } };
}

export async function putMemberRoute(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const userId = pathParameter(request, "userId");
  const input = validate(putMemberInput, requireBody(request.body));
  if (input.role === undefined) throw new ValidationError([{ path: "/role", message: "is required" }]);
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  const granted = roleToGrant(access.room.policy, input.role);
  const existing = await getMember(deps.db, roomId, userId);
  checkMembershipChange(request.caller, access.room, existing, granted);
  const member: Member = {
    userId,
    role: input.role,
    addedBy: request.caller.userId,
    addedAt: new Date(deps.now()).toISOString(),
  };
  await putMember(deps.db, roomId, member);
  await audit(deps, roomId, request.caller, "member.set", userId, {
    role: input.role,
    previousRole: existing?.role ?? null,
  });
  await publish(
    deps,
    webhookEvent(
      "member.set",
      { roomId, userId, role: input.role, previousRole: existing?.role ?? null, actorId: request.caller.userId },
      Date.parse(member.addedAt),
    ),
  );
  await enforceCapabilities(deps, access, userId, request.deadline);
  return { status: 200, body: member };
}

export async function deleteMemberRoute(deps: DepsWithQueue, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const userId = pathParameter(request, "userId");
  const access = await accessRoom(deps.db, roomId, request.caller, deps.now());
  requireModerator(access);
  const existing = await getMember(deps.db, roomId, userId);
  if (!existing) throw new NotFoundError(`user ${userId} is not a member of room ${roomId}`);
  checkMembershipChange(request.caller, access.room, existing, undefined);
  await deleteMember(deps.db, roomId, userId);
  await audit(deps, roomId, request.caller, "member.removed", userId, { previousRole: existing.role });
  await publish(
    deps,
    webhookEvent(
      "member.removed",
      { roomId, userId, previousRole: existing.role, actorId: request.caller.userId },
      deps.now(),
    ),
  );
  await enforceCapabilities(deps, access, userId, request.deadline);
  return { status: 204 };
}

/** Disconnects the user's participants that hold a capability the user's role no longer grants. */
async function enforceCapabilities(deps: DepsWithQueue, access: RoomAccess, userId: string, deadline: number) {
  const now = deps.now();
  const { room } = access;
  const [member, participants] = await Promise.all([
    getMember(deps.db, room.roomId, userId),
    listUserParticipants(deps.db, room.roomId, userId, now),
  ]);
  const stale = participantsBeyondRole(room, { userId, memberRole: member?.role }, participants, now);
  if (stale.length === 0) return undefined;
  // A demoted participant cannot exchange its way back: the client is not trusted to exchange down.
  await markDisconnected(
    deps.db,
    access.room.roomId,
    stale.map((p) => p.participantId),
    deps.now(),
  );
  return disconnectAll(
    { ivs: deps.ivs, sqs: deps.sqs, queueUrl: deps.config.disconnectQueueUrl },
    stale.map((p) => ({
      roomId: room.roomId,
      stageArn: room.stageArn,
      participantId: p.participantId,
      reason: "role changed",
    })),
    deadline,
  );
}

async function audit(
  deps: DepsWithQueue,
  roomId: string,
  caller: Caller,
  action: "member.set" | "member.removed",
  target: string,
  detail: Record<string, unknown>,
) {
  // Not swallowed: a failed audit write fails the request, and the retry (PUT/DELETE are idempotent) writes it.
  await appendAudit(deps.db, roomId, {
    at: new Date(deps.now()).toISOString(),
    actor: caller.userId,
    action,
    target,
    detail,
  });
}
