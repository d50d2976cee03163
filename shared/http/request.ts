// API Gateway HTTP API (payload 2.0) event → HttpRequest: body limits, content type, JSON parsing.
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from "../errors.ts";
import type { HttpRequest } from "./types.ts";

export const MAX_BODY_BYTES = 16 * 1024;
/** Time kept back from the function's timeout to answer with a problem document instead of timing out. */
export const DEADLINE_MARGIN_MS = 1_500;

/** A header by its lowercase name, in whatever case the event has it (API Gateway's payload 2.0 lowercases them). */
export function headerOf(event: Pick<APIGatewayProxyEventV2, "headers">, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  if (headers[name] !== undefined) return headers[name];
  for (const given in headers) if (given.toLowerCase() === name) return headers[given];
  return undefined;
}

/** Everything but the body: enough to route before a byte of the body is looked at. */
export function parseEnvelope(
  event: APIGatewayProxyEventV2,
  context: Pick<Context, "getRemainingTimeInMillis">,
): Omit<HttpRequest, "body" | "rawBody"> {
  const headers: Record<string, string> = {};
  const given = event.headers ?? {};
  for (const name in given) {
    const value = given[name];
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const requestId = event.requestContext?.requestId ?? "unknown";
  const remaining =
    typeof context.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : 10_000;
  return {
    routeKey: event.routeKey,
    method: event.requestContext?.http?.method ?? event.routeKey.split(" ")[0] ?? "GET",
    path: event.rawPath,
    pathParameters: { ...(event.pathParameters ?? {}) } as Record<string, string>,
    query: { ...(event.queryStringParameters ?? {}) } as Record<string, string>,
    headers,
    requestId,
    deadline: Date.now() + Math.max(0, remaining - DEADLINE_MARGIN_MS),
  };
}

export function parseBody(
  event: APIGatewayProxyEventV2,
  headers: Record<string, string>,
): { body: unknown; rawBody: string } {
  if (event.body === undefined || event.body === null || event.body === "") return { body: undefined, rawBody: "" };
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`the request body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  }
  const contentType = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType !== "application/json" && !/^application\/[a-z0-9.+-]*\+json$/.test(contentType)) {
    throw new UnsupportedMediaTypeError(
      contentType
        ? `content type ${contentType} is not supported; send application/json`
        : "a body needs Content-Type: application/json",
    );
  }
  const rawBody = bytes.toString("utf8");
  try {
    return { body: JSON.parse(rawBody), rawBody };
  } catch {
    throw new ValidationError([{ path: "/", message: "the body is not valid JSON" }]);
  }
}
