// Members: GET/PUT/DELETE through the offline stack, the rule that only the owner or an admin touches a moderator's
// membership, and a change of role that takes effect at once (participants disconnected in the IVS emulator).
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session } from "../support/stack.ts";

const stack = useStack();

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let owner: Session,
  mod: Session,
  mod2: Session,
  viewer: Session,
  target: Session,
  stranger: Session,
  admin: Session,
  banned: Session,
  band: Session;

beforeAll(async () => {
  const s = stack();
  [owner, mod, mod2, viewer, target, stranger, admin, banned, band] = await Promise.all([
    s.login("mem-owner"),
    s.login("mem-mod"),
    s.login("mem-mod2"),
    s.login("mem-viewer"),
    s.login("mem-target"),
    s.login("mem-stranger"),
    s.login("mem-admin", { groups: ["admin"] }),
    s.login("mem-banned"),
    s.login("mem-band", { groups: ["band"] }),
  ]);
});

function expectProblem(r: ApiResponse, status: number, code: string, path?: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
  if (path !== undefined) expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}

const put = (as: Session, roomId: string, userId: string, body: unknown) =>
  stack().api("PUT", `/rooms/${roomId}/members/${userId}`, { as, body });
const del = (as: Session, roomId: string, userId: string) =>
  stack().api("DELETE", `/rooms/${roomId}/members/${userId}`, { as });
const list = (as: Session, roomId: string) => stack().api("GET", `/rooms/${roomId}/members`, { as });

/** A members-only room with `mod` and `mod2` as host members, `viewer` as viewer, a custom moderator role "mc". */
async function room(policy: Record<string, unknown> = {}) {
  const r = await stack().createRoom(owner, {
    policy: {
      access: "members",
      roles: { mc: { moderator: true, capabilities: ["SUBSCRIBE"] }, guest: {} },
      groupRoles: { band: "speaker" },
      ...policy,
    },
  });
  for (const [user, role] of [
    [mod, "host"],
    [mod2, "host"],
    [viewer, "viewer"],
  ] as const) {
    expect((await put(owner, r.roomId, user.sub, { role })).status).toBe(200);
  }
  return r;
}

async function unchanged(fn: () => Promise<void>) {
  const before = await stack().scanTable();
  await fn();
  expect(await stack().scanTable()).toEqual(before);
}

describe("GET /rooms/{roomId}/members", () => {
  it("moderators, the owner and admins list every member with role, addedBy and addedAt", async () => {
    const r0 = await room();
    for (const who of [owner, mod, admin]) {
      const r = await list(who, r0.roomId);
      expect(r.status, r.text).toBe(200);
      expect(Object.keys(r.body)).toEqual(["members"]);
      const members = [...r.body.members].sort((a: any, b: any) => a.userId.localeCompare(b.userId));
      const expected = [
        [mod, "host"],
        [mod2, "host"],
        [viewer, "viewer"],
      ]
        .map(([u, role]) => ({
          userId: (u as Session).sub,
          role,
          addedBy: owner.sub,
          addedAt: expect.stringMatching(ISO),
        }))
        .sort((a, b) => a.userId.localeCompare(b.userId));
      expect(members).toEqual(expected);
    }
  });

  it("an empty room lists no members", async () => {
    const r0 = await stack().createRoom(owner);
    expect((await list(owner, r0.roomId)).body).toEqual({ members: [] });
  });

  it("403 for a viewer member, a group speaker, strangers and a banned user; 404; 400", async () => {
    const s = stack();
    const r0 = await room();
    const open = await s.createRoom(owner);
    await s.api("POST", `/rooms/${open.roomId}/kick`, { as: owner, body: { userId: banned.sub, banMinutes: 5 } });
    expectProblem(await list(viewer, r0.roomId), 403, "forbidden");
    expectProblem(await list(band, r0.roomId), 403, "forbidden");
    expectProblem(await list(stranger, r0.roomId), 403, "forbidden");
    expectProblem(await list(stranger, open.roomId), 403, "forbidden");
    expectProblem(await list(banned, open.roomId), 403, "banned");
    expectProblem(await list(owner, "abcdABCD0000"), 404, "not_found");
    expectProblem(await list(owner, "bad_room"), 400, "validation_failed", "/path/roomId");
  });
});

