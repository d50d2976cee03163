// Tags of a room's stage (IVS TagResource, UntagResource, ListTagsForResource) through the offline stack.
import { DeleteStageCommand, ListTagsForResourceCommand, TagResourceCommand } from "@aws-sdk/client-ivs-realtime";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session } from "../support/stack.ts";

const stack = useStack();

let owner: Session, mod: Session, viewer: Session, stranger: Session, admin: Session, banned: Session;

beforeAll(async () => {
  const s = stack();
  [owner, mod, viewer, stranger, admin, banned] = await Promise.all([
    s.login("tags-owner"),
    s.login("tags-mod"),
    s.login("tags-viewer"),
    s.login("tags-stranger"),
    s.login("tags-admin", { groups: ["admin"] }),
    s.login("tags-banned"),
  ]);
});

function expectProblem(r: ApiResponse, status: number, code: string, path?: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code });
  if (path !== undefined) expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
}

/** An open room with tags {team: "core", env: "dev"}, `mod` as host member, `viewer` as viewer member, `banned` banned. */
async function room() {
  const s = stack();
  const r = await s.createRoom(owner, { tags: { team: "core", env: "dev" } });
  await s.api("PUT", `/rooms/${r.roomId}/members/${mod.sub}`, { as: owner, body: { role: "host" } });
  await s.api("PUT", `/rooms/${r.roomId}/members/${viewer.sub}`, { as: owner, body: { role: "viewer" } });
  await s.api("POST", `/rooms/${r.roomId}/kick`, { as: owner, body: { userId: banned.sub, banMinutes: 5 } });
  return r;
}

const ivsTags = async (stageArn: string) =>
  (await stack().ivs.send(new ListTagsForResourceCommand({ resourceArn: stageArn }))).tags;

/** Runs `fn` and checks that neither the table nor the stage's tags changed. */
async function unchanged(stageArn: string, fn: () => Promise<void>) {
  const s = stack();
  const [items, tags] = await Promise.all([s.scanTable(), ivsTags(stageArn)]);
  await fn();
  expect(await s.scanTable()).toEqual(items);
  expect(await ivsTags(stageArn)).toEqual(tags);
}

describe("GET /rooms/{roomId}/tags", () => {
  it("reads the stage's tags from IVS, for moderators and admins", async () => {
    const s = stack();
    const r0 = await room();
    // Set behind stagepass's back: the route reads IVS, not its own copy.
    await s.ivs.send(new TagResourceCommand({ resourceArn: r0.stageArn, tags: { external: "yes" } }));
    for (const who of [owner, mod, admin]) {
      const r = await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: who });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ tags: { team: "core", env: "dev", external: "yes" } });
    }
  });

  it("403 for a viewer, a stranger, a banned user; 404; 400", async () => {
    const s = stack();
    const r0 = await room();
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: viewer }), 403, "forbidden");
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: stranger }), 403, "forbidden");
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: banned }), 403, "banned");
    expectProblem(await s.api("GET", "/rooms/abcdABCD0000/tags", { as: owner }), 404, "not_found");
    expectProblem(await s.api("GET", "/rooms/x_y/tags", { as: owner }), 400, "validation_failed", "/path/roomId");
  });
});

