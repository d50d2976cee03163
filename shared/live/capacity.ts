// Capacity on the token path: the room's live counts (as the events and IVS's reads keep them, read in the token
// path's one DynamoDB read) against its policy's maxPublishers and maxParticipants. No IVS call: counts may lag by
// seconds, so admission is best-effort; IVS itself refuses a 13th publisher whatever we admit.
import { RoomFullError, StageFullError } from "../errors.ts";
import { IVS_MAX_PUBLISHERS, type Capability, type Policy } from "../rooms/policy.ts";

/** What a refused client is told to wait before asking again: about one refresh of the live state. */
export const CAPACITY_RETRY_AFTER_SECONDS = 10;
/**
 * Counts resting on no evidence newer than this are not used: a room nobody has looked at for that long may have
 * emptied without its events reaching us, and a refusal must not outlive what it rests on.
 */
export const COUNTS_TRUSTED_FOR_MS = 10 * 60_000;

export interface LiveCounts {
  connected: number;
  publishing: number;
  /** Latest evidence they rest on (epoch ms). */
  evidenceAt: number;
}

export type CapacityOutcome = { capabilities: Capability[]; limitedBy?: "stage_full" };

/**
 * Applies the room's capacity to a planned token: a refusal (409 room_full, 409 stage_full) or the capabilities to
 * issue, PUBLISH dropped (`limitedBy: "stage_full"`) when the caller left capabilities to the default.
 */
export function applyCapacity(opts: {
  policy: Pick<Policy, "maxPublishers" | "maxParticipants">;
  capabilities: Capability[];
  /** The caller named the capabilities (rather than taking the role's default). */
  explicit: boolean;
  isModerator: boolean;
  counts: LiveCounts | undefined;
  now: number;
}): CapacityOutcome {
  const { policy, capabilities, counts } = opts;
  if (!counts || opts.now - counts.evidenceAt > COUNTS_TRUSTED_FOR_MS) return { capabilities };
  const maxParticipants = policy.maxParticipants;
  if (!opts.isModerator && maxParticipants !== undefined && counts.connected >= maxParticipants) {
    throw new RoomFullError(
      `the room holds ${counts.connected} participants; its limit is ${maxParticipants}`,
      CAPACITY_RETRY_AFTER_SECONDS,
    );
  }
  const maxPublishers = Math.min(policy.maxPublishers ?? IVS_MAX_PUBLISHERS, IVS_MAX_PUBLISHERS);
  if (!capabilities.includes("PUBLISH") || counts.publishing < maxPublishers) return { capabilities };
  const detail = `the stage has ${counts.publishing} publishers; its limit is ${maxPublishers}`;
  const rest = capabilities.filter((c) => c !== "PUBLISH");
  if (opts.explicit || rest.length === 0) throw new StageFullError(detail, CAPACITY_RETRY_AFTER_SECONDS);
  return { capabilities: rest, limitedBy: "stage_full" };
}
