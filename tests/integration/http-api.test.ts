/**
 * The offline stack's HTTP API (local/http-api.ts) against API Gateway's HTTP API behaviour: payload 2.0 events and
 * result mapping, route matching and API Gateway's 404, CORS from the template's CorsConfiguration, the access log,
 * and function errors and timeouts in real sandboxes. The running stack serving exactly the template's routes:
 * tests/e2e/http-api.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import type { BuiltFunction } from "../../local/build.ts";
import { createHttpApi, type AccessLogEntry, type HttpApiOptions, type RouteBinding } from "../../local/http-api.ts";
import { FunctionError, FunctionTimeoutError, startFunction, type FunctionRuntime } from "../../local/runtime.ts";
import { httpApiCorsOf, loadTemplate, type FunctionDefinition } from "../../local/template.ts";

// -----------------------------------------------------------------------------------------------------------------
// Helpers: a createHttpApi behind a real node:http server, raw requests, fake runtimes.

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: any;
}

/** A request with exact header lines (repeated names stay separate lines), as API Gateway would receive it. */
function rawRequest(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Array<[string, string]>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  // Headers given as a list are sent as they are: node adds neither Host nor Content-Length.
  const lines = [...(opts.headers ?? [])];
  if (!lines.some(([name]) => name.toLowerCase() === "host")) lines.unshift(["host", url.host]);
  if (opts.body !== undefined) lines.push(["content-length", String(Buffer.byteLength(opts.body))]);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: lines.flat() }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const text = body.toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
      });
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

