// POST /rooms/{roomId}/participants/{participantId}/token: token exchange. A new token for a participant the caller
// already holds, to swap in place with the broadcast SDK's exchangeToken (promotion, renewal): judged by the same
// rules as a new token, signed for the same participant (TOKEN_MODE=self-signed only: IVS exchanges only tokens
// signed with a key pair), held to the stage's publisher limit when it adds PUBLISH. One DynamoDB read to decide
// (the live counts with it); the caller's token limit charged as for a new token (and given back if no token comes
// of it); no IVS call; one transaction that updates the participant's record and fails if a ban or a moderator's
// disconnect appeared meanwhile.
import {
  BannedError,
  ConflictError,
  ExchangeUnsupportedError,
  NotFoundError,
  ParticipantDisconnectedError,
} from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { applyCapacity } from "#shared/live/capacity.ts";
import { countTokenExchanged } from "#shared/metrics.ts";
import { decideAccess } from "#shared/rooms/decide-access.ts";
import { readRoomAccess } from "#shared/store/room-access.ts";
import { readExchangeInputs, recordExchange } from "#shared/store/token-exchange.ts";
import { chargeToken, type TokenCharge } from "#shared/store/token-records.ts";
import { addsPublish, exchangedRecord, requireExchangeable } from "#shared/token/exchange.ts";
import { planToken, tokenInput } from "#shared/token/rules.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import { giveBack, overLimit, tokenResponse, type TokenDeps } from "./issue-token.ts";

export async function exchangeToken(deps: TokenDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const participantId = pathParameter(request, "participantId");
  const { issuer } = deps;
  if (!issuer.reissue) {
    throw new ExchangeUnsupportedError(
      "this deployment's tokens come from IVS CreateParticipantToken, which IVS cannot exchange: request a new token and join again",
    );
  }
  const input = request.body !== undefined ? validate(tokenInput, request.body) : {};
  const { caller } = request;
  const now = deps.now();

  const inputs = await readExchangeInputs(deps.table, roomId, caller.userId, participantId, now);
  const access = decideAccess(inputs, caller, now, roomId);
  const subject = requireExchangeable(inputs.subject, caller, { roomId, participantId }, now);
  const limit = caller.isAdmin ? undefined : deps.config.tokenRatePerMinute;
  // A caller already at the limit is refused from the read, without a write.
  if (limit !== undefined && inputs.tokensThisMinute >= limit) throw overLimit(limit, now);
  const planned = planToken(
    input,
    { name: access.role, definition: access.roleDefinition },
    access.room.policy,
    caller,
  );
  // Capacity, as for a new token, when the exchange adds PUBLISH: the stage's publisher limit (the participant is on
  // the stage already, so the participant limit does not apply).
  const capacity = addsPublish(subject, planned.capabilities)
    ? applyCapacity({
        policy: access.room.policy,
        capabilities: planned.capabilities,
        explicit: input.capabilities !== undefined,
        isModerator: access.isModerator,
        counts: inputs.liveCounts,
        now,
        onStage: true,
      })
    : { capabilities: planned.capabilities };
  const plan = { ...planned, capabilities: capacity.capabilities };

  let charge: TokenCharge | undefined;
  try {
    if (limit !== undefined) {
      charge = await chargeToken(deps.table, roomId, caller.userId, { now, limit, requestId: request.requestId });
      if (!charge) throw overLimit(limit, deps.now());
    }
    const issued = await issuer.reissue(
      { room: access.room, userId: caller.userId, participantId, ...plan },
      request.deadline,
    );

    const record = exchangedRecord(subject, {
      role: access.role,
      via: access.via,
      capabilities: plan.capabilities,
      tokenExpiresMs: Date.parse(issued.expirationTime),
    });
    const outcome = await recordExchange(
      deps.table,
      roomId,
      {
        userId: caller.userId,
        participantId,
        previousExpiresMs: subject.tokenExpiresMs,
        record,
        displayName: plan.attributes.displayName ?? caller.displayName,
        exchangedAt: new Date(now).toISOString(),
      },
      { now: deps.now() },
    );
    // The token is only handed out once recorded; otherwise it is dropped unseen.
    switch (outcome.kind) {
      case "recorded":
        break;
      case "banned": {
        const untilMs =
          outcome.untilMs ?? (await readRoomAccess(deps.table, roomId, caller.userId, deps.now())).ban?.untilMs;
        throw new BannedError(new Date(untilMs ?? deps.now()).toISOString());
      }
      case "room_gone":
        throw new NotFoundError(`room ${roomId} does not exist`);
      case "disconnected":
        throw new ParticipantDisconnectedError(
          `participant ${participantId} was disconnected by a moderator: request a new token and join again`,
        );
      case "raced":
        throw new ConflictError(
          `participant ${participantId}'s token was exchanged by another request meanwhile: try again`,
        );
    }

    countTokenExchanged();
    return tokenResponse({
      issued: { ...issued, participantId },
      roomId,
      stageArn: access.room.stageArn,
      caller,
      role: access.role,
      plan,
      capacity,
      exchange: true,
    });
  } catch (error) {
    if (charge) await giveBack(deps.table, charge);
    throw error;
  }
}