describe("PUT /rooms/{roomId}/tags", () => {
  it("merges into the stage's tags and answers the whole merged set; the room shows it to moderators", async () => {
    const s = stack();
    const r0 = await room();
    const r = await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: mod, body: { tags: { env: "prod", cost: "" } } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ tags: { team: "core", env: "prod", cost: "" } });
    expect(await ivsTags(r0.stageArn)).toEqual({ team: "core", env: "prod", cost: "" });
    expect((await s.api("GET", `/rooms/${r0.roomId}`, { as: owner })).body.tags).toEqual({
      team: "core",
      env: "prod",
      cost: "",
    });
    expect((await s.api("GET", `/rooms/${r0.roomId}`, { as: viewer })).body).not.toHaveProperty("tags");
    const empty = await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: {} } });
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body.tags).toEqual({ team: "core", env: "prod", cost: "" });
  });

  it("50 tags in all are accepted, a 51st is refused (400) and nothing changes", async () => {
    const s = stack();
    const r0 = await room();
    const more = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, "v"]));
    const full = await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: more } });
    expect(full.status, full.text).toBe(200);
    expect(Object.keys(full.body.tags)).toHaveLength(50);
    await unchanged(r0.stageArn, async () => {
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: { one: "too many" } } }),
        400,
        "validation_failed",
        "/tags",
      );
    });
    // Overwriting an existing key does not add one.
    expect(
      (await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: { team: "edge" } } })).status,
    ).toBe(200);
  });

  it("400 for aws: and stagepass: keys, bad lengths, a missing or malformed tags field; 413; 415; nothing changes", async () => {
    const s = stack();
    const r0 = await room();
    const putTags = (body: unknown) => s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body });
    await unchanged(r0.stageArn, async () => {
      expectProblem(await putTags({ tags: { "aws:x": "1" } }), 400, "validation_failed", "/tags/aws:x");
      expectProblem(
        await putTags({ tags: { "stagepass:room": "1" } }),
        400,
        "validation_failed",
        "/tags/stagepass:room",
      );
      expectProblem(
        await putTags({ tags: { ok: "1", "stagepass:owner": "x" } }),
        400,
        "validation_failed",
        "/tags/stagepass:owner",
      );
      expectProblem(await putTags({ tags: { "": "1" } }), 400, "validation_failed", "/tags/");
      expectProblem(await putTags({ tags: { ["k".repeat(129)]: "1" } }), 400, "validation_failed");
      expectProblem(await putTags({ tags: { k: "v".repeat(257) } }), 400, "validation_failed", "/tags/k");
      expectProblem(await putTags({ tags: { k: null } }), 400, "validation_failed", "/tags/k");
      expectProblem(
        await putTags({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`n${i}`, "v"])) }),
        400,
        "validation_failed",
        "/tags",
      );
      expectProblem(await putTags({}), 400, "validation_failed", "/tags");
      expectProblem(await putTags({ tags: "a=b" }), 400, "validation_failed", "/tags");
      expectProblem(await putTags({ tags: {}, extra: 1 }), 400, "validation_failed", "/extra");
      expectProblem(await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner }), 400, "validation_failed");
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, {
          as: owner,
          rawBody: '{"tags":{"a":"b"}}',
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, {
          as: owner,
          rawBody: JSON.stringify({ tags: { a: "b".repeat(17_000) } }),
          headers: { "content-type": "application/json" },
        }),
        413,
        "payload_too_large",
      );
    });
  });

  it("403 for a viewer, a stranger, a banned user; 404; nothing changes", async () => {
    const s = stack();
    const r0 = await room();
    await unchanged(r0.stageArn, async () => {
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: viewer, body: { tags: { a: "b" } } }),
        403,
        "forbidden",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: stranger, body: { tags: { a: "b" } } }),
        403,
        "forbidden",
      );
      expectProblem(
        await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: banned, body: { tags: { a: "b" } } }),
        403,
        "banned",
      );
      expectProblem(
        await s.api("PUT", "/rooms/abcdABCD0000/tags", { as: owner, body: { tags: { a: "b" } } }),
        404,
        "not_found",
      );
    });
  });
});

describe("a room whose stage is gone from IVS", () => {
  it("answers 404 on every tags route, not a 500", async () => {
    const s = stack();
    const r0 = await s.createRoom(owner, { tags: { a: "1" } });
    await s.ivs.send(new DeleteStageCommand({ arn: r0.stageArn }));
    expectProblem(await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: owner }), 404, "not_found");
    expectProblem(
      await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: { b: "2" } } }),
      404,
      "not_found",
    );
    expectProblem(await s.api("DELETE", `/rooms/${r0.roomId}/tags?keys=a`, { as: owner }), 404, "not_found");
  });
});

