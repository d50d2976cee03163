// The token path's writes (shared/store/token-records.ts) against DynamoDB Local: the caller's counter for the
// minute, charged one conditional increment at a time up to the limit, each request counted and given back once;
// the issued participant, recorded only while no ban holds and the room exists, with the ban's end returned when a
// ban refused it, and the transaction retried when DynamoDB cancelled it for a conflict.
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { LocalDynamoDb } from "../../local/dynamodb.ts";
import { RateLimitedError, UpstreamUnavailableError } from "../../shared/errors.ts";
import type { LiteClient } from "../../shared/aws/lite/client.ts";
import { liteTable } from "../../shared/aws/lite/dynamo-table.ts";
import type { Db, Table } from "../../shared/store/db.ts";
import { documentTable } from "../../shared/store/document-table.ts";
import { findParticipantOwner, listUserParticipants } from "../../shared/store/participants.ts";
import { minuteOf, readRoomAccess } from "../../shared/store/room-access.ts";
import {
  chargeToken,
  recordIssuedParticipant,
  refundToken,
  type ParticipantRecord,
} from "../../shared/store/token-records.ts";
import { uniqueTableName, useLocalTable } from "../support/local-table.ts";

const TABLE = uniqueTableName("token-store-test");
const local = useLocalTable(TABLE);
let ddb: LocalDynamoDb;
let db: Db;
let lite: LiteClient;
beforeAll(() => void ({ ddb, db, lite } = local()));

let seq = 0;
const HOUR = 3600_000;
function participant(userId: string, now: number, tokenMinutes = 60): ParticipantRecord {
  seq++;
  const tokenExpiresMs = now + tokenMinutes * 60_000;
  return {
    participantId: `p${String(seq).padStart(11, "0")}`,
    userId,
    role: "viewer",
    capabilities: ["SUBSCRIBE"],
    via: "open",
    tokenExpiresAt: new Date(tokenExpiresMs).toISOString(),
    tokenExpiresMs,
    createdAt: new Date(now).toISOString(),
  };
}
async function room(): Promise<string> {
  const roomId = `room${++seq}`;
  await db.doc.send(
    new PutCommand({
      TableName: TABLE,
      Item: { pk: `ROOM#${roomId}`, sk: "ROOM", roomId, ownerId: "owner", stageArn: "arn", policy: {} },
    }),
  );
  return roomId;
}
const putBan = (roomId: string, userId: string, untilMs: number) =>
  db.doc.send(
    new PutCommand({
      TableName: TABLE,
      Item: {
        pk: `ROOM#${roomId}`,
        sk: `BAN#${userId}`,
        userId,
        until: new Date(untilMs).toISOString(),
        untilMs,
        reason: null,
        bannedBy: "owner",
        createdAt: new Date().toISOString(),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      },
    }),
  );
const get = async (roomId: string, sk: string) =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `ROOM#${roomId}`, sk }, ConsistentRead: true })))
    .Item;

// The token function sends these calls with the lite client, the others with the SDK's document client: both run the
// same suite against DynamoDB Local, so the two behave alike (marshalling, cancellation reasons, returned ban).
const tables = [
  { client: "the SDK's document client", table: (): Table => documentTable(db) },
  { client: "the lite client", table: (): Table => liteTable(lite, TABLE) },
];

let requests = 0;
const requestId = () => `request-${++requests}`;

