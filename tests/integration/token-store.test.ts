// The token path's one write (shared/store/participants.ts, recordIssuedParticipant) against DynamoDB Local: it
// records the participant only while no ban holds, the room exists and the minute's count is under the limit,
// returns the ban's end when a ban refused it, and retries a transaction DynamoDB cancelled for a conflict.
import { DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTableFromTemplate, startDynamoDb, type LocalDynamoDb } from "../../local/dynamodb.ts";
import { loadTemplate, tableOf } from "../../local/template.ts";
import { RateLimitedError, UpstreamUnavailableError } from "../../shared/errors.ts";
import { createLiteClient, DYNAMODB, type LiteClient } from "../../shared/aws/lite/client.ts";
import { liteTable } from "../../shared/aws/lite/dynamo-table.ts";
import type { Db, TokenTable } from "../../shared/store/db.ts";
import { documentTable } from "../../shared/store/document-table.ts";
import { findParticipantOwner, listUserParticipants } from "../../shared/store/participants.ts";
import { minuteOf, readTokenDecisionInputs, recordIssuedParticipant, type ParticipantRecord } from "../../shared/store/token-path.ts";

const TABLE = "token-store-test";
const REGION = "us-east-1";
let ddb: LocalDynamoDb;
let db: Db;
let lite: LiteClient;

beforeAll(async () => {
  ddb = await startDynamoDb({ region: REGION });
  await createTableFromTemplate(ddb.directEndpoint, REGION, TABLE, tableOf(loadTemplate()).properties);
  db = {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: ddb.endpoint, region: REGION, credentials: { accessKeyId: "local", secretAccessKey: "local" } })),
    table: TABLE,
  };
  lite = createLiteClient(DYNAMODB, {
    maxAttempts: 3, timeoutMs: 2_500,
    env: { AWS_REGION: REGION, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint },
  });
}, 120_000);

afterAll(async () => {
  db?.doc.destroy();
  lite?.close();
  await ddb?.close();
});

let seq = 0;
const HOUR = 3600_000;
function participant(userId: string, now: number, tokenMinutes = 60): ParticipantRecord {
  seq++;
  const tokenExpiresMs = now + tokenMinutes * 60_000;
  return {
    participantId: `p${String(seq).padStart(11, "0")}`, userId, role: "viewer", capabilities: ["SUBSCRIBE"], via: "open",
    tokenExpiresAt: new Date(tokenExpiresMs).toISOString(), tokenExpiresMs, createdAt: new Date(now).toISOString(),
  };
}
async function room(): Promise<string> {
  const roomId = `room${++seq}`;
  await db.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: `ROOM#${roomId}`, sk: "ROOM", roomId, ownerId: "owner", stageArn: "arn", policy: {} } }));
  return roomId;
}
const putBan = (roomId: string, userId: string, untilMs: number) => db.doc.send(new PutCommand({
  TableName: TABLE,
  Item: { pk: `ROOM#${roomId}`, sk: `BAN#${userId}`, userId, until: new Date(untilMs).toISOString(), untilMs, reason: null, bannedBy: "owner", createdAt: new Date().toISOString(), expiresAt: Math.floor(Date.now() / 1000) + 3600 },
}));
const get = async (roomId: string, sk: string) => (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `ROOM#${roomId}`, sk }, ConsistentRead: true }))).Item;