describe("PUT /rooms/{roomId}/members/{userId}", () => {
  it("owner adds a member: 200 with the member; the member then has that role", async () => {
    const s = stack();
    const r0 = await room();
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}`, { as: target }), 403, "forbidden");
    const r = await put(owner, r0.roomId, target.sub, { role: "speaker" });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({
      userId: target.sub,
      role: "speaker",
      addedBy: owner.sub,
      addedAt: expect.stringMatching(ISO),
    });
    expect((await s.api("GET", `/rooms/${r0.roomId}`, { as: target })).body.yourRole).toBe("speaker");
    // PUT again changes the role, and is idempotent.
    expect((await put(owner, r0.roomId, target.sub, { role: "guest" })).body.role).toBe("guest");
    expect((await put(owner, r0.roomId, target.sub, { role: "guest" })).status).toBe(200);
    expect((await s.api("GET", `/rooms/${r0.roomId}`, { as: target })).body.yourRole).toBe("guest");
    expect((await list(owner, r0.roomId)).body.members.filter((m: any) => m.userId === target.sub)).toHaveLength(1);
  });

  it("any user id of the allowed shape can be added, known to the pool or not", async () => {
    const r0 = await room();
    const r = await put(owner, r0.roomId, "Some-User-123", { role: "viewer" });
    expect(r.status, r.text).toBe(200);
  });

  it("a moderator member may grant and change non-moderator roles", async () => {
    const r0 = await room();
    const r = await put(mod, r0.roomId, target.sub, { role: "speaker" });
    expect(r.status, r.text).toBe(200);
    expect(r.body.addedBy).toBe(mod.sub);
    expect((await put(mod, r0.roomId, target.sub, { role: "viewer" })).status).toBe(200);
    expect((await put(mod, r0.roomId, viewer.sub, { role: "guest" })).status).toBe(200);
  });

  it("only the owner or an admin may grant a moderator role, or change a member who holds one", async () => {
    const r0 = await room();
    await unchanged(async () => {
      expectProblem(await put(mod, r0.roomId, target.sub, { role: "host" }), 403, "forbidden");
      expectProblem(await put(mod, r0.roomId, target.sub, { role: "mc" }), 403, "forbidden");
      expectProblem(await put(mod, r0.roomId, viewer.sub, { role: "host" }), 403, "forbidden");
      expectProblem(await put(mod, r0.roomId, mod2.sub, { role: "viewer" }), 403, "forbidden");
      expectProblem(await put(mod, r0.roomId, mod2.sub, { role: "host" }), 403, "forbidden");
      expectProblem(await put(mod, r0.roomId, mod.sub, { role: "viewer" }), 403, "forbidden");
    });
    expect((await put(owner, r0.roomId, target.sub, { role: "mc" })).status).toBe(200);
    expect((await put(admin, r0.roomId, mod2.sub, { role: "viewer" })).status).toBe(200);
    expect((await put(admin, r0.roomId, mod2.sub, { role: "host" })).status).toBe(200);
    expect((await put(owner, r0.roomId, mod.sub, { role: "speaker" })).status).toBe(200);
    // A moderator by a group mapping is held to the same rule.
    const mapped = await room({ groupRoles: { band: "host" } });
    expectProblem(await put(band, mapped.roomId, target.sub, { role: "host" }), 403, "forbidden");
    expect((await put(band, mapped.roomId, target.sub, { role: "speaker" })).status).toBe(200);
  });

  it("403 for a viewer member, strangers and a banned user; 404 for a missing room", async () => {
    const s = stack();
    const r0 = await room();
    const open = await s.createRoom(owner);
    await s.api("POST", `/rooms/${open.roomId}/kick`, { as: owner, body: { userId: banned.sub, banMinutes: 5 } });
    await unchanged(async () => {
      expectProblem(await put(viewer, r0.roomId, target.sub, { role: "viewer" }), 403, "forbidden");
      expectProblem(await put(stranger, r0.roomId, stranger.sub, { role: "viewer" }), 403, "forbidden");
      expectProblem(await put(stranger, open.roomId, stranger.sub, { role: "speaker" }), 403, "forbidden");
      expectProblem(await put(banned, open.roomId, banned.sub, { role: "viewer" }), 403, "banned");
      expectProblem(await put(owner, "abcdABCD0000", target.sub, { role: "viewer" }), 404, "not_found");
    });
  });

  it("400 for a role the policy lacks, a missing or malformed role, unknown fields, a malformed user id, a bad body", async () => {
    const s = stack();
    const r0 = await room();
    await unchanged(async () => {
      expectProblem(await put(owner, r0.roomId, target.sub, { role: "presenter" }), 400, "validation_failed", "/role");
      expectProblem(await put(owner, r0.roomId, target.sub, {}), 400, "validation_failed", "/role");
      expectProblem(await put(owner, r0.roomId, target.sub, { role: "Host" }), 400, "validation_failed", "/role");
      expectProblem(await put(owner, r0.roomId, target.sub, { role: 1 }), 400, "validation_failed", "/role");
      expectProblem(
        await put(owner, r0.roomId, target.sub, { role: "viewer", addedBy: "me" }),
        400,
        "validation_failed",
        "/addedBy",
      );
      expectProblem(
        await put(owner, r0.roomId, "bad_user", { role: "viewer" }),
        400,
        "validation_failed",
        "/path/userId",
      );
      expectProblem(
        await put(owner, r0.roomId, "u".repeat(65), { role: "viewer" }),
        400,
        "validation_failed",
        "/path/userId",
      );
      expectProblem(
        await put(owner, "bad_room", target.sub, { role: "viewer" }),
        400,
        "validation_failed",
        "/path/roomId",
      );
      expectProblem(await put(owner, r0.roomId, target.sub, ["viewer"]), 400, "validation_failed");
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/members/${target.sub}`, { as: owner }),
        400,
        "validation_failed",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/members/${target.sub}`, {
          as: owner,
          rawBody: "{",
          headers: { "content-type": "application/json" },
        }),
        400,
        "validation_failed",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/members/${target.sub}`, {
          as: owner,
          rawBody: '{"role":"viewer"}',
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/members/${target.sub}`, {
          as: owner,
          rawBody: JSON.stringify({ role: "v".repeat(17_000) }),
          headers: { "content-type": "application/json" },
        }),
        413,
        "payload_too_large",
      );
    });
  });
});

describe("DELETE /rooms/{roomId}/members/{userId}", () => {
  it("owner removes a member: 204; the user loses the room", async () => {
    const s = stack();
    const r0 = await room();
    const r = await del(owner, r0.roomId, viewer.sub);
    expect(r.status, r.text).toBe(204);
    expect(r.text).toBe("");
    expect((await list(owner, r0.roomId)).body.members.map((m: any) => m.userId)).not.toContain(viewer.sub);
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}`, { as: viewer }), 403, "forbidden");
    expectProblem(await del(owner, r0.roomId, viewer.sub), 404, "not_found");
  });

  it("a moderator removes a non-moderator member, but not a moderator", async () => {
    const r0 = await room();
    expect((await del(mod, r0.roomId, viewer.sub)).status).toBe(204);
    await unchanged(async () => {
      expectProblem(await del(mod, r0.roomId, mod2.sub), 403, "forbidden");
      expectProblem(await del(mod, r0.roomId, mod.sub), 403, "forbidden");
    });
    expect((await del(owner, r0.roomId, mod2.sub)).status).toBe(204);
    expect((await del(admin, r0.roomId, mod.sub)).status).toBe(204);
  });

  it("404 for a user who is no member and a missing room; 403 for non-moderators; 400 for malformed ids", async () => {
    const s = stack();
    const r0 = await room();
    const open = await s.createRoom(owner);
    await s.api("POST", `/rooms/${open.roomId}/kick`, { as: owner, body: { userId: banned.sub, banMinutes: 5 } });
    await unchanged(async () => {
      expectProblem(await del(owner, r0.roomId, stranger.sub), 404, "not_found");
      expectProblem(await del(owner, r0.roomId, owner.sub), 404, "not_found");
      expectProblem(await del(owner, "abcdABCD0000", viewer.sub), 404, "not_found");
      expectProblem(await del(viewer, r0.roomId, viewer.sub), 403, "forbidden");
      expectProblem(await del(stranger, r0.roomId, viewer.sub), 403, "forbidden");
      expectProblem(await del(banned, open.roomId, viewer.sub), 403, "banned");
      expectProblem(await del(owner, r0.roomId, "bad_user"), 400, "validation_failed", "/path/userId");
      expectProblem(await del(owner, "bad.room", viewer.sub), 400, "validation_failed", "/path/roomId");
    });
  });

  it("writes member.set and member.removed to the audit trail", async () => {
    const s = stack();
    const r0 = await room();
    await del(owner, r0.roomId, viewer.sub);
    const audit = await s.api("GET", `/rooms/${r0.roomId}/audit`, { as: owner });
    expect(audit.status, audit.text).toBe(200);
    const actions = audit.body.entries.map((e: any) => `${e.action}:${e.target}`);
    expect(actions).toContain(`member.removed:${viewer.sub}`);
    expect(actions).toContain(`member.set:${viewer.sub}`);
    expect(actions).toContain(`member.set:${mod.sub}`);
  });
});

