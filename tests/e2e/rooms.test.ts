// Rooms through the offline stack: POST /rooms, GET/PATCH/DELETE /rooms/{roomId}, as owner, member, group member,
// stranger, banned user and admin, with the contract's success, 400, 401, 403 and 404 paths.
import { DeleteStageCommand, GetStageCommand, ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";
import { CONTRACT_DEFAULT_POLICY } from "../support/contract.ts";

const stack = useStack();

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const STAGE_ARN = /^arn:aws:ivs:us-east-1:123456789012:stage\/([a-zA-Z0-9]{12})$/;
const DEFAULT_POLICY = CONTRACT_DEFAULT_POLICY;

let owner: Session,
  member: Session,
  moderator: Session,
  band: Session,
  stranger: Session,
  admin: Session,
  banned: Session;

beforeAll(async () => {
  const s = stack();
  [owner, member, moderator, band, stranger, admin, banned] = await Promise.all([
    s.login("rooms-owner", { preferredUsername: "Olga" }),
    s.login("rooms-member"),
    s.login("rooms-moderator"),
    s.login("rooms-band", { groups: ["band"] }),
    s.login("rooms-stranger"),
    s.login("rooms-admin", { groups: ["admin"] }),
    s.login("rooms-banned"),
  ]);
});

async function stageCount(s: TestStack): Promise<number> {
  let n = 0;
  let nextToken: string | undefined;
  do {
    const out = await s.ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
    n += out.stages?.length ?? 0;
    nextToken = out.nextToken || undefined;
  } while (nextToken);
  return n;
}

/** Runs `fn` and checks that neither the table nor IVS's stages changed. */
async function unchanged(fn: () => Promise<void>) {
  const s = stack();
  const [items, stages] = await Promise.all([s.scanTable(), stageCount(s)]);
  await fn();
  expect(await s.scanTable()).toEqual(items);
  expect(await stageCount(s)).toBe(stages);
}

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(r.headers.get("x-request-id")).toBeTruthy();
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
}

function expectValidation(r: ApiResponse, path?: string) {
  expectProblem(r, 400, "validation_failed");
  expect(Array.isArray(r.body.errors)).toBe(true);
  if (path !== undefined) expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}

/** A members-only room of `owner` with `member` as viewer, `moderator` as host, the band group as speaker. */
async function membersRoom(extra: Record<string, unknown> = {}) {
  const s = stack();
  const room = await s.createRoom(owner, {
    title: "Members only",
    policy: { access: "members", groupRoles: { band: "speaker" } },
    ...extra,
  });
  expect(
    (await s.api("PUT", `/rooms/${room.roomId}/members/${member.sub}`, { as: owner, body: { role: "viewer" } })).status,
  ).toBe(200);
  expect(
    (await s.api("PUT", `/rooms/${room.roomId}/members/${moderator.sub}`, { as: owner, body: { role: "host" } }))
      .status,
  ).toBe(200);
  return room;
}

async function ban(roomId: string, user: Session) {
  const r = await stack().api("POST", `/rooms/${roomId}/kick`, {
    as: owner,
    body: { userId: user.sub, banMinutes: 5 },
  });
  expect(r.status, r.text).toBe(200);
  return r.body.ban.until as string;
}

