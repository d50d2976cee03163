// Administration: GET /admin/stages (IVS ListStages) with orphan stages, and what an admin can and cannot do.
import { CreateStageCommand, DeleteStageCommand, ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session } from "../support/stack.ts";

const stack = useStack();

let admin: Session, owner: Session, stranger: Session, viewer: Session;

beforeAll(async () => {
  const s = stack();
  [admin, owner, stranger, viewer] = await Promise.all([
    s.login("adm-admin", { groups: ["admin", "staff"] }),
    s.login("adm-owner"),
    s.login("adm-stranger"),
    s.login("adm-viewer"),
  ]);
});

function expectProblem(r: ApiResponse, status: number, code: string, path?: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
  if (path !== undefined) expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}

/** Every stage in IVS (other suites' too: the stack is shared), through ListStages's own pages. */
async function ivsStages(): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await stack().ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    arns.push(...(out.stages ?? []).map((x) => x.arn!));
    nextToken = out.nextToken || undefined;
  } while (nextToken);
  return arns;
}

async function allPages(limit?: number) {
  const s = stack();
  // A guard against a cursor that never ends: no more pages than there are stages, plus the last.
  const most = Math.ceil((await ivsStages()).length / (limit ?? 1)) + 1;
  const pages: any[][] = [];
  let nextToken: string | undefined;
  do {
    const q = new URLSearchParams({ ...(limit ? { limit: String(limit) } : {}), ...(nextToken ? { nextToken } : {}) });
    const r = await s.api("GET", `/admin/stages${q.size ? `?${q}` : ""}`, { as: admin });
    expect(r.status, r.text).toBe(200);
    pages.push(r.body.stages);
    nextToken = r.body.nextToken;
    expect(pages.length).toBeLessThanOrEqual(most);
  } while (nextToken);
  return { stages: pages.flat(), pages };
}

/** Every room `as` may list, through GET /rooms's pages. */
async function listedRooms(as: Session): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await stack().api(
      "GET",
      `/rooms?limit=100${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ""}`,
      { as },
    );
    expect(r.status, r.text).toBe(200);
    ids.push(...(r.body.rooms as any[]).map((x) => x.roomId as string));
    nextToken = r.body.nextToken;
  } while (nextToken);
  return ids;
}

describe("GET /admin/stages", () => {
  it("lists every stage of the account with the room that owns it, and roomId null for orphans", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "owned-stage", tags: { team: "a" } });
    const orphan = (await s.ivs.send(new CreateStageCommand({ name: "orphan-stage", tags: { left: "behind" } })))
      .stage!;
    const token = await s.api("POST", `/rooms/${room.roomId}/token`, { as: owner });
    expect((await s.join(token.body.token)).status).toBe(200);

    const { stages } = await allPages();
    expect(stages.map((x) => x.stageArn).sort()).toEqual((await ivsStages()).sort());
    const owned = stages.find((x) => x.stageArn === room.stageArn);
    expect(owned).toEqual({
      stageArn: room.stageArn,
      name: "owned-stage",
      activeSessionId: expect.stringMatching(/^st-/),
      tags: { team: "a" },
      roomId: room.roomId,
    });
    const lost = stages.find((x) => x.stageArn === orphan.arn);
    expect(lost).toEqual({
      stageArn: orphan.arn,
      name: "orphan-stage",
      activeSessionId: null,
      tags: { left: "behind" },
      roomId: null,
    });
    for (const x of stages)
      expect(Object.keys(x).sort()).toEqual(["activeSessionId", "name", "roomId", "stageArn", "tags"]);
    await s.ivs.send(new DeleteStageCommand({ arn: orphan.arn! }));
  });

  it("a deleted room's stage is gone from the list", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "to-delete" });
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: owner })).status).toBe(204);
    expect((await allPages()).stages.map((x) => x.stageArn)).not.toContain(room.stageArn);
  });

  it("pages of any size add up to the same stages, each once", async () => {
    const s = stack();
    for (let i = 0; i < 4; i++) await s.createRoom(owner, { name: `paged-${i}` });
    const all = (await allPages()).stages.map((x) => x.stageArn).sort();
    expect(new Set(all).size).toBe(all.length);
    for (const limit of [1, 3]) {
      const { stages, pages } = await allPages(limit);
      expect(stages.map((x) => x.stageArn).sort()).toEqual(all);
      for (const p of pages) expect(p.length).toBeLessThanOrEqual(limit);
    }
  });

  it("403 for everyone who is not an admin, room owners included", async () => {
    const s = stack();
    await s.createRoom(owner);
    expectProblem(await s.api("GET", "/admin/stages", { as: owner }), 403, "forbidden");
    expectProblem(await s.api("GET", "/admin/stages", { as: stranger }), 403, "forbidden");
    const staffOnly = await s.login("adm-staff", { groups: ["staff", "Admin", "admins"] });
    expectProblem(await s.api("GET", "/admin/stages", { as: staffOnly }), 403, "forbidden");
  });

  it("400 for a bad limit or nextToken", async () => {
    const s = stack();
    for (const limit of ["0", "101", "x", "-5"]) {
      expectProblem(
        await s.api("GET", `/admin/stages?limit=${limit}`, { as: admin }),
        400,
        "validation_failed",
        "/query/limit",
      );
    }
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    for (const token of [
      "garbage!",
      b64({ v: 1, after: "abcdABCD1234" }),
      b64({ v: 1, ivs: "" }),
      b64({ v: 9, ivs: "x" }),
    ]) {
      expectProblem(
        await s.api("GET", `/admin/stages?nextToken=${encodeURIComponent(token)}`, { as: admin }),
        400,
        "validation_failed",
        "/query/nextToken",
      );
    }
  });
});

