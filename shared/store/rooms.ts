// Rooms and their visibility items.
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { ConflictError } from "../errors.ts";
import type { RoomRecord } from "../rooms/room.ts";
import { cancellationReasons, dynamo, mapDynamoError } from "../aws/dynamo.ts";
import type { Db } from "./db.ts";
import { fromRoomItem } from "./items.ts";
import { queryPartition } from "./query.ts";
import {
  ALL_ROOMS,
  BAN_PREFIX,
  banSk,
  groupRoomsKey,
  MEMBER_PREFIX,
  memberSk,
  OPEN_ROOMS,
  ROOM_SK,
  roomIdOfPk,
  roomPk,
  userRoomsKey,
} from "./keys.ts";

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const roomItem = (room: RoomRecord) => ({
  pk: roomPk(room.roomId),
  sk: ROOM_SK,
  gsi1pk: ALL_ROOMS,
  gsi1sk: room.roomId,
  ...room,
});
/** A visibility item: its sort key is the listing key it puts the room under. */
const visItem = (roomId: string, listingKey: string) => ({
  pk: roomPk(roomId),
  sk: listingKey,
  gsi1pk: listingKey,
  gsi1sk: roomId,
});

/** The listing keys a room is found under besides ALL_ROOMS: its owner's, open rooms', and each mapped group's. */
function visibilityKeys(room: Pick<RoomRecord, "ownerId" | "policy">): string[] {
  return [
    userRoomsKey(room.ownerId),
    ...(room.policy.access === "open" ? [OPEN_ROOMS] : []),
    ...Object.keys(room.policy.groupRoles).map(groupRoomsKey),
  ];
}

/**
 * The listing keys to read for a caller's rooms: every room for an admin; otherwise the open rooms, the caller's own
 * (owned or a member of) and those that map one of `groups`.
 */
export function listingKeys(caller: { userId: string; isAdmin: boolean }, groups: readonly string[]): string[] {
  return caller.isAdmin ? [ALL_ROOMS] : [OPEN_ROOMS, userRoomsKey(caller.userId), ...groups.map(groupRoomsKey)];
}

/**
 * Writes a new room and its visibility items in one transaction, with `alongside` (the idempotency record) as the
 * second item: "taken" when that item's condition failed, so that nothing was written. `deadline` bounds the write,
 * so that a caller has time left to undo what came before it (the stage).
 */
export async function putNewRoom(
  db: Db,
  room: RoomRecord,
  opts: { alongside?: TransactItem; deadline?: number } = {},
): Promise<"created" | "taken"> {
  const items: TransactItem[] = [
    { Put: { TableName: db.table, Item: roomItem(room), ConditionExpression: "attribute_not_exists(pk)" } },
    ...(opts.alongside ? [opts.alongside] : []),
    ...visibilityKeys(room).map((key) => ({ Put: { TableName: db.table, Item: visItem(room.roomId, key) } })),
  ];
  const budget = opts.deadline === undefined ? undefined : Math.max(250, opts.deadline - Date.now());
  try {
    await db.doc.send(
      new TransactWriteCommand({ TransactItems: items }),
      budget === undefined ? {} : { abortSignal: AbortSignal.timeout(budget) },
    );
    return "created";
  } catch (error) {
    // Cancelled transactions write nothing: the item alongside was taken, or is being written by a racing request.
    const reasons = cancellationReasons(error);
    const reason = opts.alongside ? reasons?.[1] : undefined;
    if (reason === "ConditionalCheckFailed" || reason === "TransactionConflict") return "taken";
    // A room with this id already exists (stage ids are unique, so this is not expected): it is not ours to undo.
    if (reasons?.[0] === "ConditionalCheckFailed") throw new ConflictError(`room ${room.roomId} already exists`);
    return mapDynamoError(error);
  }
}

export async function getRoom(db: Db, roomId: string): Promise<RoomRecord | undefined> {
  const out = await dynamo(() =>
    db.doc.send(
      new GetCommand({ TableName: db.table, Key: { pk: roomPk(roomId), sk: ROOM_SK }, ConsistentRead: true }),
    ),
  );
  return out.Item ? fromRoomItem(out.Item) : undefined;
}