describe("POST /rooms", () => {
  it("creates a stage and its room: 201, Location, the room as docs/api.md shows it", async () => {
    const s = stack();
    const r = await s.api("POST", "/rooms", {
      as: owner,
      body: { name: "standup", title: "Daily standup", tags: { team: "core" } },
    });
    expect(r.status, r.text).toBe(201);
    const room = r.body;
    const [, stageId] = STAGE_ARN.exec(room.stageArn) ?? [];
    expect(room.roomId).toBe(stageId);
    expect(r.headers.get("location")).toBe(`/rooms/${room.roomId}`);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.headers.get("x-request-id")).toBeTruthy();
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    expect(r.headers.get("strict-transport-security")).toBeTruthy();
    expect(room).toEqual({
      roomId: room.roomId,
      stageArn: room.stageArn,
      name: "standup",
      title: "Daily standup",
      ownerId: owner.sub,
      createdAt: expect.stringMatching(ISO),
      updatedAt: room.createdAt,
      activeSessionId: null,
      live: false,
      counts: { connected: 0, publishing: 0 },
      yourRole: "host",
      policy: DEFAULT_POLICY,
      tags: { team: "core" },
    });
    const stage = await s.ivs.send(new GetStageCommand({ arn: room.stageArn }));
    expect(stage.stage?.name).toBe("standup");
    expect(stage.stage?.tags).toEqual({ team: "core" });
  });

  it("needs no body at all; the policy given gets its defaults", async () => {
    const s = stack();
    const bare = await s.api("POST", "/rooms", { as: owner });
    expect(bare.status, bare.text).toBe(201);
    expect(bare.body.policy).toEqual(DEFAULT_POLICY);
    expect(bare.body.tags).toEqual({});
    const withPolicy = await s.createRoom(owner, {
      policy: { access: "members", roles: { guest: { maxDurationMinutes: 30 } } },
    });
    expect(withPolicy.policy).toEqual({
      ...DEFAULT_POLICY,
      access: "members",
      roles: {
        ...DEFAULT_POLICY.roles,
        guest: { capabilities: ["SUBSCRIBE"], moderator: false, maxDurationMinutes: 30 },
      },
    });
  });

  it("accepts the bounds: a 128-character name, a 200-character title, 50 tags of the longest keys, a 256-character value", async () => {
    const s = stack();
    const tags = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [
        `${String(i).padStart(2, "0")}${"k".repeat(126)}`,
        i === 0 ? "v".repeat(256) : "",
      ]),
    );
    const room = await s.createRoom(owner, { name: "n".repeat(128), title: "t".repeat(200), tags });
    expect(room.name).toBe("n".repeat(128));
    expect(Object.keys(room.tags)).toHaveLength(50);
  });

  const invalid: Array<[string, unknown, string]> = [
    ["an unknown field", { name: "x", colour: "red" }, "/colour"],
    ["a name with a space", { name: "my room" }, "/name"],
    ["a name of 129 characters", { name: "n".repeat(129) }, "/name"],
    ["a name that is a number", { name: 5 }, "/name"],
    ["an empty title", { title: "" }, "/title"],
    ["a title of 201 characters", { title: "t".repeat(201) }, "/title"],
    ["a null title", { title: null }, "/title"],
    ["tags that are a list", { tags: ["a"] }, "/tags"],
    ["an aws: tag key", { tags: { "aws:cloudformation:stack-name": "x" } }, "/tags/aws:cloudformation:stack-name"],
    ["a stagepass: tag key", { tags: { "stagepass:owner": "x" } }, "/tags/stagepass:owner"],
    ["an empty tag key", { tags: { "": "x" } }, "/tags/"],
    ["a tag key of 129 characters", { tags: { ["k".repeat(129)]: "x" } }, `/tags/${"k".repeat(129)}`],
    ["a tag value of 257 characters", { tags: { k: "v".repeat(257) } }, "/tags/k"],
    ["a tag value that is a number", { tags: { k: 1 } }, "/tags/k"],
    ["51 tags", { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) }, "/tags"],
    ["a policy naming an undefined role", { policy: { defaultRole: "guest" } }, "/policy/defaultRole"],
    [
      "a policy whose host is no moderator",
      { policy: { roles: { host: { moderator: false } } } },
      "/policy/roles/host/moderator",
    ],
    [
      "a policy with a role of 20161 minutes",
      { policy: { roles: { viewer: { maxDurationMinutes: 20161 } } } },
      "/policy/roles/viewer/maxDurationMinutes",
    ],
    [
      "a policy with an unknown capability",
      { policy: { roles: { viewer: { capabilities: ["WATCH"] } } } },
      "/policy/roles/viewer/capabilities/0",
    ],
    ["a policy with an unknown field", { policy: { visibility: "open" } }, "/policy/visibility"],
    ["a body that is a list", [], "/"],
    ["a body that is null", null, "/"],
    ["a body that is a string", "room", "/"],
  ];
  it.each(invalid)("400 for %s, and nothing is created", async (_name, body, path) => {
    const s = stack();
    await unchanged(async () =>
      expectValidation(
        await s.api("POST", "/rooms", {
          as: owner,
          rawBody: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
        path,
      ),
    );
  });

  it("400 for a body that is not JSON; 415 for another content type; 413 over 16 KiB; nothing is created", async () => {
    const s = stack();
    await unchanged(async () => {
      expectValidation(
        await s.api("POST", "/rooms", {
          as: owner,
          rawBody: '{"name":',
          headers: { "content-type": "application/json" },
        }),
      );
      expectProblem(
        await s.api("POST", "/rooms", {
          as: owner,
          rawBody: '{"name":"x"}',
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      expectProblem(
        await s.api("POST", "/rooms", {
          as: owner,
          rawBody: "name=x",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
        415,
        "unsupported_media_type",
      );
      expectProblem(
        await s.api("POST", "/rooms", { as: owner, rawBody: '{"name":"x"}', headers: {} }),
        415,
        "unsupported_media_type",
      );
      const big = JSON.stringify({ title: "t", tags: { k: "v".repeat(16 * 1024) } });
      expectProblem(
        await s.api("POST", "/rooms", { as: owner, rawBody: big, headers: { "content-type": "application/json" } }),
        413,
        "payload_too_large",
      );
      // Exactly 16 KiB is not too large: it gets past the size check to validation.
      const exact = `{"x":"${"a".repeat(16 * 1024 - 8)}"}`;
      expect(Buffer.byteLength(exact)).toBe(16 * 1024);
      expectValidation(
        await s.api("POST", "/rooms", { as: owner, rawBody: exact, headers: { "content-type": "application/json" } }),
        "/x",
      );
    });
  });

  it("accepts application/json with a charset", async () => {
    const s = stack();
    const r = await s.api("POST", "/rooms", {
      as: owner,
      rawBody: '{"title":"charset"}',
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(r.status, r.text).toBe(201);
  });

  it("400 for an Idempotency-Key that is empty or longer than 128 characters", async () => {
    const s = stack();
    await unchanged(async () => {
      expectValidation(
        await s.api("POST", "/rooms", { as: owner, body: {}, headers: { "idempotency-key": "k".repeat(129) } }),
        "/headers/idempotency-key",
      );
    });
  });
});

describe("GET /rooms/{roomId}", () => {
  let open: any;
  let closed: any;
  beforeAll(async () => {
    open = await stack().createRoom(owner, { name: "open-room", tags: { t: "1" } });
    closed = await membersRoom();
  });

  it("owner: host, with policy and tags", async () => {
    const r = await stack().api("GET", `/rooms/${closed.roomId}`, { as: owner });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      roomId: closed.roomId,
      yourRole: "host",
      live: false,
      activeSessionId: null,
      ownerId: owner.sub,
    });
    expect(r.body.policy).toEqual({ ...DEFAULT_POLICY, access: "members", groupRoles: { band: "speaker" } });
    expect(r.body.tags).toEqual({});
  });

  it("stranger in an open room: the default role; policy and tags keys omitted, not null", async () => {
    const r = await stack().api("GET", `/rooms/${open.roomId}`, { as: stranger });
    expect(r.status, r.text).toBe(200);
    expect(r.body.yourRole).toBe("viewer");
    expect(r.body).not.toHaveProperty("policy");
    expect(r.body).not.toHaveProperty("tags");
    expect(r.body).toMatchObject({
      roomId: open.roomId,
      stageArn: open.stageArn,
      name: "open-room",
      ownerId: owner.sub,
      live: false,
      activeSessionId: null,
    });
  });

  it("member: their role; a viewer member sees no policy, a moderator member does", async () => {
    const s = stack();
    const asMember = await s.api("GET", `/rooms/${closed.roomId}`, { as: member });
    expect(asMember.status).toBe(200);
    expect(asMember.body.yourRole).toBe("viewer");
    expect(asMember.body).not.toHaveProperty("policy");
    const asModerator = await s.api("GET", `/rooms/${closed.roomId}`, { as: moderator });
    expect(asModerator.body.yourRole).toBe("host");
    expect(asModerator.body.policy.access).toBe("members");
    expect(asModerator.body.tags).toEqual({});
  });

  it("group member: the role groupRoles maps their group to", async () => {
    const r = await stack().api("GET", `/rooms/${closed.roomId}`, { as: band });
    expect(r.status, r.text).toBe(200);
    expect(r.body.yourRole).toBe("speaker");
    expect(r.body).not.toHaveProperty("policy");
  });

  it("stranger in a members-only room: 403 forbidden", async () => {
    expectProblem(await stack().api("GET", `/rooms/${closed.roomId}`, { as: stranger }), 403, "forbidden");
  });

  it("admin: host anywhere, with policy", async () => {
    const r = await stack().api("GET", `/rooms/${closed.roomId}`, { as: admin });
    expect(r.status).toBe(200);
    expect(r.body.yourRole).toBe("host");
    expect(r.body.policy).toBeDefined();
  });

  it("banned user: 403 banned with until, in an open room and as a member alike", async () => {
    const s = stack();
    const until = await ban(open.roomId, banned);
    const r = await s.api("GET", `/rooms/${open.roomId}`, { as: banned });
    expectProblem(r, 403, "banned");
    expect(r.body.until).toBe(until);
    expect(r.body.until).toMatch(ISO);
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(4 * 60_000);
    // A member who is banned is banned, whatever the role.
    await s.api("PUT", `/rooms/${closed.roomId}/members/${banned.sub}`, { as: owner, body: { role: "speaker" } });
    expect((await s.api("GET", `/rooms/${closed.roomId}`, { as: banned })).status).toBe(200);
    await ban(closed.roomId, banned);
    expectProblem(await s.api("GET", `/rooms/${closed.roomId}`, { as: banned }), 403, "banned");
  });

  it("404 for a room that does not exist; 400 for a malformed room id", async () => {
    const s = stack();
    expectProblem(await s.api("GET", "/rooms/abcdABCD0000", { as: owner }), 404, "not_found");
    expectValidation(await s.api("GET", "/rooms/bad_id", { as: owner }), "/path/roomId");
    expectValidation(await s.api("GET", `/rooms/${"a".repeat(65)}`, { as: owner }), "/path/roomId");
    expectValidation(await s.api("GET", "/rooms/a%20b", { as: owner }), "/path/roomId");
    expectValidation(await s.api("GET", "/rooms/%C3%A9t%C3%A9", { as: owner }), "/path/roomId");
  });

  it("shows the live state from IVS once someone is on stage, and caches it briefly", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "live" });
    const token = await s.api("POST", `/rooms/${room.roomId}/token`, { as: owner });
    expect(token.status, token.text).toBe(200);
    expect((await s.join(token.body.token)).status).toBe(200);
    s.stack.ivs.resetCounts();
    const first = await s.api("GET", `/rooms/${room.roomId}`, { as: stranger });
    expect(first.body.live).toBe(true);
    expect(first.body.activeSessionId).toMatch(/^st-[a-zA-Z0-9]{13}$/);
    const second = await s.api("GET", `/rooms/${room.roomId}`, { as: owner });
    expect(second.body.activeSessionId).toBe(first.body.activeSessionId);
    // GetStage allows 5 calls per second per account: the second read within 10 s is served from the cache.
    expect(s.stack.ivs.requestCounts().GetStage ?? 0).toBe(1);
  });

  it("a room whose stage was deleted behind its back still answers (not live)", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "vanishing" });
    await s.ivs.send(new DeleteStageCommand({ arn: room.stageArn }));
    const r = await s.api("GET", `/rooms/${room.roomId}`, { as: owner });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ live: false, activeSessionId: null });
  });
});

