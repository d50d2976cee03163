// The HTTP API half of `sam local start-api`: matches a request against the template's routes, builds the
// API Gateway HTTP API payload 2.0 event, invokes the function and maps its result back, with API Gateway's
// own answers for unknown routes, CORS preflight, oversized payloads and function errors.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { CorsConfiguration, RouteDefinition } from "./template.ts";
import { FunctionTimeoutError, InvocationAbortedError, type FunctionRuntime } from "./runtime.ts";

/** API Gateway's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** How long an HTTP API waits for its integration (the function, including any wait for a free sandbox). */
export const INTEGRATION_TIMEOUT_MS = 30_000;

export interface RouteBinding extends RouteDefinition {
  runtime: FunctionRuntime;
}

interface CompiledRoute extends RouteBinding {
  regex: RegExp;
  names: string[];
  specificity: number[];
}

export function compileRoutes(routes: RouteBinding[]): CompiledRoute[] {
  return routes
    .map((route) => {
      const names: string[] = [];
      const segments = route.path.split("/").slice(1);
      const source = segments
        .map((segment) => {
          const greedy = /^\{(\w+)\+\}$/.exec(segment);
          if (greedy) {
            names.push(greedy[1]!);
            return "/(.+)";
          }
          const param = /^\{(\w+)\}$/.exec(segment);
          if (param) {
            names.push(param[1]!);
            return "/([^/]+)";
          }
          return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
        })
        .join("");
      // API Gateway prefers the route with more literal segments, left to right.
      const specificity = segments.map((s) => (s.startsWith("{") ? (s.endsWith("+}") ? 0 : 1) : 2));
      return { ...route, regex: new RegExp(`^${source || "/"}$`), names, specificity };
    })
    .sort((a, b) => {
      for (let i = 0; i < Math.max(a.specificity.length, b.specificity.length); i++) {
        const d = (b.specificity[i] ?? -1) - (a.specificity[i] ?? -1);
        if (d !== 0) return d;
      }
      // Same path: a route for the method beats ANY.
      return Number(a.method === "ANY") - Number(b.method === "ANY");
    });
}

/** One line of the access log, with the fields template.yaml's AccessLogSettings format gives API Gateway's. */
export interface AccessLogEntry {
  requestId: string;
  routeKey: string;
  status: number;
  responseLatencyMs: number;
  integrationLatencyMs: number | null;
}

export interface HttpApiOptions {
  routes: RouteBinding[];
  cors:
    | {
        allowOrigins: string[];
        allowMethods: string[];
        allowHeaders: string[];
        exposeHeaders: string[];
        maxAge?: number;
      }
    | undefined;
  accountId: string;
  apiId?: string;
  /** Called once per request it answers (a CORS preflight excepted), after the answer is sent: API Gateway's access log. */
  accessLog?: (entry: AccessLogEntry) => void;
  /** Default INTEGRATION_TIMEOUT_MS. */
  integrationTimeoutMs?: number;
}

export function resolvedCors(cors: CorsConfiguration | undefined, allowOrigins: string[]): HttpApiOptions["cors"] {
  return cors ? { ...cors, allowOrigins } : undefined;
}

