// Token exchange's rules as plain functions: which participant may have its token exchanged, what the new token may
// change, and what the participant's record becomes. The new token itself is judged by the same rules as a new one
// (rules.ts: planToken); IVS's own rules for an exchange (same topic, resource, jti, whip_url, events_url; key-pair
// tokens only) are kept by signing it for the same participant of the same stage.
import { NotFoundError, ParticipantDisconnectedError } from "../errors.ts";
import { CAPABILITIES, type Capability } from "../rooms/policy.ts";
import { PARTICIPANT_GRACE_MS } from "../store/keys.ts";

/** The stored participant an exchange starts from (its record, and whether a moderator disconnected it). */
export interface ExchangeSubject {
  participantId: string;
  userId: string;
  /** Every capability any of the participant's tokens carried (what a role change checks). */
  capabilities: Capability[];
  /** The capabilities of its latest token; absent on records written before exchange existed. */
  tokenCapabilities?: Capability[] | undefined;
  tokenExpiresMs: number;
  /** A kick, a ban or a role change disconnected it: IVS revoked the participant id for good. */
  disconnected: boolean;
}

/**
 * The participant to exchange, or why not: 404 when the caller holds no such participant in this room (unknown, the
 * participant of another user, or one whose tokens expired more than 24 h ago: IVS holds nobody that long), as for
 * an unknown id; 409 participant_disconnected when a moderator disconnected it (IVS would refuse the new token too).
 */
export function requireExchangeable(
  subject: ExchangeSubject | undefined,
  caller: { userId: string },
  ids: { roomId: string; participantId: string },
  now: number,
): ExchangeSubject {
  if (!subject || subject.userId !== caller.userId || subject.tokenExpiresMs + PARTICIPANT_GRACE_MS <= now) {
    throw new NotFoundError(`you hold no participant ${ids.participantId} in room ${ids.roomId}`);
  }
  if (subject.disconnected) {
    throw new ParticipantDisconnectedError(
      `participant ${ids.participantId} was disconnected by a moderator: request a new token and join again`,
    );
  }
  return subject;
}

/** Whether the new token grants PUBLISH that the participant's latest token did not (capacity applies then). */
export function addsPublish(
  subject: Pick<ExchangeSubject, "capabilities" | "tokenCapabilities">,
  next: Capability[],
): boolean {
  return next.includes("PUBLISH") && !(subject.tokenCapabilities ?? subject.capabilities).includes("PUBLISH");
}

export interface ExchangedRecord {
  role: string;
  via: string;
  capabilities: Capability[];
  tokenCapabilities: Capability[];
  tokenExpiresMs: number;
  tokenExpiresAt: string;
}

/**
 * The participant's record after an exchange. The earlier tokens stay valid for joining again until they expire
 * (IVS knows no token, only the participant id), so the record keeps what any of them allowed: the union of the
 * capabilities and the latest expiry. A later role change or kick then still reaches the participant, whichever
 * token it holds. Role and grant are the new token's.
 */
export function exchangedRecord(
  previous: Pick<ExchangeSubject, "capabilities" | "tokenExpiresMs">,
  next: { role: string; via: string; capabilities: Capability[]; tokenExpiresMs: number },
): ExchangedRecord {
  const held = new Set<Capability>([...previous.capabilities, ...next.capabilities]);
  const tokenExpiresMs = Math.max(previous.tokenExpiresMs, next.tokenExpiresMs);
  return {
    role: next.role,
    via: next.via,
    capabilities: CAPABILITIES.filter((c) => held.has(c)),
    tokenCapabilities: CAPABILITIES.filter((c) => next.capabilities.includes(c)),
    tokenExpiresMs,
    tokenExpiresAt: new Date(tokenExpiresMs).toISOString(),
  };
}