describe("PATCH /rooms/{roomId}", () => {
  it("owner renames the stage (IVS UpdateStage) and retitles the room", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "before", title: "Before" });
    await new Promise((r) => setTimeout(r, 5));
    const r = await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { name: "after", title: "After" } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      roomId: room.roomId,
      name: "after",
      title: "After",
      yourRole: "host",
      createdAt: room.createdAt,
      live: false,
    });
    expect(Date.parse(r.body.updatedAt)).toBeGreaterThan(Date.parse(room.updatedAt));
    expect(r.body.policy).toEqual(DEFAULT_POLICY);
    expect((await s.ivs.send(new GetStageCommand({ arn: room.stageArn }))).stage?.name).toBe("after");
    const read = await s.api("GET", `/rooms/${room.roomId}`, { as: owner });
    expect(read.body).toMatchObject({ name: "after", title: "After" });
  });

  it("a policy given replaces the stored one whole, after defaults", async () => {
    const s = stack();
    const room = await s.createRoom(owner, {
      policy: { access: "members", groupRoles: { band: "speaker" }, defaultDurationMinutes: 30, roles: { guest: {} } },
    });
    expectProblem(await s.api("GET", `/rooms/${room.roomId}`, { as: stranger }), 403, "forbidden");
    const r = await s.api("PATCH", `/rooms/${room.roomId}`, {
      as: owner,
      body: { policy: { allowedAttributes: ["displayName"] } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.policy).toEqual({ ...DEFAULT_POLICY, allowedAttributes: ["displayName"] });
    // The room is open now: the stranger gets in with the default role; the band's mapping is gone.
    expect((await s.api("GET", `/rooms/${room.roomId}`, { as: stranger })).body.yourRole).toBe("viewer");
    expect((await s.api("GET", `/rooms/${room.roomId}`, { as: band })).body.yourRole).toBe("viewer");
  });

  it("a moderator member may patch; yourRole follows the new policy", async () => {
    const s = stack();
    const room = await membersRoom();
    const r = await s.api("PATCH", `/rooms/${room.roomId}`, {
      as: moderator,
      body: { title: "Renamed by a moderator" },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ title: "Renamed by a moderator", yourRole: "host" });
    expect(r.body.policy).toBeDefined();
  });

  it("yourRole in the answer is the caller's role under the new policy", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { policy: { roles: { mc: { moderator: true } } } });
    expect(
      (await s.api("PUT", `/rooms/${room.roomId}/members/${member.sub}`, { as: owner, body: { role: "mc" } })).status,
    ).toBe(200);
    // The member drops their own role from the policy: they are a viewer of the open room now, and see no policy.
    const r = await s.api("PATCH", `/rooms/${room.roomId}`, { as: member, body: { policy: {} } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.yourRole).toBe("viewer");
    expect(r.body).not.toHaveProperty("policy");
    expect(r.body).not.toHaveProperty("tags");
    expect((await s.api("GET", `/rooms/${room.roomId}`, { as: member })).body.yourRole).toBe("viewer");
    expectProblem(
      await s.api("PATCH", `/rooms/${room.roomId}`, { as: member, body: { title: "again" } }),
      403,
      "forbidden",
    );
  });

  it("404 when renaming a room whose stage is gone from IVS", async () => {
    const s = stack();
    const room = await s.createRoom(owner, { name: "gone" });
    await s.ivs.send(new DeleteStageCommand({ arn: room.stageArn }));
    expectProblem(
      await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { name: "renamed" } }),
      404,
      "not_found",
    );
  });

  it("403 for a viewer, a group speaker, a stranger and a banned user; 404; 400; nothing changes", async () => {
    const s = stack();
    const room = await membersRoom();
    const open = await s.createRoom(owner);
    await ban(open.roomId, banned);
    await unchanged(async () => {
      expectProblem(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: member, body: { title: "x" } }),
        403,
        "forbidden",
      );
      expectProblem(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: band, body: { title: "x" } }),
        403,
        "forbidden",
      );
      expectProblem(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: stranger, body: { title: "x" } }),
        403,
        "forbidden",
      );
      expectProblem(
        await s.api("PATCH", `/rooms/${open.roomId}`, { as: stranger, body: { title: "x" } }),
        403,
        "forbidden",
      );
      expectProblem(await s.api("PATCH", `/rooms/${open.roomId}`, { as: banned, body: { title: "x" } }), 403, "banned");
      expectProblem(await s.api("PATCH", "/rooms/abcdABCD0000", { as: owner, body: { title: "x" } }), 404, "not_found");
      expectValidation(await s.api("PATCH", "/rooms/not_an_id", { as: owner, body: { title: "x" } }), "/path/roomId");
      expectValidation(await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner }));
      expectValidation(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { tags: { a: "b" } } }),
        "/tags",
      );
      expectValidation(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { ownerId: stranger.sub } }),
        "/ownerId",
      );
      expectValidation(
        await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { name: "bad name" } }),
        "/name",
      );
      expectValidation(await s.api("PATCH", `/rooms/${room.roomId}`, { as: owner, body: { title: "" } }), "/title");
      expectValidation(
        await s.api("PATCH", `/rooms/${room.roomId}`, {
          as: owner,
          body: { policy: { groupRoles: { band: "nope" } } },
        }),
        "/policy/groupRoles/band",
      );
      expectProblem(
        await s.api("PATCH", `/rooms/${room.roomId}`, {
          as: owner,
          rawBody: '{"title":"x"}',
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      expectProblem(
        await s.api("PATCH", `/rooms/${room.roomId}`, {
          as: owner,
          rawBody: JSON.stringify({ title: "x".repeat(17_000) }),
          headers: { "content-type": "application/json" },
        }),
        413,
        "payload_too_large",
      );
    });
  });
});

