// Token exchange's read and write (shared/store/token-exchange.ts) and the disconnect mark kicks write
// (shared/store/participants.ts, markDisconnected) against DynamoDB Local, on the token function's lite client: the
// read finds the caller's participant and its mark in the room-access round trip; the transaction updates the
// participant and its pointer only while no ban holds, the room exists, no mark was written and no other exchange
// changed the record, and says which of those refused it. (The charge of the caller's limit: token-store.test.ts.)
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { LiteClient } from "../../shared/aws/lite/client.ts";
import { liteTable } from "../../shared/aws/lite/dynamo-table.ts";
import type { Db, Table } from "../../shared/store/db.ts";
import { markDisconnected } from "../../shared/store/participants.ts";
import { readExchangeInputs, recordExchange, type ExchangeWrite } from "../../shared/store/token-exchange.ts";
import { recordIssuedParticipant } from "../../shared/store/token-records.ts";
import { exchangedRecord } from "../../shared/token/exchange.ts";
import { uniqueTableName, useLocalTable } from "../support/local-table.ts";

const TABLE = uniqueTableName("token-exchange-store-test");
const HOUR = 3_600_000;
const local = useLocalTable(TABLE);
let db: Db;
let lite: LiteClient;
let table: Table;
beforeAll(() => {
  ({ db, lite } = local());
  table = liteTable(lite, TABLE);
});

let seq = 0;
const NOW = Date.now();

/** A room with one participant of `userId`, recorded as the token path records it. */
async function roomWithParticipant(userId = "u1") {
  const roomId = `room${++seq}`;
  const participantId = `p${String(seq).padStart(11, "0")}`;
  await db.doc.send(
    new PutCommand({
      TableName: TABLE,
      Item: { pk: `ROOM#${roomId}`, sk: "ROOM", roomId, ownerId: "owner", stageArn: "arn", policy: {} },
    }),
  );
  const tokenExpiresMs = NOW + HOUR;
  const outcome = await recordIssuedParticipant(
    table,
    roomId,
    {
      participantId,
      userId,
      role: "viewer",
      capabilities: ["SUBSCRIBE"],
      via: "open",
      tokenExpiresAt: new Date(tokenExpiresMs).toISOString(),
      tokenExpiresMs,
      createdAt: new Date(NOW).toISOString(),
    },
    { now: NOW },
  );
  expect(outcome).toEqual({ kind: "recorded" });
  return { roomId, participantId, userId, tokenExpiresMs };
}

function promotion(p: { participantId: string; userId: string; tokenExpiresMs: number }, hours = 4): ExchangeWrite {
  return {
    userId: p.userId,
    participantId: p.participantId,
    previousExpiresMs: p.tokenExpiresMs,
    exchangedAt: new Date(NOW).toISOString(),
    displayName: "Vee",
    record: exchangedRecord(
      { capabilities: ["SUBSCRIBE"], tokenExpiresMs: p.tokenExpiresMs },
      { role: "speaker", via: "member", capabilities: ["PUBLISH", "SUBSCRIBE"], tokenExpiresMs: NOW + hours * HOUR },
    ),
  };
}

const get = async (roomId: string, sk: string) =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `ROOM#${roomId}`, sk }, ConsistentRead: true })))
    .Item;

describe("readExchangeInputs", () => {
  it("reads the room, the caller's membership, ban and count, participant and its mark in one round trip", async () => {
    const p = await roomWithParticipant();
    const inputs = await readExchangeInputs(table, p.roomId, p.userId, p.participantId, NOW);
    expect(inputs.room?.roomId).toBe(p.roomId);
    expect(inputs.tokensThisMinute).toBe(0);
    expect(inputs.subject).toEqual({
      participantId: p.participantId,
      userId: p.userId,
      capabilities: ["SUBSCRIBE"],
      tokenCapabilities: undefined,
      tokenExpiresMs: p.tokenExpiresMs,
      disconnected: false,
    });
    // Keyed by the caller: another user's participant is not found at all.
    expect((await readExchangeInputs(table, p.roomId, "u2", p.participantId, NOW)).subject).toBeUndefined();
    await markDisconnected(db, p.roomId, [p.participantId], NOW);
    expect((await readExchangeInputs(table, p.roomId, p.userId, p.participantId, NOW)).subject?.disconnected).toBe(
      true,
    );
  });
});