async function serve(options: HttpApiOptions): Promise<{ url: string; close(): Promise<void> }> {
  const handle = createHttpApi(options);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A FunctionRuntime that records each event and answers with `answer(event)`. */
function fakeRuntime(answer: (event: APIGatewayProxyEventV2) => unknown = () => ({ statusCode: 200, body: "{}" })) {
  const events: APIGatewayProxyEventV2[] = [];
  const runtime: FunctionRuntime = {
    name: "Fake",
    async invoke(event) {
      events.push(event as APIGatewayProxyEventV2);
      return answer(event as APIGatewayProxyEventV2);
    },
    async close() {},
  };
  return { runtime, events, last: () => events[events.length - 1]! };
}

const bind = (runtime: FunctionRuntime, ...routeKeys: string[]): RouteBinding[] =>
  routeKeys.map((routeKey) => {
    const [method, path] = routeKey.split(" ") as [string, string];
    return { method, path, routeKey, eventName: routeKey, runtime };
  });

const TEMPLATE_CORS = (() => {
  const cors = httpApiCorsOf(loadTemplate())!;
  return { ...cors, allowOrigins: ["http://localhost:5173"] };
})();

const API_GATEWAY_TIME = /^\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// -----------------------------------------------------------------------------------------------------------------
// Unit: createHttpApi with fake runtimes.

describe("payload 2.0 events (createHttpApi + toEvent)", () => {
  const fake = fakeRuntime();
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    api = await serve({
      routes: bind(
        fake.runtime,
        "POST /rooms/{roomId}/token",
        "GET /rooms/{roomId}",
        "GET /health",
        "PUT /blobs/{name}",
      ),
      cors: TEMPLATE_CORS,
      accountId: "123456789012",
    });
  });
  afterAll(() => api.close());

  it("carries version, routeKey, raw path and query, lowercased and comma-joined headers, cookies and requestContext", async () => {
    const before = Date.now();
    const r = await rawRequest(api.url, "POST", "/rooms/abcdEFGH1234/token?b=2&a=1&a=3&empty=&sp=x%20y", {
      headers: [
        ["Host", "api.example.com"],
        ["X-Custom-Header", "Value"],
        ["X-Multi", "one"],
        ["x-multi", "two"],
        ["Cookie", "a=1; b=2"],
        ["Cookie", "c=3"],
        ["User-Agent", "stagepass-test/1.0"],
        ["Content-Type", "application/json"],
      ],
      body: JSON.stringify({ ttlMinutes: 5 }),
    });
    const after = Date.now();
    expect(r.status).toBe(200);
    const e = fake.last();
    expect(e.version).toBe("2.0");
    expect(e.routeKey).toBe("POST /rooms/{roomId}/token");
    expect(e.rawPath).toBe("/rooms/abcdEFGH1234/token");
    expect(e.rawQueryString).toBe("b=2&a=1&a=3&empty=&sp=x%20y");
    expect(e.queryStringParameters).toEqual({ b: "2", a: "1,3", empty: "", sp: "x y" });
    expect(e.pathParameters).toEqual({ roomId: "abcdEFGH1234" });
    expect(e.headers).toMatchObject({
      host: "api.example.com",
      "x-custom-header": "Value",
      "x-multi": "one,two",
      "user-agent": "stagepass-test/1.0",
      "content-type": "application/json",
    });
    for (const name of Object.keys(e.headers)) expect(name).toBe(name.toLowerCase());
    expect(e.headers.cookie).toBeUndefined();
    expect(e.cookies).toEqual(["a=1", "b=2", "c=3"]);
    expect(e.body).toBe('{"ttlMinutes":5}');
    expect(e.isBase64Encoded).toBe(false);
    const c = e.requestContext;
    expect(c.http).toEqual({
      method: "POST",
      path: "/rooms/abcdEFGH1234/token",
      protocol: "HTTP/1.1",
      sourceIp: "127.0.0.1",
      userAgent: "stagepass-test/1.0",
    });
    expect(c.routeKey).toBe("POST /rooms/{roomId}/token");
    expect(c.stage).toBe("$default");
    expect(c.accountId).toBe("123456789012");
    expect(c.domainName).toBe("api.example.com");
    expect(c.domainPrefix).toBe("api");
    expect(c.requestId).toMatch(UUID);
    expect(r.headers["apigw-requestid"]).toBe(c.requestId);
    expect(c.time).toMatch(API_GATEWAY_TIME);
    expect(c.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(c.timeEpoch).toBeLessThanOrEqual(after);
  });

  it("each request gets its own requestId", async () => {
    await rawRequest(api.url, "GET", "/health");
    await rawRequest(api.url, "GET", "/health");
    const [a, b] = fake.events.slice(-2);
    expect(a!.requestContext.requestId).not.toBe(b!.requestContext.requestId);
  });

  it("a header or query parameter named like an Object property is plain data; rawQueryString is as sent", async () => {
    await rawRequest(api.url, "GET", "/health?constructor=a&toString=b&__proto__=c&q=<x>&toString=d", {
      headers: [
        ["Constructor", "h1"],
        ["__proto__", "h2"],
        ["hasOwnProperty", "h3"],
      ],
    });
    const e = fake.last();
    const q = e.queryStringParameters!;
    expect(Object.keys(q).sort()).toEqual(["__proto__", "constructor", "q", "toString"]);
    expect([q.constructor, q.toString, q["__proto__"], q.q]).toEqual(["a", "b,d", "c", "<x>"]);
    expect([e.headers.constructor, e.headers["__proto__"], e.headers.hasownproperty]).toEqual(["h1", "h2", "h3"]);
    expect(e.rawQueryString).toBe("constructor=a&toString=b&__proto__=c&q=<x>&toString=d");
  });

  it("omits queryStringParameters, pathParameters, cookies and body when there are none", async () => {
    await rawRequest(api.url, "GET", "/health");
    const e = fake.last();
    expect(e.rawQueryString).toBe("");
    expect(e).not.toHaveProperty("queryStringParameters");
    expect(e).not.toHaveProperty("pathParameters");
    expect(e).not.toHaveProperty("cookies");
    expect(e).not.toHaveProperty("body");
    expect(e.isBase64Encoded).toBe(false);
  });

  it("URL-decodes path parameters (rawPath stays as sent)", async () => {
    await rawRequest(api.url, "GET", "/rooms/caf%C3%A9%20room%2F1");
    const e = fake.last();
    expect(e.routeKey).toBe("GET /rooms/{roomId}");
    expect(e.pathParameters).toEqual({ roomId: "café room/1" });
    expect(e.rawPath).toBe("/rooms/caf%C3%A9%20room%2F1");
    // An undecodable escape is passed through rather than failing the request.
    await rawRequest(api.url, "GET", "/rooms/bad%E0");
    expect(fake.last().pathParameters).toEqual({ roomId: "bad%E0" });
  });

  it("text and JSON bodies are passed as text; binary content types as base64", async () => {
    const cases: Array<[string, boolean]> = [
      ["application/json", false],
      ["application/json; charset=utf-8", false],
      ["application/problem+json", false],
      ["text/plain", false],
      ["application/x-www-form-urlencoded", false],
      ["application/xml", false],
      ["application/octet-stream", true],
      ["image/png", true],
      ["application/pdf", true],
    ];
    for (const [type, binary] of cases) {
      const payload = type.includes("json") ? '{"a":"é"}' : "héllo wörld";
      await rawRequest(api.url, "PUT", "/blobs/x", { headers: [["content-type", type]], body: payload });
      const e = fake.last();
      expect(e.isBase64Encoded, type).toBe(binary);
      expect(e.body, type).toBe(binary ? Buffer.from(payload).toString("base64") : payload);
    }
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    await rawRequest(api.url, "PUT", "/blobs/raw", {
      headers: [["content-type", "application/octet-stream"]],
      body: bytes,
    });
    expect(Buffer.from(fake.last().body!, "base64")).toEqual(bytes);
  });
});

