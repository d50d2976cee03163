// Key builders for the single table (docs/data-model.md).
export const roomPk = (roomId: string) => `ROOM#${roomId}`;
export const ROOM_SK = "ROOM";
export const memberSk = (userId: string) => `MEMBER#${userId}`;
export const banSk = (userId: string) => `BAN#${userId}`;
export const participantSk = (userId: string, participantId: string) => `PART#${userId}#${participantId}`;
export const participantPrefix = (userId: string) => `PART#${userId}#`;
export const pointerSk = (participantId: string) => `PID#${participantId}`;
/** A participant a moderator disconnected (kick, ban, role change): its token can no longer be exchanged. */
export const disconnectedSk = (participantId: string) => `DISC#${participantId}`;
export const rateSk = (userId: string, minute: number) => `RATE#${userId}#${minute}`;
export const visSk = (key: string) => `VIS#${key}`;
export const auditPk = (roomId: string) => `AUDIT#${roomId}`;
export const AUDIT_TOMBSTONE_SK = "DELETED";
export const idempotencyPk = (userId: string, key: string) => `IDEM#${userId}#${key}`;
export const ALL_ROOMS = "ROOMS";

export const epochSeconds = (ms: number) => Math.floor(ms / 1000);
export const DAY_MS = 24 * 60 * 60 * 1000;
/** IVS lets a joined participant stay up to 24 h past its token's expiry. */
export const PARTICIPANT_GRACE_MS = DAY_MS;
