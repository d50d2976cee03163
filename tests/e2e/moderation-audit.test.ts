// The audit trail (docs/api.md § Moderation): every room change, member change, kick, ban and unban written as it
// happens with the contract's action names and shape, read newest first and paginated by moderators, and kept
// for admins for 90 days after the room's deletion.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { listAuditRoute } from "../../functions/moderation/audit.ts";
import type { DepsWithQueue } from "../../shared/deps.ts";
import { NotFoundError } from "../../shared/errors.ts";
import type { AuthenticatedRequest } from "../../shared/http/types.ts";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

const ACTIONS = [
  "room.created",
  "room.updated",
  "room.deleted",
  "tags.changed",
  "member.set",
  "member.removed",
  "participant.kicked",
  "user.banned",
  "user.unbanned",
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DAY = 24 * 3600_000;

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status, code });
}

async function ok(p: Promise<ApiResponse>, status = 200): Promise<ApiResponse> {
  const r = await p;
  expect(r.status, r.text).toBe(status);
  return r;
}

async function allPages(
  s: TestStack,
  as: Session,
  roomId: string,
  limit: number,
): Promise<{ entries: any[]; pages: number }> {
  const entries: any[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const r = await ok(
      s.api("GET", `/rooms/${roomId}/audit?limit=${limit}${next ? `&nextToken=${encodeURIComponent(next)}` : ""}`, {
        as,
      }),
    );
    expect(r.body.entries.length).toBeLessThanOrEqual(limit);
    entries.push(...r.body.entries);
    next = r.body.nextToken;
    pages++;
  } while (next !== undefined && pages < 50);
  return { entries, pages };
}

