// A room's live state in the table: the whole state (`LIVESTATE`, a JSON document with an optimistic-lock version),
// its counts (`LIVE`, small, read by the token path beside the room), the room's IVS read claim (`LIVEREAD`), and
// the account's IVS read budget (`IVSREAD#<operation>` / slot). Every write of the state is conditional on the room
// existing, so that a late event never brings back part of a deleted room.
import { BatchGetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { cancellationReasons, dynamo, mapDynamoError } from "../aws/dynamo.ts";
import { emptyLiveState, type IssuedInfo, type LiveState } from "../live/state.ts";
import { countsEvidenceAt, isLive, liveCounts } from "../live/state.ts";
import type { Db } from "./db.ts";
import {
  epochSeconds,
  ivsReadSlotPk,
  LIVE_READ_SK,
  LIVE_SK,
  LIVE_STATE_SK,
  pointerSk,
  ROOM_SK,
  roomIdOfPk,
  roomPk,
} from "./keys.ts";
import { SLOT_MS } from "../live/budget.ts";

export interface StoredLiveState {
  roomExists: boolean;
  state: LiveState;
  /** 0 when nothing is stored yet. */
  version: number;
}

/** One strongly consistent read: whether the room exists, and its live state. */
export async function readLiveState(db: Db, roomId: string): Promise<StoredLiveState> {
  const pk = roomPk(roomId);
  const items = await batchGetAll(
    db,
    [
      { pk, sk: ROOM_SK },
      { pk, sk: LIVE_STATE_SK },
    ],
    "pk, sk, #s, #v",
    { "#s": "state", "#v": "version" },
  );
  const stored = items.find((i) => i.sk === LIVE_STATE_SK);
  return {
    roomExists: items.some((i) => i.sk === ROOM_SK),
    state:
      stored && typeof stored.state === "string"
        ? { ...emptyLiveState(), ...(JSON.parse(stored.state) as LiveState) }
        : emptyLiveState(),
    version: stored ? Number(stored.version ?? 0) : 0,
  };
}

export type LiveWriteOutcome = "written" | "conflict" | "room_gone";

/**
 * Writes the state (and its counts) if it is still at `version` and the room exists: "conflict" when another
 * writer got there first (read again and re-apply), "room_gone" when the room is not there (nothing written).
 */
export async function writeLiveState(
  db: Db,
  roomId: string,
  version: number,
  state: LiveState,
  now: number,
): Promise<LiveWriteOutcome> {
  const pk = roomPk(roomId);
  const counts = liveCounts(state);
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: db.table,
              Key: { pk, sk: ROOM_SK },
              ConditionExpression: "attribute_exists(pk)",
            },
          },
          {
            Put: {
              TableName: db.table,
              Item: { pk, sk: LIVE_STATE_SK, state: JSON.stringify(state), version: version + 1, updatedAt: now },
              ...(version === 0
                ? { ConditionExpression: "attribute_not_exists(pk)" }
                : {
                    ConditionExpression: "#v = :v",
                    ExpressionAttributeNames: { "#v": "version" },
                    ExpressionAttributeValues: { ":v": version },
                  }),
            },
          },
          {
            Put: {
              TableName: db.table,
              Item: {
                pk,
                sk: LIVE_SK,
                connected: counts.connected,
                publishing: counts.publishing,
                evidenceAt: countsEvidenceAt(state),
                live: isLive(state),
                sessionId: state.sessionId,
                version: version + 1,
              },
            },
          },
        ],
      }),
    );
    return "written";
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0] === "ConditionalCheckFailed") return "room_gone";
    if (reasons?.[1] === "ConditionalCheckFailed" || reasons?.includes("TransactionConflict")) return "conflict";
    return mapDynamoError(error);
  }
}

/**
 * Claims the room's next IVS read: true for one caller in ROOM_READ_INTERVAL_MS (`intervalMs`), however many
 * containers ask at once.
 */
export async function claimRoomRead(db: Db, roomId: string, now: number, intervalMs: number): Promise<boolean> {
  return conditionalPut(db, {
    Item: { pk: roomPk(roomId), sk: LIVE_READ_SK, at: now, expiresAt: epochSeconds(now + 86_400_000) },
    ConditionExpression: "attribute_not_exists(pk) OR #at <= :before",
    ExpressionAttributeNames: { "#at": "at" },
    ExpressionAttributeValues: { ":before": now - intervalMs },
  });
}

/** Of these rooms, those whose counts item says a session may be active (the watch's first sweep: shared/live/watch.ts). */
export async function liveRoomsAmong(db: Db, roomIds: string[]): Promise<string[]> {
  const items = await batchGetAll(
    db,
    roomIds.map((roomId) => ({ pk: roomPk(roomId), sk: LIVE_SK })),
    "pk, #l",
    { "#l": "live" },
  );
  return items.filter((item) => item.live === true).map((item) => roomIdOfPk(String(item.pk)));
}

/** Claims one slot of the account's IVS read budget for `operation` (shared/live/budget.ts). */
export async function claimIvsReadSlot(db: Db, operation: string, slot: number): Promise<boolean> {
  return conditionalPut(db, {
    // Kept an hour past the slot, for whoever looks; DynamoDB's TTL removes it later.
    Item: { pk: ivsReadSlotPk(operation), sk: String(slot), expiresAt: epochSeconds(slot * SLOT_MS + 3_600_000) },
    ConditionExpression: "attribute_not_exists(pk)",
  });
}

/**
 * What stagepass's own records say about participant ids of this room: role and display name for those it issued
 * (the pointer item the token path writes), null for the others.
 */
export async function findIssuedParticipants(
  db: Db,
  roomId: string,
  participantIds: string[],
): Promise<Record<string, IssuedInfo | null>> {
  const pk = roomPk(roomId);
  const found: Record<string, IssuedInfo | null> = Object.fromEntries(participantIds.map((id) => [id, null]));
  const items = await batchGetAll(
    db,
    participantIds.map((id) => ({ pk, sk: pointerSk(id) })),
    "sk, #r, displayName",
    { "#r": "role" },
  );
  for (const item of items) {
    const id = String(item.sk).slice(pointerSk("").length);
    if (typeof item.role === "string")
      found[id] = { role: item.role, displayName: typeof item.displayName === "string" ? item.displayName : null };
  }
  return found;
}

async function conditionalPut(
  db: Db,
  input: Omit<ConstructorParameters<typeof PutCommand>[0], "TableName">,
): Promise<boolean> {
  try {
    await db.doc.send(new PutCommand({ TableName: db.table, ...input }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "ConditionalCheckFailedException") return false;
    return mapDynamoError(error);
  }
}

/** Every item of `keys` (any number), strongly consistent, unprocessed keys retried with backoff. */
async function batchGetAll(
  db: Db,
  keys: Array<Record<string, unknown>>,
  projection: string,
  names: Record<string, string>,
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for (let i = 0; i < keys.length; i += 100) {
    let batch = keys.slice(i, i + 100);
    for (let attempt = 0; batch.length > 0; attempt++) {
      if (attempt > 5) mapDynamoError(new Error("unprocessed reads"));
      if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      const out = await dynamo(() =>
        db.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [db.table]: {
                Keys: batch,
                ConsistentRead: true,
                ProjectionExpression: projection,
                ExpressionAttributeNames: names,
              },
            },
          }),
        ),
      );
      items.push(...(out.Responses?.[db.table] ?? []));
      batch = (out.UnprocessedKeys?.[db.table]?.Keys ?? []) as Array<Record<string, unknown>>;
    }
  }
  return items;
}
