// The functions' own "request" log line (shared/http/middlewares/request-log.ts, in every function's pipeline):
// API Gateway's access log (template.yaml) holds every request, so a function writes a success only at DEBUG, and a
// refusal or failure at INFO with the problem's code, never a header or a body. The offline stack's access log
// stands in for API Gateway's (tests/http-api.test.ts).
import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ForbiddenError } from "../../shared/errors.ts";
import { createHttpHandler } from "../../shared/http/handler.ts";
import { logger } from "../../shared/logger.ts";
import { httpEvent } from "../support/fakes.ts";

const JWT_LIKE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

const event = (routeKey: string) =>
  httpEvent(routeKey, {
    headers: { authorization: `Bearer ${JWT_LIKE}` },
    requestId: `req-${routeKey.slice(routeKey.indexOf("/") + 1)}`,
  });
const context = { getRemainingTimeInMillis: () => 10_000, awsRequestId: "aws-req" } as unknown as Context;

const routes = {
  "GET /ok": async () => ({ status: 200, body: { token: JWT_LIKE } }),
  "GET /refused": async () => {
    throw new ForbiddenError("you have no role in this room");
  },
};

/** The JSON lines the logger writes while `run` runs. */
async function logLines(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("the functions' request log line", () => {
  afterEach(() => logger.setLogLevel("INFO"));

  it("at INFO: nothing for a success; a refusal with its status and code, and no token", async () => {
    logger.setLogLevel("INFO");
    const handler = createHttpHandler(routes);
    const lines = await logLines(async () => {
      expect((await handler(event("GET /ok"), context)).statusCode).toBe(200);
      expect((await handler(event("GET /refused"), context)).statusCode).toBe(403);
    });
    const requests = lines.filter((l) => l.message === "request");
    expect(requests).toEqual([
      expect.objectContaining({
        level: "INFO",
        routeKey: "GET /refused",
        status: 403,
        code: "forbidden",
        requestId: "req-refused",
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(JWT_LIKE);
  });

  it("at DEBUG: a success too", async () => {
    logger.setLogLevel("DEBUG");
    const handler = createHttpHandler(routes);
    const lines = await logLines(() => handler(event("GET /ok"), context));
    expect(lines.filter((l) => l.message === "request")).toEqual([
      expect.objectContaining({ level: "DEBUG", routeKey: "GET /ok", status: 200, requestId: "req-ok" }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(JWT_LIKE);
  });
});
