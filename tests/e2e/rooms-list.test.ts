// GET /rooms: every room the caller may enter, each once, paginated with opaque validated cursors, without live
// state (and without a single GetStage call).
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session } from "../support/stack.ts";

// A stack of its own: the listing takes in every room the stack holds (every open room, whoever made it), and its
// paging is checked page by page at sizes down to 1, which other suites' rooms would make long.
const stack = useStack({ own: true });

let lister: Session, other: Session, stranger: Session, admin: Session;
/** Rooms by letter; see beforeAll. */
const rooms: Record<string, any> = {};

async function listAll(as: Session, limit?: number): Promise<{ rooms: any[]; pages: any[][] }> {
  const s = stack();
  const pages: any[][] = [];
  let nextToken: string | undefined;
  do {
    const q = new URLSearchParams({ ...(limit ? { limit: String(limit) } : {}), ...(nextToken ? { nextToken } : {}) });
    const r = await s.api("GET", `/rooms${q.size ? `?${q}` : ""}`, { as });
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).every((k) => k === "rooms" || k === "nextToken")).toBe(true);
    pages.push(r.body.rooms);
    nextToken = r.body.nextToken;
    if (nextToken !== undefined) expect(nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(pages.length).toBeLessThan(200);
  } while (nextToken);
  return { rooms: pages.flat(), pages };
}

const ids = (list: any[]) => list.map((r) => r.roomId as string);

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
}

beforeAll(async () => {
  const s = stack();
  [lister, other, stranger, admin] = await Promise.all([
    s.login("list-lister", { groups: ["crew", "unrelated"] }),
    s.login("list-other"),
    s.login("list-stranger"),
    s.login("list-admin", { groups: ["admin"] }),
  ]);
  const members = { access: "members" };
  rooms.A = await s.createRoom(lister, { title: "A: lister's own members room", policy: members });
  rooms.B = await s.createRoom(other, { title: "B: lister is a member", policy: members });
  rooms.C = await s.createRoom(other, {
    title: "C: crew mapped",
    policy: { ...members, groupRoles: { crew: "speaker" } },
  });
  rooms.D = await s.createRoom(other, {
    title: "D: nothing to do with lister",
    policy: { ...members, groupRoles: { others: "viewer" } },
  });
  rooms.E = await s.createRoom(other, { title: "E: open" });
  rooms.F = await s.createRoom(other, { title: "F: open, lister banned" });
  rooms.G = await s.createRoom(other, {
    title: "G: member and crew mapped",
    policy: { ...members, groupRoles: { crew: "viewer" } },
  });
  rooms.H = await s.createRoom(other, {
    title: "H: crew mapped, lister banned",
    policy: { ...members, groupRoles: { crew: "speaker" } },
  });
  for (const [room, role] of [
    [rooms.B, "viewer"],
    [rooms.G, "host"],
  ] as const) {
    const r = await s.api("PUT", `/rooms/${room.roomId}/members/${lister.sub}`, { as: other, body: { role } });
    expect(r.status, r.text).toBe(200);
  }
  for (const room of [rooms.F, rooms.H]) {
    const r = await s.api("POST", `/rooms/${room.roomId}/kick`, {
      as: other,
      body: { userId: lister.sub, banMinutes: 5 },
    });
    expect(r.status, r.text).toBe(200);
  }
});

