// Where participant tokens come from: IVS CreateParticipantToken (TOKEN_MODE=api). The function sends it with the
// lite client (index.ts); bench/reference/token-sdk sends it with the AWS SDK through the same issuer. The calls
// spend the container's budget (shared/aws/call-budget.ts): while IVS throttles, a request beyond it is refused
// before its caller is charged.
import { CallBudget, type CallPermit } from "#shared/aws/call-budget.ts";
import { call, nameOf, type Attempt } from "#shared/aws/ivs-call.ts";
import type { CreateParticipantTokenInput } from "#shared/aws/lite/commands/ivs-realtime/CreateParticipantToken.ts";
import { NotFoundError, RateLimitedError } from "#shared/errors.ts";
import type { Capability } from "#shared/rooms/policy.ts";
import type { RoomRecord } from "#shared/rooms/room.ts";

export interface TokenRequest {
  room: RoomRecord;
  userId: string;
  capabilities: Capability[];
  durationMinutes: number;
  attributes: Record<string, string>;
}

export interface IssuedToken {
  participantId: string;
  token: string;
  expirationTime: string;
}

export interface TokenIssuer {
  /**
   * Before the caller's token limit is charged: one token's place with the issuer, or RateLimitedError (429) when
   * the request cannot be served now.
   */
  admit(): Admission;
  /**
   * A new token for an existing participant (token exchange): same participant id and stage claims. Only tokens
   * signed with a key pair can be exchanged in IVS, so only the self-signed issuer has it (and, calling IVS not at
   * all, needs no admission).
   */
  reissue?(request: TokenRequest & { participantId: string }, deadline: number): Promise<IssuedToken>;
}

export interface Admission {
  issue(request: TokenRequest, deadline: number): Promise<IssuedToken>;
  /** No token will be issued: gives back what admit() took. */
  release(): void;
}

/**
 * Sends one CreateParticipantToken within the attempt's time limit; `expirationTime` as IVS's ISO string (lite
 * client) or a Date (the SDK).
 */
export type CreateParticipantTokenSender = (
  input: CreateParticipantTokenInput,
  attempt: Attempt,
) => Promise<{ participantToken?: { participantId?: string; token?: string; expirationTime?: string | Date } }>;

/** `budget`: the container's for CreateParticipantToken (one issuer per container). */
export function ivsTokenIssuer(send: CreateParticipantTokenSender, budget = new CallBudget()): TokenIssuer {
  async function issue(request: TokenRequest, deadline: number, permit: CallPermit): Promise<IssuedToken> {
    try {
      const out = await call(
        "CreateParticipantToken",
        deadline,
        (attempt) =>
          send(
            {
              stageArn: request.room.stageArn,
              userId: request.userId,
              capabilities: request.capabilities,
              duration: request.durationMinutes,
              attributes: request.attributes,
            },
            attempt,
          ),
        permit,
      );
      const t = out.participantToken;
      if (!t?.participantId || !t.token || !t.expirationTime)
        throw new Error("IVS answered CreateParticipantToken without a token");
      return {
        participantId: t.participantId,
        token: t.token,
        expirationTime: new Date(t.expirationTime).toISOString(),
      };
    } catch (error) {
      if (nameOf(error) === "ResourceNotFoundException")
        throw new NotFoundError(`the stage of room ${request.room.roomId} no longer exists`);
      throw error;
    }
  }
  return {
    admit() {
      const permit = budget.admit();
      if (!permit) throw new RateLimitedError("IVS is throttling participant tokens; retry shortly", 1);
      return { issue: (request, deadline) => issue(request, deadline, permit), release: () => permit.release() };
    },
  };
}
