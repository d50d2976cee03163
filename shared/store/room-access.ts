// Who the caller is in a room, as stored: one strongly consistent read of the room, the caller's membership and
// ban, and the caller's token count this minute (and, for the token path's capacity, the room's live counts). Written against the TableReads port (db.ts), so that the token
// function runs it on its lite client and the others (kick, members, room routes) on the SDK's document client.
import { dynamo, mapDynamoError } from "../aws/dynamo-errors.ts";
import type { RoomRecord } from "../rooms/room.ts";
import type { TableReads } from "./db.ts";
import { fromRoomItem, toBan, toLiveCounts, type Ban } from "./items.ts";
import { banSk, LIVE_SK, memberSk, rateSk, ROOM_SK, roomPk } from "./keys.ts";

export interface RoomAccessInputs {
  room: RoomRecord | undefined;
  memberRole: string | undefined;
  ban: Ban | undefined;
  tokensThisMinute: number;
  /** The room's live counts, when asked for (undefined when the room has none yet). */
  liveCounts?: { connected: number; publishing: number; evidenceAt: number } | undefined;
}

export const minuteOf = (now: number) => Math.floor(now / 60_000);

/**
 * One round trip: the room, the caller's membership, ban and token count for this minute; with `liveCounts`, the
 * room's live counts too (a fifth key of the same BatchGetItem: capacity costs the token path no round trip).
 */
export async function readRoomAccess(
  db: TableReads,
  roomId: string,
  userId: string,
  now: number,
  opts: { liveCounts?: boolean } = {},
): Promise<RoomAccessInputs> {
  return (await readRoomAccessWith(db, roomId, userId, now, [], opts)).access;
}

/**
 * readRoomAccess, with more items of the room's partition (`more`: their sort keys) read in the same round trip: the
 * items found, by sort key.
 */
export async function readRoomAccessWith(
  db: TableReads,
  roomId: string,
  userId: string,
  now: number,
  more: string[],
  opts: { liveCounts?: boolean } = {},
): Promise<{ access: RoomAccessInputs; more: Map<string, Record<string, unknown>> }> {
  const pk = roomPk(roomId);
  const wanted = [
    ROOM_SK,
    memberSk(userId),
    banSk(userId),
    rateSk(userId, minuteOf(now)),
    ...(opts.liveCounts ? [LIVE_SK] : []),
  ];
  const found = new Map<string, Record<string, unknown>>();
  let keys: Array<Record<string, unknown>> = [...wanted, ...more].map((sk) => ({ pk, sk }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt > 4) mapDynamoError(new Error("unprocessed keys"));
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    const out = await dynamo(() => db.batchGet(keys));
    for (const item of out.items) found.set(String(item.sk), item);
    keys = out.unprocessed;
  }
  const room = found.get(ROOM_SK);
  const member = found.get(wanted[1]!);
  const ban = found.get(wanted[2]!);
  const rate = found.get(wanted[3]!);
  return {
    access: {
      room: room ? fromRoomItem(room) : undefined,
      memberRole: member ? String(member.role) : undefined,
      ban: ban ? toBan(ban) : undefined,
      tokensThisMinute: rate ? Number(rate.count ?? 0) : 0,
      ...(opts.liveCounts ? { liveCounts: toLiveCounts(found.get(LIVE_SK)) } : {}),
    },
    more: new Map(more.flatMap((sk) => (found.has(sk) ? [[sk, found.get(sk)!] as const] : []))),
  };
}