describe("GET /rooms lists every room the caller may enter", () => {
  it("owned, member, group-mapped and open rooms; not unrelated members-only rooms, nor rooms the caller is banned from", async () => {
    const { rooms: list } = await listAll(lister);
    const got = ids(list);
    for (const k of ["A", "B", "C", "E", "G"]) expect(got, k).toContain(rooms[k].roomId);
    for (const k of ["D", "F", "H"]) expect(got, k).not.toContain(rooms[k].roomId);
    expect(new Set(got).size).toBe(got.length);
  });

  it("each room with the caller's role; policy and tags for moderators only; no live state", async () => {
    const { rooms: list } = await listAll(lister);
    const byId = new Map(list.map((r) => [r.roomId, r]));
    const expected: Record<string, string> = { A: "host", B: "viewer", C: "speaker", E: "viewer", G: "host" };
    for (const [k, role] of Object.entries(expected)) {
      const room = byId.get(rooms[k].roomId);
      expect(room.yourRole, k).toBe(role);
      expect(room.title).toBe(rooms[k].title);
      expect(room.ownerId).toBe(rooms[k].ownerId);
      expect(room.stageArn).toBe(rooms[k].stageArn);
      if (role === "host") {
        expect(room.policy, k).toBeDefined();
        expect(room.tags, k).toBeDefined();
      } else {
        expect(room, k).not.toHaveProperty("policy");
        expect(room, k).not.toHaveProperty("tags");
      }
      expect(room).not.toHaveProperty("live");
      expect(room).not.toHaveProperty("activeSessionId");
    }
  });

  it("calls IVS GetStage not at all", async () => {
    const s = stack();
    s.stack.ivs.resetCounts();
    await listAll(lister, 2);
    await listAll(admin);
    expect(s.stack.ivs.requestCounts().GetStage ?? 0).toBe(0);
  });

  it("a stranger sees the open rooms only", async () => {
    const got = ids((await listAll(stranger)).rooms);
    expect(got).toContain(rooms.E.roomId);
    expect(got).toContain(rooms.F.roomId);
    for (const k of ["A", "B", "C", "D", "G", "H"]) expect(got, k).not.toContain(rooms[k].roomId);
  });

  it("an admin sees every room, as host", async () => {
    const { rooms: list } = await listAll(admin);
    const got = ids(list);
    for (const k of Object.keys(rooms)) expect(got, k).toContain(rooms[k].roomId);
    expect(list.every((r) => r.yourRole === "host" && r.policy !== undefined)).toBe(true);
    expect(new Set(got).size).toBe(got.length);
  });

  it("pages of any size add up to the same rooms, each once, and the last page has no nextToken", async () => {
    for (const who of [lister, stranger, admin]) {
      const all = ids((await listAll(who)).rooms).sort();
      for (const limit of [1, 2, 3, 7]) {
        const { rooms: list, pages } = await listAll(who, limit);
        expect(ids(list).sort()).toEqual(all);
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
      }
    }
  });

  it("follows changes: a removed member, a room opened up, a deleted room", async () => {
    const s = stack();
    const room = await s.createRoom(other, { policy: { access: "members" } });
    expect(ids((await listAll(stranger)).rooms)).not.toContain(room.roomId);
    await s.api("PUT", `/rooms/${room.roomId}/members/${stranger.sub}`, { as: other, body: { role: "viewer" } });
    expect(ids((await listAll(stranger)).rooms)).toContain(room.roomId);
    expect((await s.api("DELETE", `/rooms/${room.roomId}/members/${stranger.sub}`, { as: other })).status).toBe(204);
    expect(ids((await listAll(stranger)).rooms)).not.toContain(room.roomId);
    const patched = await s.api("PATCH", `/rooms/${room.roomId}`, { as: other, body: { policy: { access: "open" } } });
    expect(patched.status, patched.text).toBe(200);
    expect(ids((await listAll(stranger)).rooms)).toContain(room.roomId);
    const closed = await s.api("PATCH", `/rooms/${room.roomId}`, {
      as: other,
      body: { policy: { access: "members", groupRoles: { crew: "viewer" } } },
    });
    expect(closed.status, closed.text).toBe(200);
    expect(ids((await listAll(stranger)).rooms)).not.toContain(room.roomId);
    expect(ids((await listAll(lister)).rooms)).toContain(room.roomId);
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: other })).status).toBe(204);
    expect(ids((await listAll(lister)).rooms)).not.toContain(room.roomId);
    expect(ids((await listAll(admin)).rooms)).not.toContain(room.roomId);
  });
});

describe("GET /rooms rejects bad paging with 400", () => {
  it.each(["0", "101", "-1", "abc", "1.5", "", "1e2", "05x", "99999"])("limit=%s", async (limit) => {
    const r = await stack().api("GET", `/rooms?limit=${encodeURIComponent(limit)}`, { as: lister });
    expectProblem(r, 400, "validation_failed");
    expect(r.body.errors[0].path).toBe("/query/limit");
  });

  it("limit=1 and limit=100 are accepted", async () => {
    const s = stack();
    expect((await s.api("GET", "/rooms?limit=1", { as: lister })).body.rooms).toHaveLength(1);
    expect((await s.api("GET", "/rooms?limit=100", { as: lister })).status).toBe(200);
  });

  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  it.each([
    ["garbage", "not a token!"],
    ["base64 of no JSON", b64("hello")],
    ["JSON that is no object", b64([1, 2])],
    ["another version", b64({ v: 2, after: "abc" })],
    ["no cursor in it", b64({ v: 1 })],
    ["a cursor that is no room id", b64({ v: 1, after: "../../etc/passwd" })],
    ["a cursor of the wrong type", b64({ v: 1, after: 5 })],
    ["an /admin/stages cursor", b64({ v: 1, ivs: "token" })],
    ["an empty token", ""],
    ["a token of 5000 characters", "A".repeat(5000)],
  ])("nextToken: %s", async (_name, token) => {
    const r = await stack().api("GET", `/rooms?nextToken=${encodeURIComponent(token)}`, { as: lister });
    expectProblem(r, 400, "validation_failed");
    expect(r.body.errors[0].path).toBe("/query/nextToken");
  });
});

describe("GET /rooms fills its pages past rooms the caller may not enter", () => {
  it("a caller banned from the first open rooms in order still gets full pages, and every room it may enter once", async () => {
    const s = stack();
    const owner = await s.login("list-fill-owner");
    const banned = await s.login("list-fill-banned");
    const created = [];
    for (let i = 0; i < 8; i++) created.push(await s.createRoom(owner, { name: `fill-${i}` }));
    const sorted = [...created].sort((a, b) => (a.roomId < b.roomId ? -1 : 1));
    // Banned from the first six rooms (by id, the listing's order) of the eight.
    for (const room of sorted.slice(0, 6)) {
      expect(
        (await s.api("POST", `/rooms/${room.roomId}/kick`, { as: owner, body: { userId: banned.sub, banMinutes: 30 } }))
          .status,
      ).toBe(200);
    }
    const first = await s.api("GET", "/rooms?limit=1", { as: banned });
    expect(first.status).toBe(200);
    expect(first.body.rooms).toHaveLength(1);
    const all = await listAll(banned, 2);
    const mine = new Set(created.map((r) => r.roomId));
    const seen = ids(all.rooms).filter((id) => mine.has(id));
    expect(seen.sort()).toEqual(
      sorted
        .slice(6)
        .map((r) => r.roomId)
        .sort(),
    );
    expect(new Set(ids(all.rooms)).size).toBe(all.rooms.length);
    for (const page of all.pages.slice(0, -1)) expect(page.length).toBeGreaterThan(0);
  });
});
