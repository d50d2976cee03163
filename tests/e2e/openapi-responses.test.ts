// Real responses of the offline stack match the schemas openapi.yaml declares, for every route: success and typical
// failures. (The document itself against the code: tests/unit/openapi.test.ts.)
import { describe, expect, it } from "vitest";
import { loadTemplate, routesOf } from "../../local/template.ts";
import { conforms } from "../support/openapi.ts";
import { useStack } from "../support/stack.ts";

describe("real responses of the offline stack match openapi.yaml", () => {
  const stack = useStack();

  it("for every route, success and typical failures", async () => {
    const s = stack();
    const [owner, viewer, admin, stranger] = await Promise.all([
      s.login("oa-owner"),
      s.login("oa-viewer"),
      s.login("oa-admin", { groups: ["admin"] }),
      s.login("oa-stranger"),
    ]);
    const problems: string[] = [];
    const seen = new Set<string>();
    const call = async (method: string, template: string, concrete: string, opts: Parameters<typeof s.api>[2] = {}) => {
      const r = await s.api(method, concrete, opts);
      problems.push(...conforms(method, template, r));
      seen.add(`${method} ${template}`);
      return r;
    };

    await call("GET", "/health", "/health");
    const created = await call("POST", "/rooms", "/rooms", {
      as: owner,
      body: { name: "oa", title: "OpenAPI", tags: { a: "b" }, policy: { groupRoles: { band: "speaker" } } },
      headers: { "idempotency-key": "oa-1" },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.roomId as string;
    await call("POST", "/rooms", "/rooms", {
      as: owner,
      body: { name: "other" },
      headers: { "idempotency-key": "oa-1" },
    });
    await call("POST", "/rooms", "/rooms", { as: owner, body: { bogus: 1 } });
    await call("POST", "/rooms", "/rooms", { as: owner, rawBody: "x", headers: { "content-type": "text/plain" } });
    await call("POST", "/rooms", "/rooms", {
      as: owner,
      rawBody: JSON.stringify({ title: "x".repeat(17_000) }),
      headers: { "content-type": "application/json" },
    });
    await call("POST", "/rooms", "/rooms", {});
    await call("GET", "/rooms", "/rooms?limit=2", { as: owner });
    await call("GET", "/rooms", "/rooms?limit=0", { as: owner });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: owner });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger });
    await call("GET", "/rooms/{roomId}", "/rooms/abcdABCD0000", { as: owner });
    await call("PATCH", "/rooms/{roomId}", `/rooms/${id}`, { as: owner, body: { title: "Renamed" } });
    await call("PATCH", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger, body: { title: "No" } });
    await call("PUT", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, {
      as: owner,
      body: { role: "viewer" },
    });
    await call("PUT", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, {
      as: owner,
      body: { role: "nope" },
    });
    await call("GET", "/rooms/{roomId}/members", `/rooms/${id}/members`, { as: owner });
    await call("GET", "/rooms/{roomId}/tags", `/rooms/${id}/tags`, { as: owner });
    await call("PUT", "/rooms/{roomId}/tags", `/rooms/${id}/tags`, { as: owner, body: { tags: { c: "d" } } });
    await call("DELETE", "/rooms/{roomId}/tags", `/rooms/${id}/tags?keys=c`, { as: owner });
    const token = await call("POST", "/rooms/{roomId}/token", `/rooms/${id}/token`, {
      as: viewer,
      body: { durationMinutes: 5 },
    });
    await call("GET", "/rooms/{roomId}/token", `/rooms/${id}/token`, { as: viewer });
    await call("POST", "/rooms/{roomId}/token", `/rooms/${id}/token`, {
      as: viewer,
      body: { capabilities: ["PUBLISH"] },
    });
    await s.join(token.body.token);
    await call("GET", "/rooms/{roomId}/participants", `/rooms/${id}/participants`, { as: viewer });
    await call("GET", "/rooms/{roomId}/participants", `/rooms/${id}/participants?state=all`, { as: owner });
    await call("GET", "/rooms/{roomId}/participants", `/rooms/${id}/participants?state=maybe`, { as: owner });
    // 409 exchange_unsupported with TOKEN_MODE=api, the new token with TOKEN_MODE=self-signed.
    await call(
      "POST",
      "/rooms/{roomId}/participants/{participantId}/token",
      `/rooms/${id}/participants/${token.body.participantId}/token`,
      { as: viewer, body: {} },
    );
    await call("POST", "/rooms/{roomId}/kick", `/rooms/${id}/kick`, {
      as: owner,
      body: { userId: stranger.sub, banMinutes: 5, reason: "spam" },
    });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger });
    await call("POST", "/rooms/{roomId}/kick", `/rooms/${id}/kick`, {
      as: owner,
      body: { participantId: token.body.participantId },
    });
    await call("GET", "/rooms/{roomId}/bans", `/rooms/${id}/bans`, { as: owner });
    await call("DELETE", "/rooms/{roomId}/bans/{userId}", `/rooms/${id}/bans/${stranger.sub}`, { as: owner });
    await call("DELETE", "/rooms/{roomId}/bans/{userId}", `/rooms/${id}/bans/${stranger.sub}`, { as: owner });
    await call("GET", "/rooms/{roomId}/audit", `/rooms/${id}/audit?limit=3`, { as: owner });
    await call("GET", "/admin/stages", "/admin/stages", { as: admin });
    await call("GET", "/admin/stages", "/admin/stages", { as: owner });
    await call("DELETE", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, { as: owner });
    await call("DELETE", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, { as: owner });
    await call("DELETE", "/rooms/{roomId}", `/rooms/${id}`, { as: viewer });
    await call("DELETE", "/rooms/{roomId}", `/rooms/${id}`, { as: owner });

    expect(problems).toEqual([]);
    expect([...routesOf(loadTemplate()).map((r) => r.routeKey)].filter((k) => !seen.has(k))).toEqual([]);
  });
});
