// POST /rooms as a use case (functions/rooms/create-room.ts) on in-memory fakes of its ports: a stage in IVS and the
// room in DynamoDB, or neither; Idempotency-Key retries answer with the first room and make no second stage; and
// ROOM_CREATOR_GROUPS. Through the offline stack: tests/e2e/rooms.test.ts, rooms-integrity.test.ts.
import { describe, expect, it } from "vitest";
import { createRoom } from "../../functions/rooms/create-room.ts";
import {
  ConflictError,
  ForbiddenError,
  IdempotencyMismatchError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamUnavailableError,
  ValidationError,
} from "../../shared/errors.ts";
import { awsError, caller, fakeDeps, request, throttled } from "../support/fakes.ts";

const alice = caller("0a1b2c3d-0000-4000-8000-00000000a11c");
const post = (body: unknown, key?: string, who = alice) =>
  request(who, { body, ...(key !== undefined ? { headers: { "idempotency-key": key } } : {}) });

describe("createRoom", () => {
  it("creates the stage, then the room, its listing items and an audit entry; 201 with its location", async () => {
    const { deps, table, ivs } = fakeDeps();
    const r = await createRoom(deps, post({ name: "show", title: "The show", tags: { team: "a" } }));
    expect(r.status).toBe(201);
    const room = r.body as { roomId: string; stageArn: string; ownerId: string; yourRole: string };
    expect(r.headers).toEqual({ location: `/rooms/${room.roomId}` });
    expect(room).toMatchObject({
      name: "show",
      title: "The show",
      ownerId: alice.userId,
      yourRole: "host",
      tags: { team: "a" },
    });
    expect([...ivs.stages.keys()]).toEqual([room.stageArn]);
    expect(room.stageArn.endsWith(`/${room.roomId}`)).toBe(true);
    expect(ivs.stages.get(room.stageArn)).toMatchObject({ name: "show", tags: { team: "a" } });
    const items = table.partition(`ROOM#${room.roomId}`);
    expect(items.map((i) => i.sk)).toEqual(["ROOM", "VIS#open", `VIS#user#${alice.userId}`]);
    expect(table.partition(`AUDIT#${room.roomId}`).map((i) => i.action)).toEqual(["room.created"]);
  });

  it("refuses bad input with a 400 before anything is created", async () => {
    const { deps, table, ivs } = fakeDeps();
    for (const body of [
      null,
      { name: "no spaces" },
      { title: "" },
      { tags: { "aws:x": "y" } },
      { policy: { access: "secret" } },
      { bogus: 1 },
    ]) {
      await expect(createRoom(deps, post(body)), JSON.stringify(body)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(createRoom(deps, post({}, "not a valid key"))).rejects.toBeInstanceOf(ValidationError);
    expect(ivs.calls).toEqual([]);
    expect(table.snapshot()).toEqual([]);
  });

  describe("with an Idempotency-Key", () => {
    it("a retry answers with the same room, and IVS makes one stage", async () => {
      const { deps, ivs } = fakeDeps();
      const first = await createRoom(deps, post({ name: "once", title: "T" }, "key-1"));
      const again = await createRoom(deps, post({ title: "T", name: "once" }, "key-1"));
      expect(again).toEqual(first);
      expect(ivs.count("CreateStage")).toBe(1);
      expect(ivs.stages.size).toBe(1);
    });

    it("the same key with another body is 422 and creates nothing; another caller's same key is another room", async () => {
      const { deps, table, ivs } = fakeDeps();
      const first = await createRoom(deps, post({ name: "a" }, "key-2"));
      const before = table.snapshot();
      await expect(createRoom(deps, post({ name: "b" }, "key-2"))).rejects.toBeInstanceOf(IdempotencyMismatchError);
      await expect(createRoom(deps, post({}, "key-2"))).rejects.toBeInstanceOf(IdempotencyMismatchError);
      expect(table.snapshot()).toEqual(before);
      expect(ivs.count("CreateStage")).toBe(1);
      const bob = caller("0b0b0b0b-0000-4000-8000-00000000b0b0");
      const theirs = await createRoom(deps, post({ name: "a" }, "key-2", bob));
      expect((theirs.body as { roomId: string }).roomId).not.toBe((first.body as { roomId: string }).roomId);
    });

    it("a key whose room was deleted since is 409, not a new room", async () => {
      const { deps, table, ivs } = fakeDeps();
      const first = await createRoom(deps, post({ name: "gone" }, "key-3"));
      const roomId = (first.body as { roomId: string }).roomId;
      for (const item of table.partition(`ROOM#${roomId}`))
        table.items.delete(`${String(item.pk)}\u0000${String(item.sk)}`);
      await expect(createRoom(deps, post({ name: "gone" }, "key-3"))).rejects.toBeInstanceOf(ConflictError);
      expect(ivs.count("CreateStage")).toBe(1);
    });

    it("a request that loses the race for its key deletes its own stage and answers with the winner's room", async () => {
      const { deps, table, ivs } = fakeDeps();
      // The winner's record lands between this request's read of the key and its own write.
      const winner = await createRoom(deps, post({ name: "race" }, "key-4"));
      const record = table.snapshot().find((i) => String(i.pk).startsWith("IDEM#"))!;
      const key = `${String(record.pk)}\u0000${String(record.sk)}`;
      table.items.delete(key);
      let reads = 0;
      const send = deps.db.doc.send.bind(deps.db.doc) as (command: unknown) => Promise<unknown>;
      const db = {
        ...deps.db,
        doc: {
          send: async (command: { constructor: { name: string } }) => {
            const out = await send(command);
            if (command.constructor.name === "GetCommand" && reads++ === 0) table.items.set(key, record);
            return out;
          },
        } as unknown as typeof deps.db.doc,
      };
      const loser = await createRoom({ ...deps, db }, post({ name: "race" }, "key-4"));
      expect(loser).toEqual(winner);
      expect(ivs.count("CreateStage")).toBe(2);
      expect(ivs.count("DeleteStage")).toBe(1);
      expect(ivs.stages.size).toBe(1);
    });
  });

  describe("when a part fails", () => {
    it("IVS throttling CreateStage: 429, and nothing is written", async () => {
      const { deps, table, ivs } = fakeDeps();
      ivs.fail("CreateStage", throttled, 1_000);
      await expect(createRoom(deps, { ...post({ name: "x" }), deadline: Date.now() + 300 })).rejects.toBeInstanceOf(
        RateLimitedError,
      );
      expect(table.snapshot()).toEqual([]);
    });

    it("IVS's stage quota: 409 quota_exceeded, and nothing is written", async () => {
      const { deps, table, ivs } = fakeDeps();
      ivs.fail("CreateStage", () => awsError("ServiceQuotaExceededException", 402, "Limit of 100 stages reached"));
      await expect(createRoom(deps, post({ name: "x" }, "key-q"))).rejects.toBeInstanceOf(QuotaExceededError);
      expect(table.snapshot()).toEqual([]);
      // The same key works once IVS has room again.
      expect((await createRoom(deps, post({ name: "x" }, "key-q"))).status).toBe(201);
    });

    it("DynamoDB failing the room's write: 503, the stage is deleted again, and no record is left", async () => {
      const { deps, table, ivs } = fakeDeps();
      table.fail("TransactWriteCommand");
      await expect(createRoom(deps, post({ name: "orphan" }, "key-5"))).rejects.toBeInstanceOf(
        UpstreamUnavailableError,
      );
      expect(ivs.count("DeleteStage")).toBe(1);
      expect(ivs.stages.size).toBe(0);
      expect(table.snapshot()).toEqual([]);
      // The retry runs again: one room, one stage.
      expect((await createRoom(deps, post({ name: "orphan" }, "key-5"))).status).toBe(201);
      expect(ivs.stages.size).toBe(1);
    });
  });

  describe("with ROOM_CREATOR_GROUPS=creators, hosts", () => {
    it("403 for a caller in neither group (names match exactly), and IVS is not called", async () => {
      const { deps, table, ivs } = fakeDeps({ ROOM_CREATOR_GROUPS: "creators, hosts" });
      const outsider = caller("0c0c0c0c-0000-4000-8000-00000000c0c0", { groups: ["viewers", "Creators"] });
      await expect(createRoom(deps, post({ name: "nope" }, undefined, outsider))).rejects.toBeInstanceOf(
        ForbiddenError,
      );
      expect(ivs.calls).toEqual([]);
      expect(table.snapshot()).toEqual([]);
    });

    it("201 for a member of either group and for an admin", async () => {
      const { deps } = fakeDeps({ ROOM_CREATOR_GROUPS: "creators, hosts" });
      for (const who of [
        caller("0d0d0d0d-0000-4000-8000-000000000001", { groups: ["creators"] }),
        caller("0d0d0d0d-0000-4000-8000-000000000002", { groups: ["x", "hosts"] }),
        caller("0d0d0d0d-0000-4000-8000-000000000003", { admin: true }),
      ]) {
        const r = await createRoom(deps, post({}, undefined, who));
        expect(r.status).toBe(201);
        expect((r.body as { ownerId: string }).ownerId).toBe(who.userId);
      }
    });
  });
});