describe("DELETE /rooms/{roomId}/tags", () => {
  it("removes repeated keys (?keys=a&keys=b) and comma-separated ones (?keys=a,b): 204", async () => {
    const s = stack();
    const r0 = await s.createRoom(owner, { tags: { a: "1", b: "2", c: "3", d: "4", e: "5", "with space": "6" } });
    const repeated = await s.api("DELETE", `/rooms/${r0.roomId}/tags?keys=a&keys=b`, { as: owner });
    expect(repeated.status, repeated.text).toBe(204);
    expect(repeated.text).toBe("");
    expect(await ivsTags(r0.stageArn)).toEqual({ c: "3", d: "4", e: "5", "with space": "6" });
    expect((await s.api("DELETE", `/rooms/${r0.roomId}/tags?keys=c,d`, { as: owner })).status).toBe(204);
    expect(await ivsTags(r0.stageArn)).toEqual({ e: "5", "with space": "6" });
    expect(
      (
        await s.api("DELETE", `/rooms/${r0.roomId}/tags?keys=${encodeURIComponent("with space")}&keys=missing`, {
          as: owner,
        })
      ).status,
    ).toBe(204);
    expect(await ivsTags(r0.stageArn)).toEqual({ e: "5" });
    expect((await s.api("GET", `/rooms/${r0.roomId}`, { as: owner })).body.tags).toEqual({ e: "5" });
    expect((await s.api("GET", `/rooms/${r0.roomId}/tags`, { as: owner })).body).toEqual({ tags: { e: "5" } });
  });

  it("a moderator may remove tags; a viewer, a stranger and a banned user may not; 404; 400 for bad keys", async () => {
    const s = stack();
    const r0 = await room();
    const remove = (as: Session, query: string, roomId = r0.roomId) =>
      s.api("DELETE", `/rooms/${roomId}/tags${query}`, { as });
    await unchanged(r0.stageArn, async () => {
      expectProblem(await remove(viewer, "?keys=team"), 403, "forbidden");
      expectProblem(await remove(stranger, "?keys=team"), 403, "forbidden");
      expectProblem(await remove(banned, "?keys=team"), 403, "banned");
      expectProblem(await remove(owner, "?keys=team", "abcdABCD0000"), 404, "not_found");
      expectProblem(await remove(owner, "?keys=team", "bad_room"), 400, "validation_failed", "/path/roomId");
      expectProblem(await remove(owner, ""), 400, "validation_failed", "/query/keys");
      expectProblem(await remove(owner, "?keys="), 400, "validation_failed", "/query/keys");
      expectProblem(await remove(owner, "?keys=team,,env"), 400, "validation_failed");
      expectProblem(await remove(owner, "?keys=aws:x"), 400, "validation_failed");
      expectProblem(await remove(owner, "?keys=team&keys=stagepass:room"), 400, "validation_failed");
      expectProblem(await remove(owner, `?keys=${"k".repeat(129)}`), 400, "validation_failed");
      expectProblem(
        await remove(owner, `?${Array.from({ length: 51 }, (_, i) => `keys=k${i}`).join("&")}`),
        400,
        "validation_failed",
        "/query/keys",
      );
    });
    expect((await remove(mod, "?keys=team")).status).toBe(204);
    expect(await ivsTags(r0.stageArn)).toEqual({ env: "dev" });
  });

  it("writes tags.changed to the audit trail", async () => {
    const s = stack();
    const r0 = await room();
    await s.api("PUT", `/rooms/${r0.roomId}/tags`, { as: owner, body: { tags: { x: "1" } } });
    await s.api("DELETE", `/rooms/${r0.roomId}/tags?keys=x`, { as: mod });
    const audit = await s.api("GET", `/rooms/${r0.roomId}/audit`, { as: owner });
    const changes = audit.body.entries.filter((e: any) => e.action === "tags.changed");
    expect(changes).toHaveLength(2);
    expect(changes.map((e: any) => e.actor).sort()).toEqual([owner.sub, mod.sub].sort());
  });
});
