// POST/GET /rooms/{roomId}/token: one DynamoDB read to decide (the room's live counts in it, for capacity); the
// caller's token limit charged (one conditional increment) before IVS is asked or a token is signed; one IVS call
// (none when self-signed); one transactional write that records the participant and fails if a ban appeared
// meanwhile. A request that gets no token after its charge gives the charge back.
import { BannedError, NotFoundError, RateLimitedError } from "#shared/errors.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { logger } from "#shared/logger.ts";
import { applyCapacity, type CapacityOutcome } from "#shared/live/capacity.ts";
import { countTokenIssued } from "#shared/metrics.ts";
import { decideAccess } from "#shared/rooms/decide-access.ts";
import type { Config } from "#shared/config.ts";
import type { Table } from "#shared/store/db.ts";
import { readRoomAccess } from "#shared/store/room-access.ts";
import { chargeToken, recordIssuedParticipant, refundToken, type TokenCharge } from "#shared/store/token-records.ts";
import { planToken, tokenInput, type TokenPlan } from "#shared/token/rules.ts";
import { pathParameter, validate } from "#shared/validation.ts";
import type { IssuedToken, TokenIssuer } from "./issuers.ts";

/** The token path needs no IVS client of its own: the issuer holds one in API mode, none when self-signed. */
export interface TokenDeps {
  config: Pick<Config, "tokenRatePerMinute" | "tokenMode">;
  table: Table;
  issuer: TokenIssuer;
  now(): number;
}

const secondsToNextMinute = (now: number) => Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000));
export const overLimit = (limit: number, now: number) =>
  new RateLimitedError(`at most ${limit} tokens per minute per room`, secondsToNextMinute(now));

export async function issueToken(deps: TokenDeps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const roomId = pathParameter(request, "roomId");
  const input = request.method === "POST" && request.body !== undefined ? validate(tokenInput, request.body) : {};
  const { caller } = request;
  const now = deps.now();

  const inputs = await readRoomAccess(deps.table, roomId, caller.userId, now, { liveCounts: true });
  const access = decideAccess(inputs, caller, now, roomId);
  const limit = caller.isAdmin ? undefined : deps.config.tokenRatePerMinute;
  // A caller already at the limit is refused from the read, without a write.
  if (limit !== undefined && inputs.tokensThisMinute >= limit) throw overLimit(limit, now);
  const planned = planToken(
    input,
    { name: access.role, definition: access.roleDefinition },
    access.room.policy,
    caller,
  );
  // Capacity, from the live counts that came with the read: a full room or stage is refused (or PUBLISH dropped)
  // before anything is charged or IVS is asked.
  const capacity = applyCapacity({
    policy: access.room.policy,
    capabilities: planned.capabilities,
    explicit: input.capabilities !== undefined,
    isModerator: access.isModerator,
    counts: inputs.liveCounts,
    now,
  });
  const plan = { ...planned, capabilities: capacity.capabilities };

  // While IVS throttles this container past its budget, refused here: no charge, no IVS call.
  const admission = deps.issuer.admit();
  let charge: TokenCharge | undefined;
  try {
    if (limit !== undefined) {
      charge = await chargeToken(deps.table, roomId, caller.userId, { now, limit, requestId: request.requestId });
      if (!charge) throw overLimit(limit, deps.now());
    }
    const issued = await admission.issue({ room: access.room, userId: caller.userId, ...plan }, request.deadline);

    const outcome = await recordIssuedParticipant(
      deps.table,
      roomId,
      {
        participantId: issued.participantId,
        userId: caller.userId,
        role: access.role,
        capabilities: plan.capabilities,
        via: access.via,
        displayName: plan.attributes.displayName ?? caller.displayName,
        tokenExpiresAt: issued.expirationTime,
        tokenExpiresMs: Date.parse(issued.expirationTime),
        createdAt: new Date(now).toISOString(),
      },
      { now: deps.now() },
    );
    // The token is only handed out once recorded; otherwise it is dropped unseen.
    if (outcome.kind === "banned") {
      // A ban written while the token was being issued: the transaction refused it.
      const untilMs =
        outcome.untilMs ?? (await readRoomAccess(deps.table, roomId, caller.userId, deps.now())).ban?.untilMs;
      throw new BannedError(new Date(untilMs ?? deps.now()).toISOString());
    }
    if (outcome.kind === "room_gone") throw new NotFoundError(`room ${roomId} does not exist`);

    countTokenIssued(deps.config.tokenMode);
    return tokenResponse({ issued, roomId, stageArn: access.room.stageArn, caller, role: access.role, plan, capacity });
  } catch (error) {
    if (charge) await giveBack(deps.table, charge);
    throw error;
  }
}

/** The answer to a token request, a new token's or an exchanged one's (docs/api.md, "Participant tokens"). */
export function tokenResponse(t: {
  issued: IssuedToken;
  roomId: string;
  stageArn: string;
  caller: { userId: string };
  role: string;
  plan: Pick<TokenPlan, "capabilities" | "durationMinutes" | "attributes">;
  capacity: CapacityOutcome;
  exchange?: true;
}): HttpResponse {
  return {
    status: 200,
    headers: { "cache-control": "no-store" },
    body: {
      token: t.issued.token,
      participantId: t.issued.participantId,
      roomId: t.roomId,
      stageArn: t.stageArn,
      userId: t.caller.userId,
      role: t.role,
      capabilities: t.plan.capabilities,
      durationMinutes: t.plan.durationMinutes,
      expirationTime: t.issued.expirationTime,
      attributes: t.plan.attributes,
      ...(t.capacity.limitedBy ? { limitedBy: t.capacity.limitedBy } : {}),
      ...(t.exchange ? { exchange: true } : {}),
    },
  };
}

/** A request that got no token does not count against its caller; if even the refund fails, the charge stays. */
export async function giveBack(table: Table, charge: TokenCharge): Promise<void> {
  try {
    await refundToken(table, charge);
  } catch (error) {
    logger.warn("a token charge could not be given back", { roomId: charge.roomId, error: (error as Error).message });
  }
}
