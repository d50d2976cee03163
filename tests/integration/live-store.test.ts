// A room's live state in the table (shared/store/live.ts) against DynamoDB Local: the optimistic lock and the room's
// existence guard on its writes, the counts item the token path reads, the room's read claim and the account's read
// budget slots under concurrent claims, and the lookup of participants stagepass issued.
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { applyStageEvent, emptyLiveState } from "../../shared/live/state.ts";
import type { Db } from "../../shared/store/db.ts";
import { toLiveCounts } from "../../shared/store/items.ts";
import {
  claimIvsReadSlot,
  claimRoomRead,
  findIssuedParticipants,
  readLiveState,
  writeLiveState,
} from "../../shared/store/live.ts";
import { uniqueTableName, useLocalTable } from "../support/local-table.ts";

const TABLE = uniqueTableName("live-store-test");
const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const local = useLocalTable(TABLE);
let db: Db;
beforeAll(() => void ({ db } = local()));

let seq = 0;
async function room(): Promise<string> {
  const roomId = `liveRoom${++seq}`;
  await db.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: `ROOM#${roomId}`, sk: "ROOM", roomId } }));
  return roomId;
}
const get = async (roomId: string, sk: string) =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `ROOM#${roomId}`, sk }, ConsistentRead: true })))
    .Item;
const published =
  (participantId: string, at = T0) =>
  (s: ReturnType<typeof emptyLiveState>) =>
    applyStageEvent(s, { sessionId: "st-AAAAAAAAAAAAA", name: "published", participantId, userId: "u", at });

describe("the live state and its counts", () => {
  it("nothing stored: an empty state at version 0, and whether the room exists", async () => {
    const roomId = await room();
    expect(await readLiveState(db, roomId)).toEqual({ roomExists: true, state: emptyLiveState(), version: 0 });
    expect((await readLiveState(db, "noSuchRoom")).roomExists).toBe(false);
  });

  it("a write lands with its counts item (what the token path reads beside the room), one version up", async () => {
    const roomId = await room();
    const state = published("p1")(emptyLiveState());
    expect(await writeLiveState(db, roomId, 0, state, T0)).toBe("written");
    const read = await readLiveState(db, roomId);
    expect(read.version).toBe(1);
    expect(read.state).toEqual(state);
    expect(toLiveCounts(await get(roomId, "LIVE"))).toEqual({ connected: 1, publishing: 1, evidenceAt: T0 });
  });

  it("a writer that read an older version gets 'conflict' and writes nothing", async () => {
    const roomId = await room();
    expect(await writeLiveState(db, roomId, 0, published("p1")(emptyLiveState()), T0)).toBe("written");
    expect(await writeLiveState(db, roomId, 0, published("p2")(emptyLiveState()), T0)).toBe("conflict");
    const both = published("p2")((await readLiveState(db, roomId)).state);
    expect(await writeLiveState(db, roomId, 1, both, T0)).toBe("written");
    expect(toLiveCounts(await get(roomId, "LIVE"))).toMatchObject({ connected: 2, publishing: 2 });
  });

  it("no write for a room that does not exist (a late event never brings part of a deleted room back)", async () => {
    const roomId = await room();
    await db.doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: `ROOM#${roomId}`, sk: "ROOM" } }));
    expect(await writeLiveState(db, roomId, 0, published("p1")(emptyLiveState()), T0)).toBe("room_gone");
    expect(await get(roomId, "LIVESTATE")).toBeUndefined();
    expect(await get(roomId, "LIVE")).toBeUndefined();
  });
});

describe("claims", () => {
  it("a room's read: one claim of many concurrent ones wins, and the next only after the interval", async () => {
    const roomId = await room();
    const wins = await Promise.all(Array.from({ length: 30 }, () => claimRoomRead(db, roomId, T0, 5_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await claimRoomRead(db, roomId, T0 + 4_999, 5_000)).toBe(false);
    expect(await claimRoomRead(db, roomId, T0 + 5_000, 5_000)).toBe(true);
  });

  it("a budget slot: exactly one of many concurrent claims, per operation", async () => {
    const slot = Math.floor(T0 / 300) + seq++;
    const wins = await Promise.all(Array.from({ length: 40 }, () => claimIvsReadSlot(db, "ListParticipants", slot)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await claimIvsReadSlot(db, "GetStage", slot)).toBe(true);
    expect(await claimIvsReadSlot(db, "ListParticipants", slot + 1)).toBe(true);
    // Slots expire through DynamoDB's TTL, an hour after their time.
    const item = (
      await db.doc.send(
        new GetCommand({
          TableName: TABLE,
          Key: { pk: "IVSREAD#ListParticipants", sk: String(slot) },
          ConsistentRead: true,
        }),
      )
    ).Item;
    expect(item?.expiresAt).toBe(Math.floor((slot * 300 + 3_600_000) / 1000));
  });
});

describe("findIssuedParticipants", () => {
  it("role and display name from the pointers the token path writes; null for ids stagepass never issued", async () => {
    const roomId = await room();
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `ROOM#${roomId}`,
          sk: "PID#p1",
          userId: "u1",
          role: "speaker",
          displayName: "Ana",
          tokenExpiresMs: T0,
        },
      }),
    );
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `ROOM#${roomId}`,
          sk: "PID#p2",
          userId: "u2",
          role: "viewer",
          displayName: null,
          tokenExpiresMs: T0,
        },
      }),
    );
    const ids = ["p1", "p2", "outsider", ...Array.from({ length: 150 }, (_, i) => `x${i}`)];
    const found = await findIssuedParticipants(db, roomId, ids);
    expect(found.p1).toEqual({ role: "speaker", displayName: "Ana" });
    expect(found.p2).toEqual({ role: "viewer", displayName: null });
    expect(found.outsider).toBeNull();
    expect(Object.keys(found)).toHaveLength(ids.length);
  });
});