describe("DELETE /rooms/{roomId}", () => {
  it("owner: 204, the stage goes and every record of the room but its audit trail", async () => {
    const s = stack();
    const room = await membersRoom({ name: "doomed" });
    const token = await s.api("POST", `/rooms/${room.roomId}/token`, { as: member });
    expect(token.status, token.text).toBe(200);
    expect((await s.join(token.body.token)).status).toBe(200);
    await ban(room.roomId, banned);
    const r = await s.api("DELETE", `/rooms/${room.roomId}`, { as: owner });
    expect(r.status, r.text).toBe(204);
    expect(r.text).toBe("");
    expect(r.headers.get("x-request-id")).toBeTruthy();
    await expect(s.ivs.send(new GetStageCommand({ arn: room.stageArn }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    const items = await s.scanTable();
    const pkOf = (i: Record<string, any>) => String(i.pk?.S);
    expect(items.filter((i) => pkOf(i) === `ROOM#${room.roomId}`)).toEqual([]);
    expect(items.filter((i: Record<string, any>) => String(i.gsi1sk?.S) === room.roomId)).toEqual([]);
    expect(items.filter((i) => pkOf(i) === `AUDIT#${room.roomId}`).length).toBeGreaterThan(1);
    expectProblem(await s.api("GET", `/rooms/${room.roomId}`, { as: owner }), 404, "not_found");
    expectProblem(await s.api("DELETE", `/rooms/${room.roomId}`, { as: owner }), 404, "not_found");
    // The audit trail stays readable by admins.
    const audit = await s.api("GET", `/rooms/${room.roomId}/audit`, { as: admin });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.entries[0].action).toBe("room.deleted");
  });

  it("succeeds when the stage is already gone from IVS", async () => {
    const s = stack();
    const room = await s.createRoom(owner);
    await s.ivs.send(new DeleteStageCommand({ arn: room.stageArn }));
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: owner })).status).toBe(204);
    expectProblem(await s.api("GET", `/rooms/${room.roomId}`, { as: owner }), 404, "not_found");
  });

  it("admin may delete anyone's room", async () => {
    const s = stack();
    const room = await s.createRoom(owner);
    expect((await s.api("DELETE", `/rooms/${room.roomId}`, { as: admin })).status).toBe(204);
  });

  it("403 for a moderator who is not the owner, a viewer, a stranger and a banned user; 404; 400; nothing changes", async () => {
    const s = stack();
    const room = await membersRoom();
    const open = await s.createRoom(owner);
    await ban(open.roomId, banned);
    await unchanged(async () => {
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}`, { as: moderator }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}`, { as: member }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}`, { as: band }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${room.roomId}`, { as: stranger }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${open.roomId}`, { as: stranger }), 403, "forbidden");
      expectProblem(await s.api("DELETE", `/rooms/${open.roomId}`, { as: banned }), 403, "banned");
      expectProblem(await s.api("DELETE", "/rooms/abcdABCD0000", { as: owner }), 404, "not_found");
      expectValidation(await s.api("DELETE", "/rooms/a.b", { as: owner }), "/path/roomId");
    });
  });
});
