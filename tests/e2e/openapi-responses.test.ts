// Real responses of the offline stack match the schemas openapi.yaml declares, for every route: success and typical
// failures. (The document itself against the code: tests/unit/openapi.test.ts.)
import { describe, expect, it } from "vitest";
import { loadTemplate, routesOf } from "../../local/template.ts";
import { deref, doc, type Json } from "../support/openapi.ts";
import { useStack, type ApiResponse } from "../support/stack.ts";

/** A small checker for the JSON Schema keywords openapi.yaml uses. */
function check(schema: Json, value: Json, at: string, out: string[]): void {
  schema = deref(schema);
  if (schema === undefined) return void out.push(`${at}: no schema`);
  if (schema.allOf) for (const s of schema.allOf) check(s, value, at, out);
  if (schema.anyOf) {
    const passing = schema.anyOf.filter((s: Json) => { const e: string[] = []; check(s, value, at, e); return e.length === 0; });
    if (passing.length === 0) out.push(`${at}: matches none of anyOf`);
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Json) => { const e: string[] = []; check(s, value, at, e); return e.length === 0; });
    if (passing.length !== 1) out.push(`${at}: matches ${passing.length} of oneOf`);
  }
  if ("const" in schema && value !== schema.const) out.push(`${at}: is not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = value === null ? "null" : Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
    if (!types.includes(actual) && !(actual === "integer" && types.includes("number"))) return void out.push(`${at}: ${actual} is not ${types.join("|")}`);
  }
  if (typeof value === "string") {
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) out.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && [...value].length < schema.minLength) out.push(`${at}: too short`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) out.push(`${at}: too long`);
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) out.push(`${at}: not a date-time`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${at}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => check(schema.items, v, `${at}/${i}`, out));
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) out.push(`${at}: items repeat`);
  } else if (value !== null && typeof value === "object") {
    for (const key of schema.required ?? []) if (!(key in value)) out.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(value)) {
      if (schema.properties?.[key]) check(schema.properties[key], v, `${at}/${key}`, out);
      else if (schema.additionalProperties === false && !(schema.allOf || schema.oneOf || schema.anyOf)) out.push(`${at}: undeclared ${key}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") check(schema.additionalProperties, v, `${at}/${key}`, out);
      if (schema.propertyNames) check(schema.propertyNames, key, `${at}/(name ${key})`, out);
    }
  }
}

/** Checks a real response against the operation's declared response: status, content type, body, headers. */
function conforms(method: string, path: string, r: ApiResponse): string[] {
  const declared = deref(doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(r.status)]);
  if (!declared) return [`${method} ${path}: status ${r.status} is not documented`];
  const out: string[] = [];
  for (const name of Object.keys(declared.headers ?? {})) {
    if (name === "Retry-After" || name === "WWW-Authenticate" || name === "Location" || name === "Cache-Control" || name === "x-request-id") {
      if (r.headers.get(name) === null) out.push(`${method} ${path} ${r.status}: header ${name} missing`);
    }
  }
  if (!declared.content) {
    if (r.text !== "") out.push(`${method} ${path} ${r.status}: a body where none is documented`);
    return out;
  }
  const type = (r.headers.get("content-type") ?? "").split(";")[0]!;
  const media = declared.content[type];
  if (!media) return [...out, `${method} ${path} ${r.status}: content type ${type} not documented`];
  check(media.schema, r.body, `${method} ${path} ${r.status}`, out);
  return out;
}

describe("real responses of the offline stack match openapi.yaml", () => {
  const stack = useStack();

  it("(the checker itself finds missing, undeclared and mistyped members)", () => {
    const room = { roomId: "abcdABCD1234", stageArn: "arn", name: "n", ownerId: "o", createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", yourRole: "host" };
    const errorsOf = (schema: Json, value: Json) => { const out: string[] = []; check(schema, value, "", out); return out; };
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, room)).toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, { ...room, yourRole: undefined })).not.toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, { ...room, live: "yes" })).not.toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/PutMemberRequest" }, { role: "viewer", extra: 1 })).not.toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/Problem" }, { type: "t", title: "t", status: 400, detail: "d", code: "oops" })).not.toEqual([]);
  });

  it("for every route, success and typical failures", async () => {
    const s = stack();
    const [owner, viewer, admin, stranger] = await Promise.all([
      s.login("oa-owner"), s.login("oa-viewer"), s.login("oa-admin", { groups: ["admin"] }), s.login("oa-stranger"),
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
    const created = await call("POST", "/rooms", "/rooms", { as: owner, body: { name: "oa", title: "OpenAPI", tags: { a: "b" }, policy: { groupRoles: { band: "speaker" } } }, headers: { "idempotency-key": "oa-1" } });
    expect(created.status, created.text).toBe(201);
    const id = created.body.roomId as string;
    await call("POST", "/rooms", "/rooms", { as: owner, body: { name: "other" }, headers: { "idempotency-key": "oa-1" } });
    await call("POST", "/rooms", "/rooms", { as: owner, body: { bogus: 1 } });
    await call("POST", "/rooms", "/rooms", { as: owner, rawBody: "x", headers: { "content-type": "text/plain" } });
    await call("POST", "/rooms", "/rooms", { as: owner, rawBody: JSON.stringify({ title: "x".repeat(17_000) }), headers: { "content-type": "application/json" } });
    await call("POST", "/rooms", "/rooms", {});
    await call("GET", "/rooms", "/rooms?limit=2", { as: owner });
    await call("GET", "/rooms", "/rooms?limit=0", { as: owner });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: owner });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger });
    await call("GET", "/rooms/{roomId}", "/rooms/abcdABCD0000", { as: owner });
    await call("PATCH", "/rooms/{roomId}", `/rooms/${id}`, { as: owner, body: { title: "Renamed" } });
    await call("PATCH", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger, body: { title: "No" } });
    await call("PUT", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, { as: owner, body: { role: "viewer" } });
    await call("PUT", "/rooms/{roomId}/members/{userId}", `/rooms/${id}/members/${viewer.sub}`, { as: owner, body: { role: "nope" } });
    await call("GET", "/rooms/{roomId}/members", `/rooms/${id}/members`, { as: owner });
    await call("GET", "/rooms/{roomId}/tags", `/rooms/${id}/tags`, { as: owner });
    await call("PUT", "/rooms/{roomId}/tags", `/rooms/${id}/tags`, { as: owner, body: { tags: { c: "d" } } });
    await call("DELETE", "/rooms/{roomId}/tags", `/rooms/${id}/tags?keys=c`, { as: owner });
    const token = await call("POST", "/rooms/{roomId}/token", `/rooms/${id}/token`, { as: viewer, body: { durationMinutes: 5 } });
    await call("GET", "/rooms/{roomId}/token", `/rooms/${id}/token`, { as: viewer });
    await call("POST", "/rooms/{roomId}/token", `/rooms/${id}/token`, { as: viewer, body: { capabilities: ["PUBLISH"] } });
    await s.join(token.body.token);
    await call("POST", "/rooms/{roomId}/kick", `/rooms/${id}/kick`, { as: owner, body: { userId: stranger.sub, banMinutes: 5, reason: "spam" } });
    await call("GET", "/rooms/{roomId}", `/rooms/${id}`, { as: stranger });
    await call("POST", "/rooms/{roomId}/kick", `/rooms/${id}/kick`, { as: owner, body: { participantId: token.body.participantId } });
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