/** Replaces the room (optimistic lock on version) and its visibility items in one transaction. */
export async function replaceRoom(db: Db, before: RoomRecord, after: RoomRecord): Promise<void> {
  const oldKeys = new Set(visibilityKeys(before));
  const newKeys = new Set(visibilityKeys(after));
  const items: TransactItem[] = [
    {
      Put: {
        TableName: db.table,
        Item: roomItem(after),
        ConditionExpression: "#v = :v",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":v": before.version },
      },
    },
    ...[...oldKeys]
      .filter((k) => !newKeys.has(k))
      .map((k) => ({ Delete: { TableName: db.table, Key: { pk: roomPk(after.roomId), sk: k } } })),
    ...[...newKeys]
      .filter((k) => !oldKeys.has(k))
      .map((k) => ({ Put: { TableName: db.table, Item: visItem(after.roomId, k) } })),
  ];
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (cancellationReasons(error)?.[0] === "ConditionalCheckFailed")
      throw new ConflictError("the room changed meanwhile; read it again and retry");
    mapDynamoError(error);
  }
}

/** Deletes every item of the room's partition, the room item last (so a failed delete can be retried). */
export async function deleteRoomItems(db: Db, roomId: string): Promise<void> {
  const keys = (await queryPartition(db, roomPk(roomId), { projection: "pk, sk" })) as Array<{
    pk: string;
    sk: string;
  }>;
  const ordered = [...keys.filter((k) => k.sk !== ROOM_SK), ...keys.filter((k) => k.sk === ROOM_SK)];
  for (let i = 0; i < ordered.length; i += 25) {
    let pending = ordered.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 5) throw mapDynamoError(new Error("unprocessed deletes"));
      const out = await dynamo(() => db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } })));
      pending = (out.UnprocessedItems?.[db.table] ?? []) as typeof pending;
      if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

/** Rooms by id, in the order asked (missing ones left out). */
export async function getRooms(db: Db, roomIds: string[]): Promise<RoomRecord[]> {
  const found = new Map<string, RoomRecord>();
  for (let i = 0; i < roomIds.length; i += 100) {
    let keys: Array<Record<string, unknown>> = roomIds.slice(i, i + 100).map((id) => ({ pk: roomPk(id), sk: ROOM_SK }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 5) throw mapDynamoError(new Error("unprocessed reads"));
      const out = await dynamo(() =>
        db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: keys, ConsistentRead: true } } })),
      );
      for (const item of out.Responses?.[db.table] ?? []) {
        const room = fromRoomItem(item);
        found.set(room.roomId, room);
      }
      keys = out.UnprocessedKeys?.[db.table]?.Keys ?? [];
      if (keys.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
  return roomIds.map((id) => found.get(id)).filter((r): r is RoomRecord => r !== undefined);
}

/** Room ids under one of listingKeys(), after a cursor, ascending. */
export async function roomIdsUnder(
  db: Db,
  indexKey: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const out = await dynamo(() =>
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: "gsi1",
        KeyConditionExpression: after ? "gsi1pk = :k AND gsi1sk > :after" : "gsi1pk = :k",
        ExpressionAttributeValues: { ":k": indexKey, ...(after ? { ":after": after } : {}) },
        Limit: limit,
      }),
    ),
  );
  return (out.Items ?? []).map((i) => String(i.gsi1sk));
}

/** For each room id: the room, the user's member role and ban, in as few BatchGetItem calls as the keys allow. */
export async function getRoomsWithCaller(db: Db, roomIds: string[], userId: string) {
  const keys = roomIds.flatMap((id) =>
    [ROOM_SK, memberSk(userId), banSk(userId)].map((sk) => ({ pk: roomPk(id), sk })),
  );
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let batch: Array<Record<string, unknown>> = keys.slice(i, i + 100);
    for (let attempt = 0; batch.length > 0; attempt++) {
      if (attempt > 5) throw mapDynamoError(new Error("unprocessed reads"));
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await dynamo(() =>
        db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: batch, ConsistentRead: true } } })),
      );
      items.push(...(out.Responses?.[db.table] ?? []));
      batch = out.UnprocessedKeys?.[db.table]?.Keys ?? [];
    }
  }
  const byRoom = new Map<string, { room?: RoomRecord; memberRole?: string; banUntilMs?: number }>();
  for (const item of items) {
    const roomId = roomIdOfPk(String(item.pk));
    const entry = byRoom.get(roomId) ?? {};
    const sk = String(item.sk);
    if (sk === ROOM_SK) entry.room = fromRoomItem(item);
    else if (sk.startsWith(MEMBER_PREFIX)) entry.memberRole = String(item.role);
    else if (sk.startsWith(BAN_PREFIX)) entry.banUntilMs = Number(item.untilMs);
    byRoom.set(roomId, entry);
  }
  return byRoom;
}
