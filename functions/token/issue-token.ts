// POST/GET /rooms/{roomId}/token: one DynamoDB read to decide, one IVS call (none when self-signed), one
// transactional write that records the participant, counts it and fails if a ban appeared meanwhile.
import { BannedError, NotFoundError, RateLimitedError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { decideAccess } from "#shared/rooms/decide-access.ts";
import type { Config } from "#shared/config.ts";
import type { TokenTable } from "#shared/store/db.ts";
import { readTokenDecisionInputs, recordIssuedParticipant } from "#shared/store/token-path.ts";
import { planToken, tokenInput } from "#shared/token/rules.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import type { TokenIssuer } from "./issuers.ts";

/** The token path needs no IVS client of its own: the issuer holds one in API mode, none when self-signed. */
export interface TokenDeps {
  config: Config;
  table: TokenTable;
  issuer: TokenIssuer;
  now(): number;
}

const secondsToNextMinute = (now: number) => Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000));

export async function issueToken(deps: TokenDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const input = request.method === "POST" && request.body !== undefined ? validate(tokenInput, request.body) : {};
  const { caller } = request;
  const now = deps.now();

  const inputs = await readTokenDecisionInputs(deps.table, roomId, caller.userId, now);
  const access = decideAccess(inputs, caller, now, roomId);
  const rateLimit = caller.isAdmin ? undefined : deps.config.tokenRatePerMinute;
  if (rateLimit !== undefined && inputs.tokensThisMinute >= rateLimit) {
    throw new RateLimitedError(`at most ${rateLimit} tokens per minute per room`, secondsToNextMinute(now));
  }
  const plan = planToken(input, { name: access.role, definition: access.roleDefinition }, access.room.policy, caller);

  const issued = await deps.issuer.issue({ room: access.room, userId: caller.userId, ...plan }, request.deadline);

  const expiresMs = Date.parse(issued.expirationTime);
  const outcome = await recordIssuedParticipant(deps.table, roomId, {
    participantId: issued.participantId,
    userId: caller.userId,
    role: access.role,
    capabilities: plan.capabilities,
    via: access.via,
    displayName: plan.attributes.displayName ?? caller.displayName,
    tokenExpiresAt: issued.expirationTime,
    tokenExpiresMs: expiresMs,
    createdAt: new Date(now).toISOString(),
  }, { now: deps.now(), rateLimit });
  // The token is only handed out once recorded; otherwise it is dropped unseen.
  if (outcome.kind === "banned") {
    // A ban written while IVS was issuing the token: the transaction refused it.
    const untilMs = outcome.untilMs ?? (await readTokenDecisionInputs(deps.table, roomId, caller.userId, deps.now())).ban?.untilMs;
    throw new BannedError(new Date(untilMs ?? deps.now()).toISOString());
  }
  if (outcome.kind === "room_gone") throw new NotFoundError(`room ${roomId} does not exist`);
  if (outcome.kind === "rate_limited") throw new RateLimitedError(`at most ${rateLimit} tokens per minute per room`, secondsToNextMinute(deps.now()));

  return {
    status: 200,
    headers: { "cache-control": "no-store" },
    body: {
      token: issued.token,
      participantId: issued.participantId,
      roomId,
      stageArn: access.room.stageArn,
      userId: caller.userId,
      role: access.role,
      capabilities: plan.capabilities,
      durationMinutes: plan.durationMinutes,
      expirationTime: issued.expirationTime,
      attributes: plan.attributes,
    },
  };
}