describe("a change of role takes effect at once", () => {
  async function joinAs(user: Session, roomId: string, capabilities?: string[]) {
    const s = stack();
    const t = await s.api("POST", `/rooms/${roomId}/token`, { as: user, body: capabilities ? { capabilities } : {} });
    expect(t.status, t.text).toBe(200);
    expect((await s.join(t.body.token)).status).toBe(200);
    return t.body.participantId as string;
  }
  const stateOf = async (roomId: string, participantId: string) =>
    (await stack().participants(roomId)).find((p) => p.participantId === participantId)?.state;

  it("a member who loses PUBLISH is disconnected where they publish, not where they only subscribe", async () => {
    const r0 = await room();
    await put(owner, r0.roomId, target.sub, { role: "speaker" });
    const publishing = await joinAs(target, r0.roomId);
    const watching = await joinAs(target, r0.roomId, ["SUBSCRIBE"]);
    expect((await put(owner, r0.roomId, target.sub, { role: "viewer" })).status).toBe(200);
    expect(await stateOf(r0.roomId, publishing)).toBe("DISCONNECTED");
    expect(await stateOf(r0.roomId, watching)).toBe("CONNECTED");
    const again = await stack().api("POST", `/rooms/${r0.roomId}/token`, {
      as: target,
      body: { capabilities: ["PUBLISH"] },
    });
    expectProblem(again, 403, "forbidden");
  });

  it("a removed member of a members-only room is disconnected everywhere", async () => {
    const r0 = await room();
    await put(owner, r0.roomId, target.sub, { role: "viewer" });
    const p = await joinAs(target, r0.roomId);
    expect((await del(owner, r0.roomId, target.sub)).status).toBe(204);
    expect(await stateOf(r0.roomId, p)).toBe("DISCONNECTED");
  });

  it("a removed member of an open room keeps what the default role allows", async () => {
    const s = stack();
    const open = await s.createRoom(owner);
    await put(owner, open.roomId, target.sub, { role: "speaker" });
    const publishing = await joinAs(target, open.roomId);
    const watching = await joinAs(target, open.roomId, ["SUBSCRIBE"]);
    expect((await del(owner, open.roomId, target.sub)).status).toBe(204);
    expect(await stateOf(open.roomId, publishing)).toBe("DISCONNECTED");
    expect(await stateOf(open.roomId, watching)).toBe("CONNECTED");
  });

  it("a removed member who came in through a group keeps the group's role", async () => {
    const r0 = await room();
    const viaGroup = await joinAs(band, r0.roomId);
    await put(owner, r0.roomId, band.sub, { role: "guest" });
    expect(await stateOf(r0.roomId, viaGroup)).toBe("DISCONNECTED");
    const asGuest = await joinAs(band, r0.roomId);
    expect((await del(owner, r0.roomId, band.sub)).status).toBe(204);
    // Back to the band's speaker role: the guest participant (SUBSCRIBE) holds nothing the role lacks.
    expect(await stateOf(r0.roomId, asGuest)).toBe("CONNECTED");
    expect((await stack().api("GET", `/rooms/${r0.roomId}`, { as: band })).body.yourRole).toBe("speaker");
  });

  it("an admin's participants are never disconnected by a membership change", async () => {
    const r0 = await room();
    const p = await joinAs(admin, r0.roomId);
    expect((await put(owner, r0.roomId, admin.sub, { role: "viewer" })).status).toBe(200);
    expect((await del(owner, r0.roomId, admin.sub)).status).toBe(204);
    expect(await stateOf(r0.roomId, p)).toBe("CONNECTED");
  });
});
