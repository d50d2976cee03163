// POST /rooms/{roomId}/kick (moderators): disconnect one participant or all of a user's, optionally ban the user.
// The ban is written before the disconnects, so a token issued meanwhile is refused by its own transaction.
import { isInGroup } from "#shared/aws/cognito.ts";
import { NotFoundError, ValidationError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { countKick } from "#shared/metrics.ts";
import { disconnectAll } from "#shared/moderation/disconnect.ts";
import { checkKick, knownAdmin, mustAskUserPool } from "#shared/moderation/rules.ts";
import { accessRoom, requireModerator } from "#shared/rooms/access.ts";
import { appendAudit } from "#shared/store/audit.ts";
import { putBan, type Ban } from "#shared/store/bans.ts";
import { findParticipantOwner, listUserParticipants, markDisconnected } from "#shared/store/participants.ts";
import { ID_PATTERN, integer, object, pathParameter, string, validate } from "#shared/validation.ts";
import { publish, webhookEvent } from "#shared/webhooks/events.ts";
import type { ModerationDeps } from "./deps.ts";

const kickInput = object({
  participantId: string({ pattern: ID_PATTERN, patternHint: "^[a-zA-Z0-9-]{1,64}$" }),
  userId: string({ pattern: ID_PATTERN, patternHint: "^[a-zA-Z0-9-]{1,64}$" }),
  reason: string({ max: 128 }),
  banMinutes: integer({ min: 0, max: 525_600 }),
});

export async function kick(deps: ModerationDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const input = validate(kickInput, request.body ?? {});
  if ((input.participantId === undefined) === (input.userId === undefined)) {
    throw new ValidationError([{ path: "/", message: "give exactly one of participantId and userId" }]);
  }
  const { caller } = request;
  const now = deps.now();
  const access = await accessRoom(deps.db, roomId, caller, now);
  requireModerator(access);
  const room = access.room;

  const targetUser = input.userId ?? (await findParticipantOwner(deps.db, roomId, input.participantId!, now));
  if (targetUser === undefined)
    throw new NotFoundError(`participant ${input.participantId} was not issued for room ${roomId}`);

  // The rule (shared/moderation/rules.ts) decides from the room and the target's participant records; only when they
  // cannot say whether the target is an admin is the user pool asked, and then the rule decides again.
  const participants = await listUserParticipants(deps.db, roomId, targetUser, now);
  const banMinutes = input.banMinutes ?? 0;
  const target = { isOwner: targetUser === room.ownerId, isAdmin: knownAdmin(caller, targetUser, participants) };
  checkKick(caller, target, banMinutes > 0);
  if (mustAskUserPool(caller, target, { ban: banMinutes > 0, targetHasParticipants: participants.length > 0 })) {
    target.isAdmin = await isInGroup(deps.cognito, deps.config.userPoolId, targetUser, deps.config.adminGroup);
    checkKick(caller, target, banMinutes > 0);
  }

  let ban: Ban | null = null;
  if (banMinutes > 0) {
    const untilMs = now + banMinutes * 60_000;
    ban = {
      userId: targetUser,
      until: new Date(untilMs).toISOString(),
      untilMs,
      reason: input.reason ?? null,
      bannedBy: caller.userId,
      createdAt: new Date(now).toISOString(),
    };
    await putBan(deps.db, roomId, ban);
    await appendAudit(deps.db, roomId, {
      at: ban.createdAt,
      actor: caller.userId,
      action: "user.banned",
      target: targetUser,
      detail: { until: ban.until, reason: ban.reason },
    });
    await publish(
      deps,
      webhookEvent("user.banned", { roomId, userId: targetUser, until: ban.until, actorId: caller.userId }, now),
    );
  }

  // A ban, or a kick by user id, reaches every participant of the user that may still join or be connected.
  const participantIds =
    input.participantId !== undefined && banMinutes === 0
      ? [input.participantId]
      : banMinutes > 0
        ? // Read again after the ban: a token recorded before the ban was written is found now.
          (await listUserParticipants(deps.db, roomId, targetUser, deps.now())).map((p) => p.participantId)
        : participants.map((p) => p.participantId);
  if (input.participantId !== undefined && !participantIds.includes(input.participantId))
    participantIds.push(input.participantId);

  // Before IVS is asked: from now on their tokens cannot be exchanged (409 participant_disconnected).
  await markDisconnected(deps.db, roomId, participantIds, deps.now());

  const result = await disconnectAll(
    { ivs: deps.ivs, sqs: deps.sqs, queueUrl: deps.config.disconnectQueueUrl },
    participantIds.map((participantId) => ({ roomId, stageArn: room.stageArn, participantId, reason: input.reason })),
    request.deadline,
  );
  await appendAudit(deps.db, roomId, {
    at: new Date(deps.now()).toISOString(),
    actor: caller.userId,
    action: "participant.kicked",
    target: input.participantId ?? targetUser,
    detail: { userId: targetUser, participants: participantIds, reason: input.reason ?? null, banMinutes },
  });
  await publish(
    deps,
    webhookEvent(
      "participant.kicked",
      { roomId, userId: targetUser, participantIds, banMinutes, actorId: caller.userId },
      deps.now(),
    ),
  );
  countKick();
  return {
    status: 200,
    body: { ...result, ban: ban ? { userId: ban.userId, until: ban.until, reason: ban.reason } : null },
  };
}
