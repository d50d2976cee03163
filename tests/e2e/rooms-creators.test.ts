// ROOM_CREATOR_GROUPS: with it set, only its members (and admins) may create rooms. The offline stack takes the
// variable from its own environment, as `sam local --env-vars` would.
import { ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { describe, expect, it } from "vitest";
import { useStack } from "../support/stack.ts";

const stack = useStack({ env: { ROOM_CREATOR_GROUPS: "creators, hosts" } });

describe("POST /rooms with ROOM_CREATOR_GROUPS=creators,hosts", () => {
  it("403 for a user in neither group, and nothing is created", async () => {
    const s = stack();
    const outsider = await s.login("cr-outsider", { groups: ["viewers", "Creators"] });
    const before = await s.scanTable();
    const stages = (await s.ivs.send(new ListStagesCommand({}))).stages?.length ?? 0;
    s.stack.ivs.resetCounts();
    const r = await s.api("POST", "/rooms", { as: outsider, body: { name: "nope" } });
    expect(r.status, r.text).toBe(403);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 403, code: "forbidden" });
    expect(await s.scanTable()).toEqual(before);
    expect((await s.ivs.send(new ListStagesCommand({}))).stages?.length ?? 0).toBe(stages);
    expect(s.stack.ivs.requestCounts().CreateStage ?? 0).toBe(0);
  });

  it("201 for a member of either group and for an admin", async () => {
    const s = stack();
    for (const [name, groups] of [["cr-creator", ["creators"]], ["cr-host", ["x", "hosts"]], ["cr-admin", ["admin"]]] as const) {
      const user = await s.login(name, { groups: [...groups] });
      const r = await s.api("POST", "/rooms", { as: user, body: { title: name } });
      expect(r.status, `${name}: ${r.text}`).toBe(201);
      expect(r.body.ownerId).toBe(user.sub);
    }
  });

  it("does not restrict anything else: an outsider still reads and lists open rooms", async () => {
    const s = stack();
    const creator = await s.login("cr-creator", { groups: ["creators"] });
    const outsider = await s.login("cr-outsider2");
    const room = await s.createRoom(creator);
    expect((await s.api("GET", `/rooms/${room.roomId}`, { as: outsider })).body.yourRole).toBe("viewer");
    expect((await s.api("GET", "/rooms?limit=100", { as: outsider })).body.rooms.map((r: any) => r.roomId)).toContain(room.roomId);
  });
});