describe("recordExchange", () => {
  it("updates the participant and its pointer", async () => {
    const p = await roomWithParticipant();
    const write = promotion(p);
    expect(await recordExchange(table, p.roomId, write, { now: NOW })).toEqual({ kind: "recorded" });
    const part = await get(p.roomId, `PART#${p.userId}#${p.participantId}`);
    expect(part).toMatchObject({
      role: "speaker",
      via: "member",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenCapabilities: ["PUBLISH", "SUBSCRIBE"],
      tokenExpiresMs: write.record.tokenExpiresMs,
      tokenExpiresAt: write.record.tokenExpiresAt,
      exchangedAt: write.exchangedAt,
      expiresAt: Math.floor((write.record.tokenExpiresMs + 24 * HOUR) / 1000),
      createdAt: new Date(NOW).toISOString(),
    });
    expect(await get(p.roomId, `PID#${p.participantId}`)).toMatchObject({
      userId: p.userId,
      role: "speaker",
      displayName: "Vee",
      tokenExpiresMs: write.record.tokenExpiresMs,
    });
  });

  it("says what refused it, and writes nothing: a ban (with its end), the room gone, a mark, another exchange first", async () => {
    const refusals: Array<[string, (p: Awaited<ReturnType<typeof roomWithParticipant>>) => Promise<unknown>, unknown]> =
      [
        [
          "banned",
          (p) =>
            db.doc.send(
              new PutCommand({
                TableName: TABLE,
                Item: { pk: `ROOM#${p.roomId}`, sk: `BAN#${p.userId}`, userId: p.userId, untilMs: NOW + HOUR },
              }),
            ),
          { kind: "banned", untilMs: NOW + HOUR },
        ],
        [
          "room_gone",
          (p) => db.doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: `ROOM#${p.roomId}`, sk: "ROOM" } })),
          { kind: "room_gone" },
        ],
        ["disconnected", (p) => markDisconnected(db, p.roomId, [p.participantId], NOW), { kind: "disconnected" }],
        ["raced", (p) => recordExchange(table, p.roomId, promotion(p, 2), { now: NOW }), { kind: "raced" }],
      ];
    for (const [name, meanwhile, expected] of refusals) {
      const p = await roomWithParticipant();
      await meanwhile(p);
      const before = await get(p.roomId, `PART#${p.userId}#${p.participantId}`);
      const pointer = await get(p.roomId, `PID#${p.participantId}`);
      expect(await recordExchange(table, p.roomId, promotion(p), { now: NOW }), name).toEqual(expected);
      expect(await get(p.roomId, `PART#${p.userId}#${p.participantId}`), name).toEqual(before);
      expect(await get(p.roomId, `PID#${p.participantId}`), name).toEqual(pointer);
    }
  });

  it("an expired ban does not refuse it", async () => {
    const p = await roomWithParticipant();
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: `ROOM#${p.roomId}`, sk: `BAN#${p.userId}`, userId: p.userId, untilMs: NOW - 1 },
      }),
    );
    expect(await recordExchange(table, p.roomId, promotion(p), { now: NOW })).toEqual({ kind: "recorded" });
  });
});

describe("markDisconnected", () => {
  it("marks every participant given, in batches of 25, each once, until the longest token's life + 24 h", async () => {
    const roomId = `room${++seq}`;
    const ids = Array.from({ length: 60 }, (_, i) => `m${i}`);
    await markDisconnected(db, roomId, [...ids, ids[0]!], NOW);
    for (const id of [ids[0]!, ids[59]!]) {
      expect(await get(roomId, `DISC#${id}`)).toEqual({
        pk: `ROOM#${roomId}`,
        sk: `DISC#${id}`,
        participantId: id,
        at: new Date(NOW).toISOString(),
        expiresAt: Math.floor((NOW + 20160 * 60_000 + 24 * HOUR) / 1000),
      });
    }
  });
});
