// openapi.yaml stays true to the code: the same (method, path) set as template.yaml's routes, in both directions;
// every $ref resolves; the conventions (bearer auth, problem documents, x-request-id, Retry-After, body limits) are
// declared where they apply; and real responses of the offline stack match the schemas it declares.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadTemplate, projectRoot, routesOf } from "../local/template.ts";
import * as errors from "../shared/errors.ts";
import { useStack, type ApiResponse } from "./support/stack.ts";

type Json = any;
const doc: Json = parse(readFileSync(`${projectRoot}openapi.yaml`, "utf8"));
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/** Resolves a local JSON pointer ref (`#/components/...`). */
function resolve(ref: string): Json {
  if (!ref.startsWith("#/")) throw new Error(`only local refs are used: ${ref}`);
  let node: Json = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}
const deref = (node: Json): Json => (node && typeof node === "object" && typeof node.$ref === "string" ? deref(resolve(node.$ref)) : node);

function operations(): Array<{ method: string; path: string; op: Json; pathItem: Json }> {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, pathItem]) =>
    METHODS.filter((m) => pathItem[m]).map((m) => ({ method: m.toUpperCase(), path, op: pathItem[m], pathItem })));
}

function allRefs(node: Json, at = "#"): Array<{ ref: string; at: string }> {
  if (Array.isArray(node)) return node.flatMap((n, i) => allRefs(n, `${at}/${i}`));
  if (node === null || typeof node !== "object") return [];
  return Object.entries(node).flatMap(([k, v]) => (k === "$ref" ? [{ ref: String(v), at }] : allRefs(v, `${at}/${k}`)));
}

describe("openapi.yaml and template.yaml", () => {
  const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
  const routed = new Set(routesOf(loadTemplate()).map((r) => `${r.method} ${r.path}`));

  it("is an OpenAPI 3.1 document", () => {
    expect(String(doc.openapi)).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBe("stagepass");
    expect(routed.size).toBeGreaterThan(10);
  });

  it("documents every route of the template", () => {
    expect([...routed].filter((r) => !documented.has(r)), "routes missing from openapi.yaml").toEqual([]);
  });

  it("documents no route the template does not have (and none of the offline stack's /dev/ routes)", () => {
    expect([...documented].filter((r) => !routed.has(r)), "operations without a route in template.yaml").toEqual([]);
    expect([...documented].some((r) => r.includes(" /dev/"))).toBe(false);
  });
});

