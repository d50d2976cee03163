// POST /rooms/{roomId}/participants/{participantId}/token: token exchange. A new token for a participant the caller
// already holds, to swap in place with the broadcast SDK's exchangeToken (promotion, renewal): judged by the same
// rules as a new token, signed for the same participant (TOKEN_MODE=self-signed only: IVS exchanges only tokens
// signed with a key pair). One DynamoDB read to decide, no IVS call, one transaction that updates the participant's
// record, counts the token and fails if a ban or a moderator's disconnect appeared meanwhile.
import { BannedError, ConflictError, ExchangeUnsupportedError, NotFoundError, ParticipantDisconnectedError, RateLimitedError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { decideAccess } from "#shared/rooms/decide-access.ts";
import { readExchangeInputs, recordExchange } from "#shared/store/token-exchange.ts";
import { readTokenDecisionInputs } from "#shared/store/token-path.ts";
import { exchangedRecord, requireExchangeable } from "#shared/token/exchange.ts";
import { planToken, tokenInput } from "#shared/token/rules.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import type { TokenDeps } from "./issue-token.ts";

const secondsToNextMinute = (now: number) => Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000));

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
  const rateLimit = caller.isAdmin ? undefined : deps.config.tokenRatePerMinute;
  if (rateLimit !== undefined && inputs.tokensThisMinute >= rateLimit) {
    throw new RateLimitedError(`at most ${rateLimit} tokens per minute per room`, secondsToNextMinute(now));
  }
  const plan = planToken(input, { name: access.role, definition: access.roleDefinition }, access.room.policy, caller);

  const issued = await issuer.reissue({ room: access.room, userId: caller.userId, participantId, ...plan }, request.deadline);

  const record = exchangedRecord(subject, {
    role: access.role, via: access.via, capabilities: plan.capabilities, tokenExpiresMs: Date.parse(issued.expirationTime),
  });
  const outcome = await recordExchange(deps.table, roomId, {
    userId: caller.userId, participantId, previousExpiresMs: subject.tokenExpiresMs, record, exchangedAt: new Date(now).toISOString(),
  }, { now: deps.now(), rateLimit });
  // The token is only handed out once recorded; otherwise it is dropped unseen.
  switch (outcome.kind) {
    case "recorded":
      break;
    case "banned": {
      const untilMs = outcome.untilMs ?? (await readTokenDecisionInputs(deps.table, roomId, caller.userId, deps.now())).ban?.untilMs;
      throw new BannedError(new Date(untilMs ?? deps.now()).toISOString());
    }
    case "room_gone":
      throw new NotFoundError(`room ${roomId} does not exist`);
    case "disconnected":
      throw new ParticipantDisconnectedError(`participant ${participantId} was disconnected by a moderator: request a new token and join again`);
    case "raced":
      throw new ConflictError(`participant ${participantId}'s token was exchanged by another request meanwhile: try again`);
    case "rate_limited":
      throw new RateLimitedError(`at most ${rateLimit} tokens per minute per room`, secondsToNextMinute(deps.now()));
  }

  return {
    status: 200,
    headers: { "cache-control": "no-store" },
    body: {
      token: issued.token,
      participantId,
      roomId,
      stageArn: access.room.stageArn,
      userId: caller.userId,
      role: access.role,
      capabilities: plan.capabilities,
      durationMinutes: plan.durationMinutes,
      expirationTime: issued.expirationTime,
      attributes: plan.attributes,
      exchange: true,
    },
  };
}
