// The HTTP pipeline's middlewares (shared/http/middlewares/), each run through middy() with a fake Lambda context,
// then the pipeline every function shares (shared/http/handler.ts): what a caller gets back, and in what order the
// steps decide. The request log's lines are checked in tests/request-log.test.ts.
import middy from "@middy/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Authenticator } from "../../shared/auth/authenticator.ts";
import type { Caller } from "../../shared/auth/caller.ts";
import { BannedError, ForbiddenError, RateLimitedError, UnauthorizedError } from "../../shared/errors.ts";
import { createHttpHandler } from "../../shared/http/handler.ts";
import { authentication } from "../../shared/http/middlewares/authentication.ts";
import { problemDocuments } from "../../shared/http/middlewares/problem-documents.ts";
import { requestLog } from "../../shared/http/middlewares/request-log.ts";
import { SECURITY_HEADERS, securityHeaders } from "../../shared/http/middlewares/security-headers.ts";
import type {
  HttpContext,
  HttpEvent,
  HttpInternal,
  HttpMiddleware,
  HttpResult,
} from "../../shared/http/middlewares/types.ts";
import type { AuthenticatedRequest, HttpRequest } from "../../shared/http/types.ts";
import { logger } from "../../shared/logger.ts";
import { httpEvent } from "../support/fakes.ts";

// The request log's own lines are tests/request-log.test.ts's business: here they would only be noise.
beforeAll(() => logger.setLogLevel("SILENT"));
afterAll(() => logger.setLogLevel("INFO"));

const ALICE: Caller = { userId: "alice-sub", displayName: "Alice", groups: [], isAdmin: false };
const GOOD_JWT = "header.payload.signature";

/** A fresh Lambda context per invocation, as Lambda gives. */
const context = (): HttpContext =>
  ({ awsRequestId: "lambda-req-1", getRemainingTimeInMillis: () => 10_000 }) as unknown as HttpContext;

/** Accepts exactly `Bearer header.payload.signature`, as ALICE. */
const authenticator: Authenticator = {
  async authenticate(headers) {
    if (headers.authorization !== `Bearer ${GOOD_JWT}`) throw new UnauthorizedError("the JWT is not valid");
    return ALICE;
  },
};

/** One middleware around a handler, through middy as the functions use it. */
function wrap(middleware: HttpMiddleware, handler: (event: HttpEvent, context: HttpContext) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>({ timeoutEarlyInMillis: 0 })
    .use(middleware)
    .handler(handler);
}

const ok = async (): Promise<HttpResult> => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: "{}",
});
const bodyOf = (result: HttpResult) => JSON.parse(String(result.body)) as Record<string, unknown>;

describe("securityHeaders", () => {
  it("adds the security headers to an answer, and to a problem document made from an error", async () => {
    expect((await wrap(securityHeaders(), ok)(httpEvent("GET /x"), context())).headers).toEqual({
      ...SECURITY_HEADERS,
      "content-type": "application/json",
    });
    const failing = middy<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>({ timeoutEarlyInMillis: 0 })
      .use([securityHeaders(), problemDocuments()])
      .handler(async () => {
        throw new ForbiddenError("no");
      });
    const result = await failing(httpEvent("GET /x"), context());
    expect(result.statusCode).toBe(403);
    expect(result.headers).toMatchObject(SECURITY_HEADERS);
  });

  it("leaves a header the route set itself", async () => {
    const handler = wrap(securityHeaders(), async () => ({
      statusCode: 200,
      headers: { "referrer-policy": "origin" },
    }));
    expect((await handler(httpEvent("GET /x"), context())).headers).toMatchObject({
      "referrer-policy": "origin",
      "x-content-type-options": "nosniff",
    });
  });
});

describe("problemDocuments", () => {
  it("turns a ProblemError into its RFC 9457 document, with its extensions and headers", async () => {
    const until = "2026-11-26T10:00:00.000Z";
    const banned = await wrap(problemDocuments(), async () => {
      throw new BannedError(until);
    })(httpEvent("GET /x"), context());
    expect(banned.statusCode).toBe(403);
    expect(banned.headers).toEqual({ "content-type": "application/problem+json" });
    expect(bodyOf(banned)).toEqual({
      type: "https://stagepass.dev/problems/banned",
      title: "Banned from this room",
      status: 403,
      detail: `you are banned from this room until ${until}`,
      code: "banned",
      until,
    });
    const limited = await wrap(problemDocuments(), async () => {
      throw new RateLimitedError("slow down", 2.5);
    })(httpEvent("GET /x"), context());
    expect([limited.statusCode, limited.headers?.["retry-after"], bodyOf(limited).code]).toEqual([
      429,
      "3",
      "rate_limited",
    ]);
  });

  it("answers anything else as a 500 `internal` that names the request id and nothing of the error", async () => {
    const result = await wrap(problemDocuments(), async () => {
      throw new TypeError("secret detail");
    })(httpEvent("GET /x", { requestId: "r-42" }), context());
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toMatchObject({
      code: "internal",
      detail: "an unexpected error occurred; quote request id r-42",
    });
    expect(result.body).not.toContain("secret detail");
  });

  it("takes its type URIs from its options", async () => {
    const result = await wrap(problemDocuments({ typeBase: "urn:problem:" }), async () => {
      throw new ForbiddenError("no");
    })(httpEvent("GET /x"), context());
    expect(bodyOf(result).type).toBe("urn:problem:forbidden");
  });
});