export function createHttpApi(options: HttpApiOptions) {
  const routes = compileRoutes(options.routes);
  const apiId = options.apiId ?? "localapi01";
  const integrationTimeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;

  const corsHeadersFor = (origin: string | undefined): Record<string, string> => {
    const cors = options.cors;
    if (!cors || !origin) return {};
    if (!cors.allowOrigins.includes("*") && !cors.allowOrigins.includes(origin)) return {};
    return {
      "access-control-allow-origin": cors.allowOrigins.includes("*") ? "*" : origin,
      ...(cors.exposeHeaders.length ? { "access-control-expose-headers": cors.exposeHeaders.join(",") } : {}),
      vary: "origin",
    };
  };

  const send = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string | string[]>,
    body?: string | Buffer,
  ) => {
    res.writeHead(status, headers);
    res.end(body);
  };
  const message = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) =>
    send(
      res,
      status,
      { "content-type": "application/json", "apigw-requestid": randomUUID(), ...extra },
      JSON.stringify({ message: text }),
    );

  return async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = (req.method ?? "GET").toUpperCase();
    const origin = req.headers.origin;
    const cors = corsHeadersFor(origin);

    if (method === "OPTIONS" && options.cors && req.headers["access-control-request-method"]) {
      const c = options.cors;
      if (!cors["access-control-allow-origin"]) return send(res, 204, {});
      return send(res, 204, {
        "access-control-allow-origin": cors["access-control-allow-origin"],
        "access-control-allow-methods": c.allowMethods.join(","),
        "access-control-allow-headers": c.allowHeaders.join(","),
        ...(c.maxAge !== undefined ? { "access-control-max-age": String(c.maxAge) } : {}),
        vary: "origin",
      });
    }

    let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of routes) {
      if (route.method !== method && route.method !== "ANY") continue;
      const m = route.regex.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => {
        params[n] = decodeURIComponentSafe(m[i + 1]!);
      });
      matched = { route, params };
      break;
    }
    const started = performance.now();
    const log = (requestId: string, routeKey: string, status: number, integrationLatencyMs: number | null = null) =>
      options.accessLog?.({
        requestId,
        routeKey,
        status,
        responseLatencyMs: Math.round(performance.now() - started),
        integrationLatencyMs,
      });
    // API Gateway's own answers are in its access log too, with routeKey "-" when no route matched.
    const refused = (status: number, text: string, routeKey: string) => {
      const requestId = randomUUID();
      message(res, status, text, { ...cors, "apigw-requestid": requestId });
      log(requestId, routeKey, status);
    };
    if (!matched) return refused(404, "Not Found", "-");
    if (body.length > MAX_PAYLOAD_BYTES) return refused(413, "Request Entity Too Large", matched.route.routeKey);

    const event = toEvent(req, url, body, matched.route, matched.params, options.accountId, apiId);
    let integrationMs: number | null = null;
    const logged = (status: number) => log(event.requestContext.requestId, event.routeKey, status, integrationMs);
    let out: ReturnType<typeof fromResult>;
    try {
      const result = await matched.route.runtime.invoke(event, { signal: AbortSignal.timeout(integrationTimeoutMs) });
      integrationMs = Math.round(performance.now() - started);
      out = fromResult(result);
    } catch (error) {
      // What API Gateway answers when the integration times out (the function overran its timeout, or no sandbox
      // answered within the integration timeout), the function throws or its result is malformed.
      if (error instanceof FunctionTimeoutError || error instanceof InvocationAbortedError) {
        message(res, 503, "Service Unavailable", cors);
        return logged(503);
      }
      console.error(String(error));
      message(res, 500, "Internal Server Error", cors);
      return logged(500);
    }
    send(res, out.status, { ...out.headers, ...cors, "apigw-requestid": event.requestContext.requestId }, out.body);
    logged(out.status);
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript|[a-z0-9.+-]*\+json|[a-z0-9.+-]*\+xml))/i;

export function toEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: RouteDefinition,
  pathParameters: Record<string, string>,
  accountId: string,
  apiId: string,
): APIGatewayProxyEventV2 {
  // Null-prototype maps: a header or query parameter named `constructor` or `__proto__` is data like any other.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === "cookie") {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/)];
      continue;
    }
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value;
  }
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of url.searchParams) query[k] = Object.hasOwn(query, k) ? `${query[k]},${v}` : v;
  // As sent: the WHATWG URL would re-encode some characters of the query.
  const rawUrl = req.url ?? "/";
  const rawQueryString = rawUrl.includes("?") ? rawUrl.slice(rawUrl.indexOf("?") + 1) : "";
  const now = new Date();
  const requestId = randomUUID();
  const contentType = headers["content-type"] ?? "";
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId,
      apiId,
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0]!,
      http: {
        method: (req.method ?? "GET").toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: formatApiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !isText,
  };
  return event;
}

function formatApiGatewayTime(d: Date): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export class MalformedResultError extends Error {}

/**
 * Payload 2.0 response mapping: a structured result, or anything else as a 200 JSON body (a string is the body
 * itself). A structured result API Gateway cannot use throws MalformedResultError (API Gateway answers 500).
 */
export function fromResult(result: unknown): {
  status: number;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
} {
  if (result && typeof result === "object" && "statusCode" in result) {
    const r = result as {
      statusCode: unknown;
      headers?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
      cookies?: unknown;
    };
    const malformed = (why: string) => new MalformedResultError(`malformed Lambda proxy response: ${why}`);
    if (!Number.isInteger(r.statusCode) || (r.statusCode as number) < 100 || (r.statusCode as number) > 599)
      throw malformed("statusCode");
    if (r.headers !== undefined && (typeof r.headers !== "object" || r.headers === null || Array.isArray(r.headers)))
      throw malformed("headers");
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
      if (!["string", "number", "boolean"].includes(typeof value)) throw malformed(`header ${name}`);
      headers[name] = String(value);
    }
    if (r.cookies !== undefined && (!Array.isArray(r.cookies) || r.cookies.some((c) => typeof c !== "string")))
      throw malformed("cookies");
    if (Array.isArray(r.cookies) && r.cookies.length) headers["set-cookie"] = r.cookies as string[];
    if (r.body !== undefined && r.body !== null && typeof r.body !== "string") throw malformed("body");
    const text = typeof r.body === "string" ? r.body : undefined;
    const body = text === undefined ? undefined : r.isBase64Encoded === true ? Buffer.from(text, "base64") : text;
    return { status: r.statusCode as number, headers, ...(body !== undefined ? { body } : {}) };
  }
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: typeof result === "string" ? result : JSON.stringify(result ?? null),
  };
}
