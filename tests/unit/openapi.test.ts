// openapi.yaml stays true to the code: the same (method, path) set as template.yaml's routes, in both directions;
// every $ref resolves; the conventions (bearer auth, problem documents, x-request-id, Retry-After, body limits) are
// declared where they apply; and the checker of real responses (tests/e2e/openapi-responses.test.ts) works.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadTemplate, projectRoot, routesOf } from "../../local/template.ts";
import * as errors from "../../shared/errors.ts";
import { check } from "../support/openapi.ts";

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
const deref = (node: Json): Json =>
  node && typeof node === "object" && typeof node.$ref === "string" ? deref(resolve(node.$ref)) : node;

function operations(): Array<{ method: string; path: string; op: Json; pathItem: Json }> {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, pathItem]) =>
    METHODS.filter((m) => pathItem[m]).map((m) => ({ method: m.toUpperCase(), path, op: pathItem[m], pathItem })),
  );
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
    expect(
      [...routed].filter((r) => !documented.has(r)),
      "routes missing from openapi.yaml",
    ).toEqual([]);
  });

  it("documents no route the template does not have (and none of the offline stack's /dev/ routes)", () => {
    expect(
      [...documented].filter((r) => !routed.has(r)),
      "operations without a route in template.yaml",
    ).toEqual([]);
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
    const unused = ["schemas", "responses", "parameters", "headers"]
      .flatMap((kind) => Object.keys(doc.components[kind] ?? {}).map((name) => `#/components/${kind}/${name}`))
      .filter((ref) => !used.has(ref));
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
      expect(
        params.filter((x) => x.in === "path").every((x) => path.includes(`{${x.name}}`)),
        `${method} ${path}`,
      ).toBe(true);
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
    const classes = (Object.values(errors) as unknown[]).filter(
      (v) => typeof v === "function" && v.prototype instanceof errors.ProblemError,
    ) as Array<new (...a: unknown[]) => errors.ProblemError>;
    expect(classes.length).toBeGreaterThan(10);
    const codes = new Set(classes.map((C) => new C([], 1).code));
    codes.add("internal");
    expect([...doc.components.schemas.ProblemCode.enum].sort()).toEqual([...codes].sort());
  });

  it("every response declares x-request-id; errors are problem documents; 429 and 503 send Retry-After", () => {
    for (const { method, path, op } of operations()) {
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith("2")),
        `${method} ${path}`,
      ).toBe(true);
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
    for (const key of [
      "POST /rooms",
      "PATCH /rooms/{roomId}",
      "PUT /rooms/{roomId}/members/{userId}",
      "PUT /rooms/{roomId}/tags",
      "POST /rooms/{roomId}/kick",
      "POST /rooms/{roomId}/token",
    ]) {
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

describe("real responses against the declared schemas", () => {
  it("(the checker itself finds missing, undeclared and mistyped members)", () => {
    const room = {
      roomId: "abcdABCD1234",
      stageArn: "arn",
      name: "n",
      ownerId: "o",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      yourRole: "host",
    };
    const errorsOf = (schema: Json, value: Json) => {
      const out: string[] = [];
      check(schema, value, "", out);
      return out;
    };
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, room)).toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, { ...room, yourRole: undefined })).not.toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/Room" }, { ...room, live: "yes" })).not.toEqual([]);
    expect(errorsOf({ $ref: "#/components/schemas/PutMemberRequest" }, { role: "viewer", extra: 1 })).not.toEqual([]);
    expect(
      errorsOf(
        { $ref: "#/components/schemas/Problem" },
        { type: "t", title: "t", status: 400, detail: "d", code: "oops" },
      ),
    ).not.toEqual([]);
  });
});