describe("authentication", () => {
  it("hands the verified caller to the handler in the context", async () => {
    let seen: Caller | undefined;
    const handler = wrap(authentication(authenticator), async (_event, ctx) => {
      seen = ctx.caller;
      return ok();
    });
    await handler(httpEvent("GET /x", { headers: { authorization: `Bearer ${GOOD_JWT}` } }), context());
    expect(seen).toEqual(ALICE);
  });

  it("finds the Authorization header whatever its case", async () => {
    let seen: Caller | undefined;
    const handler = wrap(authentication(authenticator), async (_event, ctx) => {
      seen = ctx.caller;
      return ok();
    });
    await handler(httpEvent("GET /x", { headers: { Authorization: `Bearer ${GOOD_JWT}` } }), context());
    expect(seen).toEqual(ALICE);
  });

  it("stops a request that fails verification before the handler runs", async () => {
    let ran = false;
    const handler = wrap(authentication(authenticator), async () => {
      ran = true;
      return ok();
    });
    await expect(
      handler(httpEvent("GET /x", { headers: { authorization: "Bearer forged" } }), context()),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(handler(httpEvent("GET /x"), context())).rejects.toBeInstanceOf(UnauthorizedError);
    expect(ran).toBe(false);
  });
});

describe("requestLog", () => {
  it("tags every response with API Gateway's request id, else Lambda's", async () => {
    const handler = middy<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>({ timeoutEarlyInMillis: 0 })
      .use([requestLog(), problemDocuments()])
      .handler(async (e) => {
        if (e.routeKey === "GET /fail") throw new ForbiddenError("no");
        return ok();
      });
    expect((await handler(httpEvent("GET /x", { requestId: "r-7" }), context())).headers?.["x-request-id"]).toBe("r-7");
    expect((await handler(httpEvent("GET /fail", { requestId: "r-8" }), context())).headers?.["x-request-id"]).toBe(
      "r-8",
    );
    const withoutApiGateway = { ...httpEvent("GET /x"), requestContext: undefined } as unknown as HttpEvent;
    expect((await handler(withoutApiGateway, context())).headers?.["x-request-id"]).toBe("lambda-req-1");
  });
});

describe("the pipeline every function shares", () => {
  const seen: AuthenticatedRequest[] = [];
  const handler = createHttpHandler(
    {
      "POST /rooms/{roomId}/echo": async (request) => {
        seen.push(request);
        return { status: 201, headers: { location: "/here" }, body: { got: request.body } };
      },
      "GET /boom": async () => {
        throw new Error("bug");
      },
    },
    authenticator,
  );
  const authorized = { authorization: `Bearer ${GOOD_JWT}`, "content-type": "application/json" };

  it("runs the route with the caller, the parsed body and lowercased headers; the answer carries every common header", async () => {
    const result = await handler(
      {
        ...httpEvent("POST /rooms/{roomId}/echo", { headers: { ...authorized, "X-Extra": "1" }, body: '{"a":1}' }),
        pathParameters: { roomId: "r1" },
      },
      context(),
    );
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toEqual({ got: { a: 1 } });
    expect(result.headers).toEqual({
      ...SECURITY_HEADERS,
      location: "/here",
      "content-type": "application/json",
      "x-request-id": "apigw-req-1",
    });
    expect(seen.at(-1)).toMatchObject({
      caller: ALICE,
      body: { a: 1 },
      rawBody: '{"a":1}',
      pathParameters: { roomId: "r1" },
      headers: { "x-extra": "1" },
    });
  });

  it("authenticates before it reads the body: an anonymous caller with a bad body gets 401, not 400", async () => {
    const result = await handler(
      httpEvent("POST /rooms/{roomId}/echo", { headers: { "content-type": "application/json" }, body: "{not json" }),
      context(),
    );
    expect(result.statusCode).toBe(401);
    expect(result.headers).toMatchObject({
      ...SECURITY_HEADERS,
      "www-authenticate": 'Bearer error="invalid_token"',
      "content-type": "application/problem+json",
      "x-request-id": "apigw-req-1",
    });
  });

  it("answers the body's problems once the caller is known: 400, 413, 415", async () => {
    const post = (headers: Record<string, string>, body: string) =>
      handler(httpEvent("POST /rooms/{roomId}/echo", { headers, body }), context());
    expect((await post(authorized, "{not json")).statusCode).toBe(400);
    expect((await post(authorized, JSON.stringify({ a: "x".repeat(17_000) }))).statusCode).toBe(413);
    expect((await post({ ...authorized, "content-type": "text/plain" }, "{}")).statusCode).toBe(415);
  });

  it("answers a route it does not have with 404, and a bug with 500, both as problem documents with every header", async () => {
    for (const [routeKey, status] of [
      ["GET /nowhere", 404],
      ["GET /boom", 500],
    ] as const) {
      const result = await handler(httpEvent(routeKey, { headers: authorized }), context());
      expect(result.statusCode).toBe(status);
      expect(result.headers).toMatchObject({
        ...SECURITY_HEADERS,
        "content-type": "application/problem+json",
        "x-request-id": "apigw-req-1",
      });
    }
  });

  it("without an authenticator (GET /health), runs the route for anyone", async () => {
    const health = createHttpHandler({
      "GET /health": async (request: HttpRequest) => ({
        status: 200,
        body: { status: "ok", caller: "caller" in request },
      }),
    });
    const result = await health(httpEvent("GET /health"), context());
    expect([result.statusCode, bodyOf(result)]).toEqual([200, { status: "ok", caller: false }]);
    expect(result.headers).toMatchObject({ ...SECURITY_HEADERS, "x-request-id": "apigw-req-1" });
  });
});
