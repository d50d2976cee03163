// How often stagepass may read IVS's live state: each room at most once per ROOM_READ_INTERVAL_MS however many
// callers ask, and the whole account within IVS's API rate for each read operation, however many containers ask.
//
// The quota (IVS Real-Time User Guide, "Service Quotas", API call rate quotas): GetStage, GetParticipant,
// ListParticipants, ListParticipantEvents, GetStageSession and ListStageSessions are each limited to 5 TPS per
// account and region, and API call rate quotas are not adjustable.
//
// The account-wide budget is a row of time slots per operation, SLOT_MS long, each good for one call: a caller
// takes a slot with a conditional write (DynamoDB: put if absent, shared/store/live.ts), so that two containers
// never take the same one. Calls start in distinct slots, so any 1000 ms holds the starts of at most
// ceil(1000 / SLOT_MS) + 1 = 5 calls (six would span 5 × 300 + 1 ms > 1 s), with 200 ms to spare for network jitter
// between the slot's start and the call's arrival at IVS. Sustained, that is 3.3 calls per second per operation.

/** IVS's rate quota for each of its read operations, per account and region. */
export const IVS_READ_TPS = 5;
/** One call per operation and slot. */
export const SLOT_MS = 300;
/** A room is read from IVS at most once in this long (the freshness bound, 10 s, is twice this). */
export const ROOM_READ_INTERVAL_MS = 5_000;
/** Slots a caller waits for when the current one is taken. */
export const MAX_WAIT_SLOTS = 2;

export const slotOf = (ms: number) => Math.floor(ms / SLOT_MS);

/** The store side of the budget: claims slot `slot` of `operation` for one caller; false when it is taken. */
export interface SlotClaims {
  claimSlot(operation: string, slot: number): Promise<boolean>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Takes one call of `operation` from the account's budget: the current slot, or when it is taken one of the next
 * MAX_WAIT_SLOTS (waiting for it to begin) if `deadline` leaves time. False when the budget is spent: the caller
 * then serves what it already knows.
 */
export async function takeIvsRead(
  claims: SlotClaims,
  operation: string,
  clock: Clock,
  deadline: number,
): Promise<boolean> {
  const first = slotOf(clock.now());
  for (let slot = first; slot <= first + MAX_WAIT_SLOTS; slot++) {
    const start = slot * SLOT_MS;
    const wait = start - clock.now();
    if (wait > 0) {
      if (start >= deadline) return false;
      await clock.sleep(wait);
    }
    if (await claims.claimSlot(operation, slot)) return true;
  }
  return false;
}

/** The most call starts that fall within any `windowMs` (for checking a schedule of calls against a quota). */
export function mostInWindow(starts: number[], windowMs = 1_000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A room may be read again: its last read (or claim to read) is at least ROOM_READ_INTERVAL_MS old. */
export const roomMayRead = (lastReadAt: number | null, now: number) =>
  lastReadAt === null || now - lastReadAt >= ROOM_READ_INTERVAL_MS;
