// Where participant tokens come from: IVS CreateParticipantToken (TOKEN_MODE=api).
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { createParticipantToken, StageNotFoundError, type IssuedToken } from "#shared/aws/ivs.ts";
import { NotFoundError } from "#shared/errors.ts";
import type { Capability } from "#shared/rooms/policy.ts";
import type { RoomRecord } from "#shared/rooms/room.ts";

export interface TokenRequest {
  room: RoomRecord;
  userId: string;
  capabilities: Capability[];
  durationMinutes: number;
  attributes: Record<string, string>;
}

export interface TokenIssuer {
  issue(request: TokenRequest, deadline: number): Promise<IssuedToken>;
}

export function ivsTokenIssuer(ivs: IVSRealTimeClient): TokenIssuer {
  return {
    async issue(request, deadline) {
      try {
        return await createParticipantToken(ivs, {
          stageArn: request.room.stageArn,
          userId: request.userId,
          capabilities: request.capabilities,
          durationMinutes: request.durationMinutes,
          attributes: request.attributes,
        }, deadline);
      } catch (error) {
        if (error instanceof StageNotFoundError) throw new NotFoundError(`the stage of room ${request.room.roomId} no longer exists`);
        throw error;
      }
    },
  };
}