describe("route matching", () => {
  const fake = fakeRuntime();
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    api = await serve({
      routes: bind(
        fake.runtime,
        "GET /files/{proxy+}",
        "GET /files/{name}",
        "GET /files/special",
        "GET /{first}/list",
        "GET /things/list",
        "ANY /any/{id}",
        "GET /any/{id}",
        "GET /rooms/{roomId}/members/{userId}",
      ),
      cors: TEMPLATE_CORS,
      accountId: "123456789012",
    });
  });
  afterAll(() => api.close());

  const routeFor = async (method: string, path: string) => {
    const r = await rawRequest(api.url, method, path);
    return r.status === 200 ? fake.last() : r.status;
  };

  it("literal segments beat parameters, parameters beat greedy {proxy+}", async () => {
    expect(await routeFor("GET", "/files/special")).toMatchObject({ routeKey: "GET /files/special" });
    expect(await routeFor("GET", "/files/other")).toMatchObject({
      routeKey: "GET /files/{name}",
      pathParameters: { name: "other" },
    });
    expect(await routeFor("GET", "/files/a/b/c.txt")).toMatchObject({
      routeKey: "GET /files/{proxy+}",
      pathParameters: { proxy: "a/b/c.txt" },
    });
    expect(await routeFor("GET", "/things/list")).toMatchObject({ routeKey: "GET /things/list" });
    expect(await routeFor("GET", "/other/list")).toMatchObject({
      routeKey: "GET /{first}/list",
      pathParameters: { first: "other" },
    });
    expect(await routeFor("GET", "/rooms/r1/members/u%7C1")).toMatchObject({
      pathParameters: { roomId: "r1", userId: "u|1" },
    });
  });

  it("a route for the method beats ANY on the same path; ANY takes the other methods", async () => {
    expect(await routeFor("GET", "/any/1")).toMatchObject({ routeKey: "GET /any/{id}" });
    expect(await routeFor("DELETE", "/any/1")).toMatchObject({
      routeKey: "ANY /any/{id}",
      requestContext: { http: { method: "DELETE" } },
    });
  });

  it('anything else is API Gateway\'s 404 {"message":"Not Found"}, without invoking a function', async () => {
    const invoked = fake.events.length;
    for (const [method, path] of [
      ["GET", "/nope"],
      ["POST", "/files/special"],
      ["GET", "/files"],
      ["GET", "/files/"],
      ["GET", "/"],
      ["PUT", "/things/list"],
    ] as const) {
      const r = await rawRequest(api.url, method, path);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json).toEqual({ message: "Not Found" });
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["apigw-requestid"]).toMatch(UUID);
    }
    expect(fake.events.length).toBe(invoked);
  });
});

