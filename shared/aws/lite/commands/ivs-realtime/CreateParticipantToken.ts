import type { Capability } from "../../../../rooms/policy.ts";
import type { LiteClient, RequestOptions } from "../../client.ts";

export interface CreateParticipantTokenInput {
  stageArn: string;
  userId: string;
  capabilities: Capability[];
  /** Minutes. */
  duration: number;
  attributes: Record<string, string>;
}

export interface CreateParticipantTokenOutput {
  participantToken?: { participantId?: string; token?: string; expirationTime?: string };
}

/** IVS Real-Time CreateParticipantToken (restJson1, POST /CreateParticipantToken). */
export const createParticipantToken = (
  client: LiteClient,
  input: CreateParticipantTokenInput,
  opts: RequestOptions = {},
) => client.restPost("/CreateParticipantToken", input, opts) as Promise<CreateParticipantTokenOutput>;