describe("the audit trail", () => {
  it("records every change with the contract's action names, newest first, paginated, and survives the room for admins", async () => {
    const s = stack();
    const owner = await s.login("au-owner");
    const mod = await s.login("au-mod");
    const viewer = await s.login("au-viewer");
    const admin = await s.login("au-admin", { groups: ["admin"] });
    const room = await s.createRoom(owner, { name: "audited" });
    const r = room.roomId;
    await ok(s.api("PATCH", `/rooms/${r}`, { as: owner, body: { title: "Audited room" } }));
    await ok(s.api("PUT", `/rooms/${r}/tags`, { as: owner, body: { tags: { team: "a" } } }));
    await ok(s.api("PUT", `/rooms/${r}/members/${mod.sub}`, { as: owner, body: { role: "host" } }));
    await ok(s.api("PUT", `/rooms/${r}/members/${viewer.sub}`, { as: mod, body: { role: "speaker" } }));
    await ok(s.api("DELETE", `/rooms/${r}/members/${viewer.sub}`, { as: mod }), 204);
    const t = await ok(s.api("POST", `/rooms/${r}/token`, { as: viewer }));
    await ok(
      s.api("POST", `/rooms/${r}/kick`, { as: mod, body: { participantId: t.body.participantId, reason: "noise" } }),
    );
    await ok(
      s.api("POST", `/rooms/${r}/kick`, { as: mod, body: { userId: viewer.sub, banMinutes: 5, reason: "again" } }),
    );
    await ok(s.api("DELETE", `/rooms/${r}/bans/${viewer.sub}`, { as: mod }), 204);

    // A moderator reads it; the contract's shape, newest first.
    const live = await ok(s.api("GET", `/rooms/${r}/audit`, { as: mod }));
    const entries: any[] = live.body.entries;
    expect(live.body.nextToken).toBeUndefined();
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(["action", "actor", "at", "detail", "target"]);
      expect(e.at).toMatch(ISO);
      expect(ACTIONS).toContain(e.action);
      expect(typeof e.detail).toBe("object");
    }
    const ats = entries.map((e) => e.at);
    expect(ats).toEqual([...ats].sort().reverse());
    expect(entries.map((e) => e.action)).toEqual([
      "user.unbanned",
      "participant.kicked",
      "user.banned",
      "participant.kicked",
      "member.removed",
      "member.set",
      "member.set",
      "tags.changed",
      "room.updated",
      "room.created",
    ]);
    expect(entries.map((e) => [e.actor, e.target])).toEqual([
      [mod.sub, viewer.sub],
      [mod.sub, viewer.sub],
      [mod.sub, viewer.sub],
      [mod.sub, t.body.participantId],
      [mod.sub, viewer.sub],
      [mod.sub, viewer.sub],
      [owner.sub, mod.sub],
      [owner.sub, r],
      [owner.sub, r],
      [owner.sub, r],
    ]);
    expect(entries[3].detail).toMatchObject({ reason: "noise" });
    expect(entries[2].detail).toMatchObject({ reason: "again", until: expect.stringMatching(ISO) });

    // Pages give the same entries, each once; a page that ends the trail carries no nextToken.
    const paged = await allPages(s, owner, r, 3);
    expect(paged.entries).toEqual(entries);
    expect(paged.pages).toBe(4);
    for (const limit of [1, 5, 10]) {
      const exact = await allPages(s, owner, r, limit);
      expect(exact.entries).toEqual(entries);
      expect(exact.pages).toBe(10 / limit);
    }
    const whole = await ok(s.api("GET", `/rooms/${r}/audit?limit=10`, { as: owner }));
    expect(whole.body).toEqual({ entries });

    // Only moderators; bad paging input is 400.
    expectProblem(await s.api("GET", `/rooms/${r}/audit`, { as: viewer }), 403, "forbidden");
    expectProblem(await s.api("GET", "/rooms/abcdABCDefgh/audit", { as: admin }), 404, "not_found");
    expectProblem(await s.api("GET", "/rooms/bad_id/audit", { as: admin }), 400, "validation_failed");
    const foreign = Buffer.from(JSON.stringify({ v: 1, sk: "MEMBER#x" })).toString("base64url");
    const wrongVersion = Buffer.from(JSON.stringify({ v: 2, sk: entries[0].at })).toString("base64url");
    for (const q of [
      "limit=0",
      "limit=101",
      "limit=abc",
      "limit=-1",
      "nextToken=garbage!",
      "nextToken=e30",
      `nextToken=${foreign}`,
      `nextToken=${wrongVersion}`,
    ]) {
      const bad = await s.api("GET", `/rooms/${r}/audit?${q}`, { as: owner });
      expectProblem(bad, 400, "validation_failed");
      expect(bad.body.errors[0].path, q).toMatch(/^\/query\//);
    }

    // Deleted: admins still read it (room.deleted first); nobody else does.
    await ok(s.api("DELETE", `/rooms/${r}`, { as: owner }), 204);
    const after = await ok(s.api("GET", `/rooms/${r}/audit`, { as: admin }));
    expect(after.body.entries[0]).toMatchObject({ action: "room.deleted", actor: owner.sub, target: r });
    expect(after.body.entries.slice(1)).toEqual(entries);
    expect(new Set([...after.body.entries.map((e: any) => e.action)])).toEqual(new Set(ACTIONS));
    for (const who of [owner, mod, viewer]) {
      const refused = await s.api("GET", `/rooms/${r}/audit`, { as: who });
      expect([403, 404], refused.text).toContain(refused.status);
    }
    // The room's other records are gone; its bans and kicks routes say so.
    expectProblem(await s.api("GET", `/rooms/${r}/bans`, { as: admin }), 404, "not_found");
    expectProblem(
      await s.api("POST", `/rooms/${r}/kick`, { as: admin, body: { userId: viewer.sub } }),
      404,
      "not_found",
    );
    const left = (await s.scanTable()).filter((i: any) => i.pk.S === `ROOM#${r}`);
    expect(left).toEqual([]);

    // 90 days after the deletion even admins get 404 (the route's rule, run with a clock moved forward).
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: s.stack.dynamodb.directEndpoint,
        region: s.stack.info.region,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }),
    );
    try {
      const at = (offsetMs: number) =>
        listAuditRoute(
          { db: { doc, table: s.stack.info.tableName }, now: () => Date.now() + offsetMs } as unknown as DepsWithQueue,
          {
            routeKey: "GET /rooms/{roomId}/audit",
            method: "GET",
            path: `/rooms/${r}/audit`,
            pathParameters: { roomId: r },
            query: {},
            headers: {},
            body: undefined,
            rawBody: "",
            requestId: "test",
            deadline: Date.now() + 5_000,
            caller: { userId: admin.sub, displayName: "au-admin", groups: ["admin"], isAdmin: true },
          } satisfies AuthenticatedRequest,
        );
      expect((await at(89 * DAY)).status).toBe(200);
      expect(((await at(90 * DAY - 60_000)).body as any).entries).toHaveLength(entries.length + 1);
      await expect(at(90 * DAY + 60_000)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      doc.destroy();
    }
  });
});