describe("an admin", () => {
  it("reads, lists, changes and deletes anyone's members-only room, as host", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { policy: { access: "members" }, tags: { t: "1" } });
    const read = await s.api("GET", `/rooms/${room.roomId}`, { as: admin });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ yourRole: "host", policy: { access: "members" }, tags: { t: "1" } });
    expect(await listedRooms(admin)).toContain(room.roomId);
    expect(
      (await s.api("PATCH", `/rooms/${room.roomId}`, { as: admin, body: { title: "Seen by admin" } })).status,
    ).toBe(200);
    expect((await s.api("GET", `/rooms/${room.roomId}/members`, { as: admin })).status).toBe(200);
    expect(
      (await s.api("PUT", `/rooms/${room.roomId}/members/${viewer.sub}`, { as: admin, body: { role: "host" } })).status,
    ).toBe(200);
    expect((await s.api("GET", `/rooms/${room.roomId}/tags`, { as: admin })).body).toEqual({ tags: { t: "1" } });
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: admin })).status).toBe(204);
  });

  it("creates rooms of their own, and an owner's ban never keeps them out", async () => {
    const s = stack();
    const mine = await s.createRoom(admin, { title: "admin's" });
    expect(mine.ownerId).toBe(admin.sub);
    const theirs = await s.createRoom(owner, { policy: { access: "members" } });
    // Whether the kick route refuses the ban (it cannot always know the user is an admin) or not, it has no effect.
    const kick = await s.api("POST", `/rooms/${theirs.roomId}/kick`, {
      as: owner,
      body: { userId: admin.sub, banMinutes: 5 },
    });
    expect([200, 403]).toContain(kick.status);
    const read = await s.api("GET", `/rooms/${theirs.roomId}`, { as: admin });
    expect(read.status, read.text).toBe(200);
    expect(read.body.yourRole).toBe("host");
    expect(await listedRooms(admin)).toContain(theirs.roomId);
  });

  it("still gets 404 for a room that does not exist and 400 for a malformed one", async () => {
    const s = stack();
    expectProblem(await s.api("GET", "/rooms/abcdABCD0000", { as: admin }), 404, "not_found");
    expectProblem(await s.api("DELETE", "/rooms/abcdABCD0000", { as: admin }), 404, "not_found");
    expectProblem(await s.api("GET", "/rooms/no_such", { as: admin }), 400, "validation_failed", "/path/roomId");
  });
});
