// Members: GET (moderators), PUT and DELETE with the rule that only the owner or an admin touches a moderator's
// membership. A change takes effect at once: participants holding a capability the user no longer has go.
import type { Caller } from "#shared/auth/caller.ts";
import type { DepsWithQueue } from "#shared/deps.ts";
import { ForbiddenError, NotFoundError, ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { disconnectAll } from "#shared/moderation/disconnect.ts";
import { accessRoom, isOwnerOrAdmin, requireModerator, type RoomAccess } from "#shared/rooms/access.ts";
import { ROLE_NAME } from "#shared/rooms/policy.ts";
import { resolveRole } from "#shared/rooms/resolve-role.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { deleteMember, getMember, listMembers, putMember, type Member } from "#shared/store/members.ts";
import { listUserParticipants, markDisconnected } from "#shared/store/participants.ts";
import { object, pathParameter, string, validate } from "#shared/validation.ts";
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
  const newRole = access.room.policy.roles[input.role];
  if (!newRole) throw new ValidationError([{ path: "/role", message: `role ${input.role} is not defined in this room's policy` }]);
  const existing = await getMember(deps.db, roomId, userId);
  guardModeratorMembership(access, request.caller, existing, newRole.moderator);
  const member: Member = { userId, role: input.role, addedBy: request.caller.userId, addedAt: new Date(deps.now()).toISOString() };
  await putMember(deps.db, roomId, member);
  await audit(deps, roomId, request.caller, "member.set", userId, { role: input.role, previousRole: existing?.role ?? null });
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
  guardModeratorMembership(access, request.caller, existing, false);
  await deleteMember(deps.db, roomId, userId);
  await audit(deps, roomId, request.caller, "member.removed", userId, { previousRole: existing.role });
  await enforceCapabilities(deps, access, userId, request.deadline);
  return { status: 204 };
}

function guardModeratorMembership(access: RoomAccess, caller: Caller, existing: Member | undefined, grantsModerator: boolean): void {
  if (isOwnerOrAdmin(access, caller)) return;
  const holdsModerator = existing !== undefined && access.room.policy.roles[existing.role]?.moderator === true;
  if (grantsModerator) throw new ForbiddenError("only the room's owner or an admin may grant a moderator role");
  if (holdsModerator) throw new ForbiddenError("only the room's owner or an admin may change or remove a moderator");
}

/**
 * Disconnects the user's participants that hold a capability the user's role now lacks. The user's groups live in
 * the user's JWT, not here: the role is resolved from membership and the room, and while no membership decides,
 * a participant issued through a group mapping still shows a group role the user holds. Participants issued to an
 * admin are left alone (admins are host everywhere).
 */
async function enforceCapabilities(deps: DepsWithQueue, access: RoomAccess, userId: string, deadline: number) {
  const now = deps.now();
  const { policy } = access.room;
  const [member, participants] = await Promise.all([
    getMember(deps.db, access.room.roomId, userId),
    listUserParticipants(deps.db, access.room.roomId, userId, now),
  ]);
  if (participants.length === 0) return undefined;
  const decision = resolveRole({
    userId, groups: [], isAdmin: false, ownerId: access.room.ownerId, policy, memberRole: member?.role, now,
  });
  const allowed = new Set(decision.kind === "role" ? policy.roles[decision.role]!.capabilities : []);
  if (decision.kind !== "banned" && (member === undefined || !policy.roles[member.role])) {
    const mapped = new Set(Object.values(policy.groupRoles));
    for (const p of participants) {
      if (p.via === "group" && mapped.has(p.role)) for (const c of policy.roles[p.role]?.capabilities ?? []) allowed.add(c);
    }
  }
  const stale = participants.filter((p) => p.via !== "admin" && p.capabilities.some((c) => !allowed.has(c)));
  if (stale.length === 0) return undefined;
  // A demoted participant cannot exchange its way back: the client is not trusted to exchange down.
  await markDisconnected(deps.db, access.room.roomId, stale.map((p) => p.participantId), deps.now());
  return disconnectAll(
    { ivs: deps.ivs, sqs: deps.sqs, queueUrl: deps.config.disconnectQueueUrl },
    stale.map((p) => ({ roomId: access.room.roomId, stageArn: access.room.stageArn, participantId: p.participantId, reason: "role changed" })),
    deadline,
  );
}

async function audit(deps: DepsWithQueue, roomId: string, caller: Caller, action: "member.set" | "member.removed", target: string, detail: Record<string, unknown>) {
  // Not swallowed: a failed audit write fails the request, and the retry (PUT/DELETE are idempotent) writes it.
  await appendAudit(deps.db, roomId, { at: new Date(deps.now()).toISOString(), actor: caller.userId, action, target, detail });
}
