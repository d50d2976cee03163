// Key builders for the single table (docs/data-model.md): the only place that knows what a key looks like.
const ROOM_PK_PREFIX = "ROOM#";
export const roomPk = (roomId: string) => `${ROOM_PK_PREFIX}${roomId}`;
export const roomIdOfPk = (pk: string) => pk.slice(ROOM_PK_PREFIX.length);
export const ROOM_SK = "ROOM";
export const MEMBER_PREFIX = "MEMBER#";
export const memberSk = (userId: string) => `${MEMBER_PREFIX}${userId}`;
export const BAN_PREFIX = "BAN#";
export const banSk = (userId: string) => `${BAN_PREFIX}${userId}`;
export const participantSk = (userId: string, participantId: string) => `PART#${userId}#${participantId}`;
export const participantPrefix = (userId: string) => `PART#${userId}#`;
export const pointerSk = (participantId: string) => `PID#${participantId}`;
/** A participant a moderator disconnected (kick, ban, role change): its token can no longer be exchanged. */
export const disconnectedSk = (participantId: string) => `DISC#${participantId}`;
export const rateSk = (userId: string, minute: number) => `RATE#${userId}#${minute}`;
export const auditPk = (roomId: string) => `AUDIT#${roomId}`;
export const AUDIT_ENTRY_PREFIX = "E#";
/** An audit entry's sort key: its time, then random bytes so that entries of the same millisecond both stay. */
export const auditEntrySk = (at: string, random: string) => `${AUDIT_ENTRY_PREFIX}${at}#${random}`;
const AUDIT_ENTRY_SK = /^E#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9a-f]{12}$/;
export const isAuditEntrySk = (value: unknown): value is string =>
  typeof value === "string" && AUDIT_ENTRY_SK.test(value);
export const AUDIT_TOMBSTONE_SK = "DELETED";
export const idempotencyPk = (userId: string, key: string) => `IDEM#${userId}#${key}`;

// Listing keys (gsi1pk, with the room id as gsi1sk): every room is under ALL_ROOMS; its visibility items (sk = the
// listing key) put it under OPEN_ROOMS, its owner's and each mapped group's key; a member item under its user's key.
export const ALL_ROOMS = "ROOMS";
export const OPEN_ROOMS = "VIS#open";
export const userRoomsKey = (userId: string) => `VIS#user#${userId}`;
export const groupRoomsKey = (group: string) => `VIS#group#${group}`;

/** A room's live counts (read by the token path along with the room), its whole live state, its IVS read claim. */
export const LIVE_SK = "LIVE";
export const LIVE_STATE_SK = "LIVESTATE";
export const LIVE_READ_SK = "LIVEREAD";
/** The account's IVS read budget: one item per operation and time slot (shared/live/budget.ts). */
export const ivsReadSlotPk = (operation: string) => `IVSREAD#${operation}`;

export const epochSeconds = (ms: number) => Math.floor(ms / 1000);
export const DAY_MS = 24 * 60 * 60 * 1000;
/** IVS lets a joined participant stay up to 24 h past its token's expiry. */
export const PARTICIPANT_GRACE_MS = DAY_MS;
/** The webhook outbox: events the delivery queue did not take, one partition (it is written only when SQS fails). */
export const WEBHOOK_OUTBOX_PK = "WEBHOOK#OUTBOX";
export const webhookOutboxSk = (timestamp: string, eventId: string) => `E#${timestamp}#${eventId}`;