describe("openapi.yaml is internally sound", () => {
  it("every $ref points at something that exists", () => {
    const refs = allRefs(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((r) => resolve(r.ref) === undefined).map((r) => `${r.ref} (at ${r.at})`)).toEqual([]);
  });

  it("every schema, response, parameter and header in components is used", () => {
    const used = new Set(allRefs(doc).map((r) => r.ref));
    const unused = ["schemas", "responses", "parameters", "headers"].flatMap((kind) =>
      Object.keys(doc.components[kind] ?? {}).map((name) => `#/components/${kind}/${name}`)).filter((ref) => !used.has(ref));
    expect(unused).toEqual([]);
  });

  it("operation ids are unique", () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("every path parameter is declared, required, with the id pattern", () => {
    for (const { method, path, op, pathItem } of operations()) {
      const params = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map(deref);
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const p = params.find((x) => x.in === "path" && x.name === name);
        expect(p, `${method} ${path}: {${name}}`).toBeDefined();
        expect(p.required).toBe(true);
        expect(deref(p.schema).pattern).toBe("^[a-zA-Z0-9-]{1,64}$");
      }
      expect(params.filter((x) => x.in === "path").every((x) => path.includes(`{${x.name}}`)), `${method} ${path}`).toBe(true);
    }
  });

  it("bearerAuth is the default security; only GET /health opts out, and every other operation documents 401 with WWW-Authenticate", () => {
    const scheme = doc.components.securitySchemes.bearerAuth;
    expect(scheme).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    for (const { method, path, op } of operations()) {
      if (`${method} ${path}` === "GET /health") {
        expect(op.security).toEqual([]);
        continue;
      }
      expect(op.security, `${method} ${path}`).toBeUndefined();
      const unauthorized = deref(op.responses["401"]);
      expect(unauthorized, `${method} ${path} 401`).toBeDefined();
      expect(Object.keys(unauthorized.headers)).toContain("WWW-Authenticate");
    }
  });

  it("the problem codes are exactly the ones the code can produce", () => {
    const classes = (Object.values(errors) as unknown[]).filter((v) =>
      typeof v === "function" && v.prototype instanceof errors.ProblemError) as Array<new (...a: unknown[]) => errors.ProblemError>;
    expect(classes.length).toBeGreaterThan(10);
    const codes = new Set(classes.map((C) => new C([], 1).code));
    codes.add("internal");
    expect([...doc.components.schemas.ProblemCode.enum].sort()).toEqual([...codes].sort());
  });

  it("every response declares x-request-id; errors are problem documents; 429 and 503 send Retry-After", () => {
    for (const { method, path, op } of operations()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith("2")), `${method} ${path}`).toBe(true);
      for (const [status, raw] of Object.entries(op.responses as Record<string, Json>)) {
        const where = `${method} ${path} ${status}`;
        const response = deref(raw);
        expect(response?.description, where).toBeTruthy();
        expect(Object.keys(response.headers ?? {}), where).toContain("x-request-id");
        if (Number(status) >= 400) {
          const media = response.content?.["application/problem+json"];
          expect(media, where).toBeDefined();
          const schema = media.schema.$ref ? media.schema : media.schema.anyOf?.[0];
          expect(schema.$ref, where).toBe("#/components/schemas/Problem");
        }
        if (status === "429" || status === "503") expect(Object.keys(response.headers), where).toContain("Retry-After");
        if (status === "204") expect(response.content, where).toBeUndefined();
      }
      if (path !== "/health") for (const s of ["429", "500", "503"]) expect(statuses, `${method} ${path}`).toContain(s);
    }
  });

  it("operations with a body reject unknown fields and document 400, 413 and 415", () => {
    for (const { method, path, op } of operations()) {
      if (!op.requestBody) continue;
      const schema = deref(op.requestBody.content["application/json"].schema);
      expect(schema.additionalProperties, `${method} ${path}`).toBe(false);
      for (const s of ["400", "413", "415"]) expect(Object.keys(op.responses), `${method} ${path}`).toContain(s);
    }
    for (const key of ["POST /rooms", "PATCH /rooms/{roomId}", "PUT /rooms/{roomId}/members/{userId}", "PUT /rooms/{roomId}/tags", "POST /rooms/{roomId}/kick", "POST /rooms/{roomId}/token"]) {
      const [method, path] = key.split(" ") as [string, string];
      expect(doc.paths[path][method.toLowerCase()].requestBody, key).toBeDefined();
    }
  });

  it("POST /rooms documents Idempotency-Key, Location, 409 and 422", () => {
    const op = doc.paths["/rooms"].post;
    const key = op.parameters.map(deref).find((p: Json) => p.in === "header");
    expect(key).toMatchObject({ name: "Idempotency-Key", required: false, schema: { minLength: 1, maxLength: 128 } });
    expect(Object.keys(deref(op.responses["201"]).headers)).toContain("Location");
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["201", "403", "409", "422"]));
  });

  it("responses that carry a participant token send Cache-Control: no-store", () => {
    const exchange = doc.paths["/rooms/{roomId}/participants/{participantId}/token"].post;
    for (const op of [doc.paths["/rooms/{roomId}/token"].post, doc.paths["/rooms/{roomId}/token"].get, exchange]) {
      expect(deref(deref(op.responses["200"]).headers["Cache-Control"]).schema.const).toBe("no-store");
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real responses against the declared schemas: a small checker for the JSON Schema keywords openapi.yaml uses.

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
    // TOKEN_MODE=api here: 409 exchange_unsupported (the 200 is tests/e2e/token-exchange.test.ts's, self-signed).
    await call("POST", "/rooms/{roomId}/participants/{participantId}/token", `/rooms/${id}/participants/${token.body.participantId}/token`, { as: viewer, body: {} });
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
