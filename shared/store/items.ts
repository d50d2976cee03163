// Items as the table holds them, turned into records: plain functions with no AWS client, so that the token
// function (which does not bundle the SDK) shares them with the others.
import type { RoomRecord } from "../rooms/room.ts";

export interface Ban {
  userId: string;
  until: string;
  untilMs: number;
  reason: string | null;
  bannedBy: string;
  createdAt: string;
}

export const toBan = (item: Record<string, unknown>): Ban => ({
  userId: String(item.userId),
  until: String(item.until),
  untilMs: Number(item.untilMs),
  reason: typeof item.reason === "string" ? item.reason : null,
  bannedBy: String(item.bannedBy),
  createdAt: String(item.createdAt),
});

export function fromRoomItem(item: Record<string, unknown>): RoomRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...room } = item;
  return room as unknown as RoomRecord;
}

/** The room's live counts item (`LIVE`), as the token path reads it beside the room. */
export function toLiveCounts(
  item: Record<string, unknown> | undefined,
): { connected: number; publishing: number; evidenceAt: number } | undefined {
  if (!item) return undefined;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : Number(v ?? 0) || 0);
  return { connected: n(item.connected), publishing: n(item.publishing), evidenceAt: n(item.evidenceAt) };
}