// The token function sends these calls with the lite client, the others with the SDK's document client: both run the
// same suite against DynamoDB Local, so the two behave alike (marshalling, cancellation reasons, returned ban).
describe.each([
  { client: "the SDK's document client", table: (): TokenTable => documentTable(db) },
  { client: "the lite client", table: (): TokenTable => liteTable(lite, TABLE) },
])("recordIssuedParticipant against DynamoDB Local, with $client", ({ table }) => {
  it("records the participant, its pointer and the count, kept until expiry + 24 h, in one transaction", async () => {
    const roomId = await room();
    const now = Date.now();
    const p = participant("u1", now);
    ddb.resetCounts();
    expect(await recordIssuedParticipant(table(), roomId, p, { now, rateLimit: 10 })).toEqual({ kind: "recorded" });
    expect(ddb.requestCounts()).toEqual({ TransactWriteItems: 1 });
    const record = await get(roomId, `PART#u1#${p.participantId}`);
    expect(record).toMatchObject({ ...p, expiresAt: Math.floor((p.tokenExpiresMs + 24 * HOUR) / 1000) });
    expect(await get(roomId, `PID#${p.participantId}`)).toMatchObject({ userId: "u1", tokenExpiresMs: p.tokenExpiresMs });
    expect((await get(roomId, `RATE#u1#${minuteOf(now)}`))?.count).toBe(1);
    expect(await findParticipantOwner(db, roomId, p.participantId, now)).toBe("u1");
    expect((await readTokenDecisionInputs(table(), roomId, "u1", now)).tokensThisMinute).toBe(1);
  });

  it("refuses while a ban holds, returning its end, and writes nothing; an expired ban (not yet deleted) does not count", async () => {
    const roomId = await room();
    const now = Date.now();
    const untilMs = now + 5 * 60_000;
    await putBan(roomId, "u2", untilMs);
    const p = participant("u2", now);
    ddb.resetCounts();
    expect(await recordIssuedParticipant(table(), roomId, p, { now, rateLimit: 10 })).toEqual({ kind: "banned", untilMs });
    // The ban's end came back with the cancellation: no second read.
    expect(ddb.requestCounts()).toEqual({ TransactWriteItems: 1 });
    expect(await get(roomId, `PART#u2#${p.participantId}`)).toBeUndefined();
    expect(await get(roomId, `PID#${p.participantId}`)).toBeUndefined();
    expect(await get(roomId, `RATE#u2#${minuteOf(now)}`)).toBeUndefined();

    await putBan(roomId, "u2", now - 1);
    expect(await recordIssuedParticipant(table(), roomId, p, { now, rateLimit: 10 })).toEqual({ kind: "recorded" });
  });

  it("refuses when the room is gone, and at the minute's limit (admins, without a limit, are not counted)", async () => {
    const now = Date.now();
    const p = participant("u3", now);
    expect(await recordIssuedParticipant(table(), "no-such-room", p, { now, rateLimit: 10 })).toEqual({ kind: "room_gone" });
    expect(await get("no-such-room", `PART#u3#${p.participantId}`)).toBeUndefined();

    const roomId = await room();
    for (let i = 0; i < 3; i++) expect((await recordIssuedParticipant(table(), roomId, participant("u3", now), { now, rateLimit: 3 })).kind).toBe("recorded");
    const fourth = participant("u3", now);
    expect(await recordIssuedParticipant(table(), roomId, fourth, { now, rateLimit: 3 })).toEqual({ kind: "rate_limited" });
    expect(await get(roomId, `PART#u3#${fourth.participantId}`)).toBeUndefined();
    expect((await get(roomId, `RATE#u3#${minuteOf(now)}`))?.count).toBe(3);
    expect(await recordIssuedParticipant(table(), roomId, fourth, { now, rateLimit: undefined })).toEqual({ kind: "recorded" });
    expect((await get(roomId, `RATE#u3#${minuteOf(now)}`))?.count).toBe(3);
  });

  it("counts a participant while its token is unexpired or expired less than 24 h ago", async () => {
    const roomId = await room();
    const now = Date.now();
    const fresh = participant("u4", now);
    const old = participant("u4", now - 25 * HOUR, 30); // expired 24.5 h ago
    const recent = participant("u4", now - 2 * HOUR, 30); // expired 1.5 h ago
    for (const p of [fresh, old, recent]) expect((await recordIssuedParticipant(table(), roomId, p, { now: p.tokenExpiresMs - 60_000, rateLimit: undefined })).kind).toBe("recorded");
    const listed = await listUserParticipants(db, roomId, "u4", now);
    expect(listed.map((p) => p.participantId).sort()).toEqual([fresh.participantId, recent.participantId].sort());
    expect(await findParticipantOwner(db, roomId, old.participantId, now)).toBeUndefined();
    expect(await findParticipantOwner(db, roomId, recent.participantId, now)).toBe("u4");
  });
});

describe("recordIssuedParticipant when DynamoDB cancels or fails", () => {
  const cancelled = (...codes: string[]) => new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(", ")}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
  const fake = (outcomes: Array<Error | undefined>) => {
    let calls = 0;
    const table: TokenTable = {
      table: TABLE,
      batchGet: async () => ({ items: [], unprocessed: [] }),
      transactWrite: async () => { const o = outcomes[Math.min(calls++, outcomes.length - 1)]; if (o) throw o; },
    };
    return { db: table, calls: () => calls };
  };
  const now = Date.now();
  const conflict = () => cancelled("None", "None", "None", "None", "TransactionConflict");

  it("retries a transaction cancelled for a conflict, then succeeds", async () => {
    const f = fake([conflict(), conflict(), undefined]);
    expect(await recordIssuedParticipant(f.db, "r", participant("u5", now), { now, rateLimit: 10 })).toEqual({ kind: "recorded" });
    expect(f.calls()).toBe(3);
  });

  it("gives up after a few conflicts with 503, and maps throttling to 429", async () => {
    const f = fake([conflict()]);
    await expect(recordIssuedParticipant(f.db, "r", participant("u5", now), { now, rateLimit: 10 })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(f.calls()).toBe(3);
    const throttled = Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" });
    await expect(recordIssuedParticipant(fake([throttled]).db, "r", participant("u5", now), { now, rateLimit: 10 })).rejects.toBeInstanceOf(RateLimitedError);
    await expect(recordIssuedParticipant(fake([new Error("socket hang up")]).db, "r", participant("u5", now), { now, rateLimit: 10 })).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it("does not retry a failed condition, even alongside a conflict", async () => {
    const f = fake([cancelled("ConditionalCheckFailed", "None", "None", "None", "TransactionConflict")]);
    expect(await recordIssuedParticipant(f.db, "r", participant("u5", now), { now, rateLimit: 10 })).toEqual({ kind: "banned", untilMs: undefined });
    expect(f.calls()).toBe(1);
    expect(await recordIssuedParticipant(fake([cancelled("None", "None", "None", "None", "ConditionalCheckFailed")]).db, "r", participant("u5", now), { now, rateLimit: 10 }))
      .toEqual({ kind: "rate_limited" });
  });
});
