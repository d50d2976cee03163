// The token function's DynamoDB attribute-value conversion (shared/aws/lite/attribute-values.ts) against
// @aws-sdk/util-dynamodb, which the SDK's document client uses: the same wire format for every value the fast path
// takes, and the library's own result or error for everything it hands over. Its calls against DynamoDB Local run in
// tests/integration/token-store.test.ts (both clients).
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromAttributeValue, fromItem, toAttributeValue, toItem } from "../../shared/aws/lite/attribute-values.ts";
import type { DocTransactItem, DocUpdate, Table } from "../../shared/store/db.ts";
import { chargeToken, recordIssuedParticipant } from "../../shared/store/token-records.ts";

const OPTIONS = { removeUndefinedValues: true };

/** What the store writes: strings, numbers, booleans, null, lists and maps, with undefined members to drop. */
const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "__proto__");
const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, min: -1e15, max: 1e15 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, -0, 0.1, 1e21, -1e-7),
  fc.boolean(),
  fc.constant(null),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("list"), tie("map")),
  list: fc.array(fc.oneof(tie("value"), fc.constant(undefined)), { maxLength: 5 }),
  map: fc.dictionary(key, fc.oneof(tie("value"), fc.constant(undefined)), { maxKeys: 5 }),
}));
const item = fc.dictionary(key, fc.oneof(value, fc.constant(undefined)), { maxKeys: 8 });

/** The library's answer, or the message of the error it throws. */
const outcome = (f: () => unknown) => {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe("attribute values, as util-dynamodb converts them", () => {
  it("an item becomes the wire format marshall (removeUndefinedValues) makes", () => {
    fc.assert(
      fc.property(item, (i) => {
        // 1e21 is past Number.MAX_SAFE_INTEGER: both refuse it, with the library's message.
        expect(outcome(() => toItem(i))).toEqual(outcome(() => marshall(i, OPTIONS)));
      }),
      { numRuns: 500 },
    );
  });

  it("a wire item becomes the value unmarshall makes, and a written item reads back as written (less undefined)", () => {
    fc.assert(
      fc.property(item, (i) => {
        const written = outcome(() => marshall(i, OPTIONS));
        if (!("value" in written)) return;
        const wire = written.value as ReturnType<typeof marshall>;
        expect(fromItem(wire as unknown as Record<string, Record<string, unknown>>)).toEqual(unmarshall(wire));
        expect(fromItem(toItem(i))).toEqual(unmarshall(marshall(i, OPTIONS)));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps the exact wire form of the token path's own items", async () => {
    // What chargeToken and recordIssuedParticipant (shared/store/token-records.ts) hand the lite table, which
    // converts it with toItem.
    const written: DocTransactItem[] = [];
    const updates: DocUpdate[] = [];
    const table: Table = {
      table: "t",
      batchGet: async () => ({ items: [], unprocessed: [] }),
      update: async (input) => {
        updates.push(input);
      },
      transactWrite: async (items) => {
        written.push(...items);
      },
    };
    const now = Date.parse("2026-12-01T00:00:00.000Z");
    const outcome = await recordIssuedParticipant(
      table,
      "r1",
      {
        participantId: "p1",
        userId: "u1",
        role: "host",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        via: "owner",
        displayName: "Ana",
        tokenExpiresAt: "2026-12-01T01:00:00.000Z",
        tokenExpiresMs: Date.parse("2026-12-01T01:00:00.000Z"),
        createdAt: "2026-12-01T00:00:00.000Z",
      },
      { now },
    );
    expect(outcome).toEqual({ kind: "recorded" });
    await chargeToken(table, "r1", "u1", { now, limit: 10, requestId: "req-1" });
    const wire = (kind: string, member: string) =>
      written
        .filter((i) => i[kind]?.[member] !== undefined)
        .map((i) => toItem(i[kind]![member] as Record<string, unknown>));
    // The participant and its pointer, each until the token's expiry + 24 h.
    expect(wire("Put", "Item")).toEqual([
      {
        pk: { S: "ROOM#r1" },
        sk: { S: "PART#u1#p1" },
        participantId: { S: "p1" },
        userId: { S: "u1" },
        role: { S: "host" },
        capabilities: { L: [{ S: "PUBLISH" }, { S: "SUBSCRIBE" }] },
        via: { S: "owner" },
        displayName: { S: "Ana" },
        tokenExpiresAt: { S: "2026-12-01T01:00:00.000Z" },
        tokenExpiresMs: { N: "1796086800000" },
        createdAt: { S: "2026-12-01T00:00:00.000Z" },
        expiresAt: { N: "1796173200" },
      },
      // The pointer also names the role and display name, for the room's participant list.
      {
        pk: { S: "ROOM#r1" },
        sk: { S: "PID#p1" },
        userId: { S: "u1" },
        role: { S: "host" },
        displayName: { S: "Ana" },
        tokenExpiresMs: { N: "1796086800000" },
        expiresAt: { N: "1796173200" },
      },
    ]);
    // The ban and the room it checks, and the caller's counter for the minute.
    expect(wire("ConditionCheck", "Key")).toEqual([
      { pk: { S: "ROOM#r1" }, sk: { S: "BAN#u1" } },
      { pk: { S: "ROOM#r1" }, sk: { S: "ROOM" } },
    ]);
    expect(wire("ConditionCheck", "ExpressionAttributeValues")).toEqual([{ ":now": { N: "1796083200000" } }]);
    expect(updates.map((u) => toItem(u.Key))).toEqual([{ pk: { S: "ROOM#r1" }, sk: { S: "RATE#u1#29934720" } }]);
    expect(updates.map((u) => toItem(u.ExpressionAttributeValues!))).toEqual([
      {
        ":one": { N: "1" },
        ":request": { SS: ["req-1"] },
        ":id": { S: "req-1" },
        ":limit": { N: "10" },
        ":exp": { N: "1796083320" },
      },
    ]);
  });

  it("hands sets, binary, big and special numbers to util-dynamodb: its result, or its error", () => {
    const odd: unknown[] = [
      new Set(["a", "b"]),
      new Set([1, 2]),
      new Uint8Array([1, 2, 3]),
      Number.MAX_SAFE_INTEGER + 2,
      -(2 ** 60),
      10n ** 30n,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      new Set(),
      new Map([["k", "v"]]),
      new Date(0),
      () => 1,
    ];
    for (const v of odd) {
      expect(
        outcome(() => toItem({ v })),
        String(v),
      ).toEqual(outcome(() => marshall({ v }, OPTIONS)));
      if (typeof v !== "function")
        expect(
          outcome(() => toAttributeValue(v)),
          String(v),
        ).toEqual(outcome(() => marshall({ v }, OPTIONS).v));
    }
    const wire: Array<Record<string, unknown>> = [
      { SS: ["a", "b"] },
      { NS: ["1", "2"] },
      { BS: [new Uint8Array([1])] },
      { B: new Uint8Array([9]) },
      { N: "123456789012345678901234567890" },
      { N: "-9007199254740993" },
      { N: "not a number" },
      { X: "unknown type" },
      {},
    ];
    for (const w of wire) {
      expect(
        outcome(() => fromItem({ v: w })),
        JSON.stringify(w),
      ).toEqual(outcome(() => unmarshall({ v: w } as never)));
      expect(
        outcome(() => fromAttributeValue(w)),
        JSON.stringify(w),
      ).toEqual(outcome(() => unmarshall({ v: w } as never).v));
    }
  });
});