describe("function results and failures", () => {
  let answer: (e: APIGatewayProxyEventV2) => unknown = () => ({ statusCode: 200 });
  const fake = fakeRuntime((e) => answer(e));
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    api = await serve({ routes: bind(fake.runtime, "GET /r"), cors: TEMPLATE_CORS, accountId: "123456789012" });
  });
  afterAll(() => api.close());

  const get = (result: (e: APIGatewayProxyEventV2) => unknown) => {
    answer = result;
    return rawRequest(api.url, "GET", "/r");
  };
  // The HTTP API logs function failures, as sam local does; keep them out of the test output but check them.
  let logged: MockInstance<typeof console.error>;
  beforeAll(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterAll(() => logged.mockRestore());

  it("maps statusCode, headers, body and cookies (each cookie its own set-cookie)", async () => {
    const r = await get(() => ({
      statusCode: 201,
      headers: { "content-type": "application/problem+json", "x-request-id": "req-1", "x-number": 5 },
      body: '{"ok":true}',
      cookies: ["a=1; Path=/", "b=2; HttpOnly"],
    }));
    expect(r.status).toBe(201);
    expect(r.headers["content-type"]).toBe("application/problem+json");
    expect(r.headers["x-request-id"]).toBe("req-1");
    expect(r.headers["x-number"]).toBe("5");
    expect(r.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; HttpOnly"]);
    expect(r.text).toBe('{"ok":true}');
  });

  it("decodes an isBase64Encoded body", async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    const r = await get(() => ({
      statusCode: 200,
      headers: { "content-type": "image/png" },
      body: bytes.toString("base64"),
      isBase64Encoded: true,
    }));
    expect(r.body).toEqual(bytes);
  });

  it("a structured result without a body has an empty body", async () => {
    const r = await get(() => ({ statusCode: 204 }));
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
  });

  it("a result without statusCode becomes 200 application/json (a string is the body itself)", async () => {
    let r = await get(() => ({ hello: "world" }));
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.json).toEqual({ hello: "world" });
    r = await get(() => "Hello from Lambda!");
    expect(r.status).toBe(200);
    expect(r.text).toBe("Hello from Lambda!");
    r = await get(() => 42);
    expect(r.text).toBe("42");
    r = await get(() => null);
    expect(r.text).toBe("null");
  });

  it('a function that throws is answered 500 {"message":"Internal Server Error"}', async () => {
    logged.mockClear();
    const r = await get(() => {
      throw new FunctionError("Error: boom");
    });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ message: "Internal Server Error" });
    expect(String(logged.mock.calls[0]?.[0])).toContain("boom");
  });

  it('a function that times out is answered 503 {"message":"Service Unavailable"}', async () => {
    const r = await get(() => Promise.reject(new FunctionTimeoutError("Fake timed out after 10000 ms")));
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ message: "Service Unavailable" });
  });

  it("a malformed structured result is answered 500, never a hung connection", async () => {
    for (const bad of [
      { statusCode: 200, body: { not: "a string" } },
      { statusCode: "200" },
      { statusCode: 1000 },
      { statusCode: 200, headers: { "x-bad": { nested: true } } },
      { statusCode: 200, cookies: "a=1" },
    ]) {
      const r = await get(() => bad);
      expect(r.status, JSON.stringify(bad)).toBe(500);
      expect(r.json).toEqual({ message: "Internal Server Error" });
    }
  });

  it("a payload over API Gateway's 10 MB is 413 without invoking the function", async () => {
    const invoked = fake.events.length;
    const r = await rawRequest(api.url, "GET", "/r", {
      headers: [["content-type", "text/plain"]],
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 97),
    });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ message: "Request Entity Too Large" });
    expect(fake.events.length).toBe(invoked);
  });
});

describe("the access log (createHttpApi's accessLog, npm start's stand-in for API Gateway's)", () => {
  it("one entry per request, after its answer: requestId, routeKey, status and latencies; API Gateway's own 404 with routeKey -", async () => {
    const entries: AccessLogEntry[] = [];
    let answer: () => unknown = () => ({ statusCode: 201 });
    const fake = fakeRuntime(() => answer());
    const api = await serve({
      routes: bind(fake.runtime, "GET /r/{id}"),
      cors: TEMPLATE_CORS,
      accountId: "123456789012",
      accessLog: (e) => entries.push(e),
    });
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const ok = await rawRequest(api.url, "GET", "/r/a");
      answer = () => {
        throw new FunctionError("Error: boom");
      };
      await rawRequest(api.url, "GET", "/r/b");
      answer = () => Promise.reject(new FunctionTimeoutError("Fake timed out after 10000 ms"));
      await rawRequest(api.url, "GET", "/r/c");
      const nowhere = await rawRequest(api.url, "GET", "/nowhere");
      expect(nowhere.status).toBe(404);
      expect(entries).toEqual([
        {
          requestId: ok.headers["apigw-requestid"],
          routeKey: "GET /r/{id}",
          status: 201,
          responseLatencyMs: expect.any(Number),
          integrationLatencyMs: expect.any(Number),
        },
        {
          requestId: expect.stringMatching(UUID),
          routeKey: "GET /r/{id}",
          status: 500,
          responseLatencyMs: expect.any(Number),
          integrationLatencyMs: null,
        },
        {
          requestId: expect.stringMatching(UUID),
          routeKey: "GET /r/{id}",
          status: 503,
          responseLatencyMs: expect.any(Number),
          integrationLatencyMs: null,
        },
        {
          requestId: nowhere.headers["apigw-requestid"],
          routeKey: "-",
          status: 404,
          responseLatencyMs: expect.any(Number),
          integrationLatencyMs: null,
        },
      ]);
      expect(entries[0]!.responseLatencyMs).toBeGreaterThanOrEqual(entries[0]!.integrationLatencyMs!);
    } finally {
      quiet.mockRestore();
      await api.close();
    }
  });
});

