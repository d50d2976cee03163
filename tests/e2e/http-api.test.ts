/**
 * The running offline stack against template.yaml: it serves exactly the template's routes, each reaching its
 * function; anything else is API Gateway's 404; odd but valid HTTP reaches the functions as data; CORS from the
 * template's CorsConfiguration, dev routes included. The HTTP API itself (local/http-api.ts), with fake and real
 * sandboxes: tests/integration/http-api.test.ts.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { functionsOf, httpApiCorsOf, loadTemplate, routesOf } from "../../local/template.ts";
import { useStack } from "../support/stack.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const stack = useStack();
const template = loadTemplate();
const templateRoutes = routesOf(template);
const VALID_ID = "abcdEFGH1234";
const fill = (path: string) => path.replace(/\{(\w+)\+?\}/g, VALID_ID);

describe("the offline stack serves exactly the template's routes", () => {
  it("the functions it built bound exactly the template's routes, each to its function", () => {
    const s = stack();
    const bound = s.stack.built
      .flatMap((fn) => fn.definition.routes.map((r) => `${fn.definition.logicalId} ${r.routeKey}`))
      .sort();
    expect(bound).toEqual(templateRoutes.map((r) => `${r.functionLogicalId} ${r.routeKey}`).sort());
    expect([...s.stack.functions.keys()].sort()).toEqual(
      functionsOf(template)
        .map((f) => f.logicalId)
        .sort(),
    );
  });

  it("every template route reaches its function (a problem document or 200 with x-request-id, not API Gateway's 404)", async () => {
    const s = stack();
    for (const route of templateRoutes) {
      const r = await s.api(route.method, fill(route.path));
      const label = `${route.routeKey} → ${r.status} ${r.text}`;
      expect(r.body, label).not.toEqual({ message: "Not Found" });
      expect(r.headers.get("x-request-id"), label).toBeTruthy();
      if (route.routeKey === "GET /health") {
        expect(r.status, label).toBe(200);
      } else {
        // The pipeline looks the routeKey up before it authenticates: a 401 means the function has the route.
        expect(r.status, label).toBe(401);
        expect(r.headers.get("content-type"), label).toBe("application/problem+json");
        expect(r.body.code, label).toBe("unauthorized");
      }
    }
  });

  it('an unknown path, or a known path with another method, is API Gateway\'s 404 {"message":"Not Found"}', async () => {
    const s = stack();
    const alice = await s.login("http-api-alice");
    const unknown: Array<[string, string]> = [
      ["GET", "/nope"],
      ["GET", "/"],
      ["PUT", "/health"],
      ["POST", "/health"],
      ["DELETE", "/rooms"],
      ["PATCH", "/rooms"],
      ["POST", "/admin/stages"],
      ["GET", `/rooms/${VALID_ID}/unknown`],
      ["GET", `/rooms/${VALID_ID}/members/u1/extra`],
      ["PATCH", `/rooms/${VALID_ID}/token`],
      ["GET", `/rooms/${VALID_ID}/kick`],
      ["GET", "/rooms/"],
    ];
    for (const [method, path] of unknown) {
      expect(
        templateRoutes.some(
          (r) => r.method === method && new RegExp(`^${r.path.replace(/\{\w+\}/g, "[^/]+")}$`).test(path),
        ),
      ).toBe(false);
      const r = await s.api(method, path, { as: alice });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body, `${method} ${path}`).toEqual({ message: "Not Found" });
      expect(r.headers.get("x-request-id")).toBeNull();
      expect(r.headers.get("apigw-requestid")).toMatch(UUID);
    }
  });
});

describe("odd but valid HTTP reaches the functions as data, never a 500", () => {
  it("query parameters and headers named like Object properties", async () => {
    const s = stack();
    const alice = await s.login("odd-alice");
    for (const query of ["constructor=1", "__proto__=1", "toString=1", "hasOwnProperty=x&limit=5"]) {
      const r = await s.api("GET", `/rooms?${query}`, { as: alice, headers: { constructor: "x", __proto__: "y" } });
      expect(r.status, `${query}: ${r.text}`).toBeLessThan(500);
      expect(r.headers.get("x-request-id"), query).toBeTruthy();
    }
  });
});

describe("CORS on the offline stack, from the template's CorsConfiguration", () => {
  const cors = httpApiCorsOf(template)!;
  const ORIGIN = "http://localhost:5173";

  it("a preflight from the dev origin is 204 with the template's methods, headers and max age", async () => {
    const s = stack();
    for (const path of ["/rooms", `/rooms/${VALID_ID}/token`, "/not-a-route"]) {
      const r = await fetch(`${s.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: ORIGIN,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
      expect(r.status, path).toBe(204);
      expect(r.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(r.headers.get("access-control-allow-methods")!.split(",").sort()).toEqual([...cors.allowMethods].sort());
      expect(r.headers.get("access-control-allow-headers")!.split(",").sort()).toEqual([...cors.allowHeaders].sort());
      expect(r.headers.get("access-control-max-age")).toBe(String(cors.maxAge));
      expect(await r.text()).toBe("");
    }
  });

  it("a preflight from an origin that is not allowed gets no CORS headers", async () => {
    const s = stack();
    for (const origin of ["https://evil.example", "http://localhost:5174", "null"]) {
      const r = await fetch(`${s.url}/rooms`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
      expect(r.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(r.headers.get("access-control-allow-methods"), origin).toBeNull();
    }
  });

  it("responses to an allowed origin carry allow-origin and expose-headers: success, function errors and API Gateway's 404", async () => {
    const s = stack();
    const alice = await s.login("cors-alice");
    for (const [method, path, as] of [
      ["GET", "/health", undefined],
      ["GET", "/rooms", alice],
      ["GET", "/rooms", undefined],
      ["GET", "/nope", undefined],
    ] as const) {
      const r = await s.api(method, path, { ...(as ? { as } : {}), headers: { origin: ORIGIN } });
      expect(r.headers.get("access-control-allow-origin"), `${method} ${path} ${r.status}`).toBe(ORIGIN);
      expect(r.headers.get("access-control-expose-headers")!.split(",").sort()).toEqual([...cors.exposeHeaders].sort());
    }
    const denied = await s.api("GET", "/health", { headers: { origin: "https://evil.example" } });
    expect(denied.status).toBe(200);
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    expect(denied.headers.get("access-control-expose-headers")).toBeNull();
  });

  it("the dev routes answer the allowed origin too (a browser signs in through /dev/login)", async () => {
    const s = stack();
    const pre = await fetch(`${s.url}/dev/login`, {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const login = await s.api("POST", "/dev/login", {
      body: { username: `cors-${randomUUID().slice(0, 8)}` },
      headers: { origin: ORIGIN },
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});