describe.each(tables)("chargeToken and refundToken against DynamoDB Local, with $client", ({ table }) => {
  it("charges one conditional increment at a time: of 40 concurrent charges with a limit of 30, exactly 30 count", async () => {
    const roomId = await room();
    const now = Date.now();
    ddb.resetCounts();
    const charges = await Promise.all(
      Array.from({ length: 40 }, () => chargeToken(table(), roomId, "c1", { now, limit: 30, requestId: requestId() })),
    );
    expect(charges.filter((c) => c !== undefined)).toHaveLength(30);
    expect(charges.filter((c) => c === undefined)).toHaveLength(10);
    // One UpdateItem each (more when the client retried one that timed out: it still counts once), no transaction.
    expect(Object.keys(ddb.requestCounts())).toEqual(["UpdateItem"]);
    expect(ddb.requestCounts().UpdateItem).toBeGreaterThanOrEqual(40);
    const counter = await get(roomId, `RATE#c1#${minuteOf(now)}`);
    expect(counter).toMatchObject({ count: 30, expiresAt: Math.floor(((minuteOf(now) + 2) * 60_000) / 1000) });
    expect((counter?.requests as Set<string>).size).toBe(30);
    expect((await readRoomAccess(table(), roomId, "c1", now)).tokensThisMinute).toBe(30);
    // Per user and room: another user, or the same user in another room, starts at zero.
    const id = requestId();
    expect(await chargeToken(table(), roomId, "c2", { now, limit: 30, requestId: id })).toEqual({
      roomId,
      userId: "c2",
      minute: minuteOf(now),
      requestId: id,
    });
  });

  it("gives a charge back to the minute it was charged in, once", async () => {
    const roomId = await room();
    const now = Date.now();
    const charge = (await chargeToken(table(), roomId, "c3", { now, limit: 1, requestId: requestId() }))!;
    expect(await chargeToken(table(), roomId, "c3", { now, limit: 1, requestId: requestId() })).toBeUndefined();
    await refundToken(table(), charge);
    expect((await get(roomId, `RATE#c3#${minuteOf(now)}`))?.count).toBe(0);
    // The place given back can be charged again, by another request; the first one's refund, sent again, is a no-op.
    const second = (await chargeToken(table(), roomId, "c3", { now, limit: 1, requestId: requestId() }))!;
    await refundToken(table(), charge);
    expect((await get(roomId, `RATE#c3#${minuteOf(now)}`))?.count).toBe(1);
    await refundToken(table(), second);
    await refundToken(table(), second);
    expect((await get(roomId, `RATE#c3#${minuteOf(now)}`))?.count).toBe(0);
    // A refund of a counter that is gone creates nothing.
    await refundToken(table(), { roomId, userId: "c4", minute: minuteOf(now), requestId: requestId() });
    expect(await get(roomId, `RATE#c4#${minuteOf(now)}`)).toBeUndefined();
  });

  it("a charge sent again after it was applied (a retry after a timeout) counts once, even at the limit", async () => {
    const roomId = await room();
    const now = Date.now();
    const id = requestId();
    const charge = await chargeToken(table(), roomId, "c5", { now, limit: 2, requestId: id });
    expect(await chargeToken(table(), roomId, "c5", { now, limit: 2, requestId: id })).toEqual(charge);
    expect((await get(roomId, `RATE#c5#${minuteOf(now)}`))?.count).toBe(1);
    await chargeToken(table(), roomId, "c5", { now, limit: 2, requestId: requestId() });
    // At the limit, the counted request is still told it is charged; another one is refused.
    expect(await chargeToken(table(), roomId, "c5", { now, limit: 2, requestId: id })).toEqual(charge);
    expect(await chargeToken(table(), roomId, "c5", { now, limit: 2, requestId: requestId() })).toBeUndefined();
    expect((await get(roomId, `RATE#c5#${minuteOf(now)}`))?.count).toBe(2);
  });
});

describe.each(tables)("recordIssuedParticipant against DynamoDB Local, with $client", ({ table }) => {
  it("records the participant and its pointer, kept until expiry + 24 h, in one transaction", async () => {
    const roomId = await room();
    const now = Date.now();
    const p = participant("u1", now);
    ddb.resetCounts();
    expect(await recordIssuedParticipant(table(), roomId, p, { now })).toEqual({ kind: "recorded" });
    expect(ddb.requestCounts()).toEqual({ TransactWriteItems: 1 });
    const record = await get(roomId, `PART#u1#${p.participantId}`);
    expect(record).toMatchObject({ ...p, expiresAt: Math.floor((p.tokenExpiresMs + 24 * HOUR) / 1000) });
    expect(await get(roomId, `PID#${p.participantId}`)).toMatchObject({
      userId: "u1",
      tokenExpiresMs: p.tokenExpiresMs,
    });
    // The counter is the charge's business, not the record's.
    expect(await get(roomId, `RATE#u1#${minuteOf(now)}`)).toBeUndefined();
    expect(await findParticipantOwner(db, roomId, p.participantId, now)).toBe("u1");
  });

  it("refuses while a ban holds, returning its end, and writes nothing; an expired ban (not yet deleted) does not count", async () => {
    const roomId = await room();
    const now = Date.now();
    const untilMs = now + 5 * 60_000;
    await putBan(roomId, "u2", untilMs);
    const p = participant("u2", now);
    ddb.resetCounts();
    expect(await recordIssuedParticipant(table(), roomId, p, { now })).toEqual({ kind: "banned", untilMs });
    // The ban's end came back with the cancellation: no second read.
    expect(ddb.requestCounts()).toEqual({ TransactWriteItems: 1 });
    expect(await get(roomId, `PART#u2#${p.participantId}`)).toBeUndefined();
    expect(await get(roomId, `PID#${p.participantId}`)).toBeUndefined();

    await putBan(roomId, "u2", now - 1);
    expect(await recordIssuedParticipant(table(), roomId, p, { now })).toEqual({ kind: "recorded" });
  });

  it("refuses when the room is gone, and writes nothing", async () => {
    const now = Date.now();
    const p = participant("u3", now);
    expect(await recordIssuedParticipant(table(), "no-such-room", p, { now })).toEqual({ kind: "room_gone" });
    expect(await get("no-such-room", `PART#u3#${p.participantId}`)).toBeUndefined();
    expect(await get("no-such-room", `PID#${p.participantId}`)).toBeUndefined();
  });

  it("counts a participant while its token is unexpired or expired less than 24 h ago", async () => {
    const roomId = await room();
    const now = Date.now();
    const fresh = participant("u4", now);
    const old = participant("u4", now - 25 * HOUR, 30); // expired 24.5 h ago
    const recent = participant("u4", now - 2 * HOUR, 30); // expired 1.5 h ago
    for (const p of [fresh, old, recent])
      expect((await recordIssuedParticipant(table(), roomId, p, { now: p.tokenExpiresMs - 60_000 })).kind).toBe(
        "recorded",
      );
    const listed = await listUserParticipants(db, roomId, "u4", now);
    expect(listed.map((p) => p.participantId).sort()).toEqual([fresh.participantId, recent.participantId].sort());
    expect(await findParticipantOwner(db, roomId, old.participantId, now)).toBeUndefined();
    expect(await findParticipantOwner(db, roomId, recent.participantId, now)).toBe("u4");
  });
});