describe("CORS (createHttpApi)", () => {
  it("a '*' origin answers any origin with '*'; no CorsConfiguration means no preflight answer", async () => {
    const fake = fakeRuntime();
    const open = await serve({
      routes: bind(fake.runtime, "GET /r"),
      cors: { ...TEMPLATE_CORS, allowOrigins: ["*"] },
      accountId: "1",
    });
    const none = await serve({ routes: bind(fake.runtime, "GET /r"), cors: undefined, accountId: "1" });
    try {
      const pre = await rawRequest(open.url, "OPTIONS", "/r", {
        headers: [
          ["origin", "https://any.example"],
          ["access-control-request-method", "GET"],
        ],
      });
      expect(pre.status).toBe(204);
      expect(pre.headers["access-control-allow-origin"]).toBe("*");
      const simple = await rawRequest(open.url, "GET", "/r", { headers: [["origin", "https://any.example"]] });
      expect(simple.headers["access-control-allow-origin"]).toBe("*");
      const noCors = await rawRequest(none.url, "OPTIONS", "/r", {
        headers: [
          ["origin", "https://any.example"],
          ["access-control-request-method", "GET"],
        ],
      });
      expect(noCors.status).toBe(404);
      expect(noCors.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await open.close();
      await none.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------
// Real function sandboxes (worker threads running a bundle) behind the HTTP API: errors, timeouts, context.

describe("real function sandboxes behind the HTTP API", () => {
  const dir = mkdtempSync(join(tmpdir(), "stagepass-http-api-"));
  let runtime: FunctionRuntime;
  let api: Awaited<ReturnType<typeof serve>>;
  let logged: MockInstance<typeof console.error>;
  beforeAll(async () => {
    logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const bundlePath = join(dir, "probe.mjs");
    writeFileSync(
      bundlePath,
      `
let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  const q = event.queryStringParameters ?? {};
  if (q.mode === "sleep") await new Promise((r) => setTimeout(r, 3000));
  if (q.mode === "throw") throw new Error("boom from the handler");
  if (q.mode === "crash") { setTimeout(() => { throw new Error("uncaught"); }, 1); await new Promise((r) => setTimeout(r, 500)); }
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({
    calls, functionName: context.functionName, awsRequestId: context.awsRequestId, memoryLimitInMB: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(), requestId: event.requestContext.requestId,
  }) };
};
`,
    );
    const definition: FunctionDefinition = {
      logicalId: "ProbeFunction",
      handler: "probe.handler",
      entryPoint: "probe.mjs",
      buildProperties: {},
      timeoutSeconds: 1,
      memorySize: 256,
      environment: {},
      routes: [{ method: "GET", path: "/probe", routeKey: "GET /probe", eventName: "Probe" }],
      queues: [],
    };
    const built: BuiltFunction = {
      definition,
      bundlePath,
      exportName: "handler",
      bytes: 0,
      metafile: { inputs: {}, outputs: {} },
    };
    runtime = await startFunction(built, { AWS_REGION: "us-east-1" });
    api = await serve({
      routes: definition.routes.map((r) => ({ ...r, runtime })),
      cors: TEMPLATE_CORS,
      accountId: "123456789012",
    });
  });
  afterAll(async () => {
    await api?.close();
    await runtime?.close();
    logged.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  it("invokes the handler with a Lambda-like context", async () => {
    const r = await rawRequest(api.url, "GET", "/probe");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ functionName: "ProbeFunction", memoryLimitInMB: "256" });
    expect(r.json.awsRequestId).toMatch(UUID);
    expect(r.json.requestId).toBe(r.headers["apigw-requestid"]);
    expect(r.json.remaining).toBeGreaterThan(0);
    expect(r.json.remaining).toBeLessThanOrEqual(1000);
  });

  it('a handler that throws: 500 {"message":"Internal Server Error"}, and the sandbox lives on', async () => {
    const before = (await rawRequest(api.url, "GET", "/probe")).json.calls as number;
    const r = await rawRequest(api.url, "GET", "/probe?mode=throw");
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ message: "Internal Server Error" });
    expect((await rawRequest(api.url, "GET", "/probe")).json.calls).toBe(before + 2);
  });

  it('a handler that overruns its timeout: 503 {"message":"Service Unavailable"}, then a fresh sandbox', async () => {
    const r = await rawRequest(api.url, "GET", "/probe?mode=sleep");
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ message: "Service Unavailable" });
    const next = await rawRequest(api.url, "GET", "/probe");
    expect(next.status).toBe(200);
    expect(next.json.calls).toBe(1);
  });

  it("a sandbox that crashes (an uncaught error) fails its call with 500 and is replaced for the next one", async () => {
    const r = await rawRequest(api.url, "GET", "/probe?mode=crash");
    expect(r.status).toBe(500);
    const next = await rawRequest(api.url, "GET", "/probe");
    expect(next.status).toBe(200);
    expect(next.json.calls).toBe(1);
  });
});