describe("the token path's writes when DynamoDB cancels or fails", () => {
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(", ")}]`,
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const fake = (outcomes: Array<Error | undefined>) => {
    let calls = 0;
    const next = async () => {
      const o = outcomes[Math.min(calls++, outcomes.length - 1)];
      if (o) throw o;
    };
    const table: Table = {
      table: TABLE,
      batchGet: async () => ({ items: [], unprocessed: [] }),
      update: next,
      transactWrite: next,
    };
    return { db: table, calls: () => calls };
  };
  const now = Date.now();
  const conflict = () => cancelled("None", "None", "None", "TransactionConflict");
  const throttled = () => Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" });

  it("retries a transaction cancelled for a conflict, then succeeds", async () => {
    const f = fake([conflict(), conflict(), undefined]);
    expect(await recordIssuedParticipant(f.db, "r", participant("u5", now), { now })).toEqual({ kind: "recorded" });
    expect(f.calls()).toBe(3);
  });

  it("gives up after a few conflicts with 503, and maps throttling to 429", async () => {
    const f = fake([conflict()]);
    await expect(recordIssuedParticipant(f.db, "r", participant("u5", now), { now })).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(f.calls()).toBe(3);
    await expect(
      recordIssuedParticipant(fake([throttled()]).db, "r", participant("u5", now), { now }),
    ).rejects.toBeInstanceOf(RateLimitedError);
    await expect(
      recordIssuedParticipant(fake([new Error("socket hang up")]).db, "r", participant("u5", now), { now }),
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it("does not retry a failed condition, even alongside a conflict", async () => {
    const f = fake([cancelled("ConditionalCheckFailed", "None", "None", "TransactionConflict")]);
    expect(await recordIssuedParticipant(f.db, "r", participant("u5", now), { now })).toEqual({
      kind: "banned",
      untilMs: undefined,
    });
    expect(f.calls()).toBe(1);
    expect(
      await recordIssuedParticipant(
        fake([cancelled("None", "ConditionalCheckFailed", "None", "None")]).db,
        "r",
        participant("u5", now),
        { now },
      ),
    ).toEqual({ kind: "room_gone" });
  });

  it("a charge or a refund that DynamoDB throttles is 429, one it fails is 503, with no retry of their own", async () => {
    const charge = { roomId: "r", userId: "u6", minute: 1, requestId: "q" };
    let f = fake([throttled()]);
    await expect(chargeToken(f.db, "r", "u6", { now, limit: 5, requestId: "q" })).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    expect(f.calls()).toBe(1);
    f = fake([new Error("socket hang up")]);
    await expect(chargeToken(f.db, "r", "u6", { now, limit: 5, requestId: "q" })).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(f.calls()).toBe(1);
    await expect(refundToken(fake([throttled()]).db, charge)).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refundToken(fake([new Error("socket hang up")]).db, charge)).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
  });
});
