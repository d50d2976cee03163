// The security headers on every response stagepass makes, answers and problem documents alike.
import type { HttpMiddleware, HttpMiddyRequest } from "./types.ts";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "referrer-policy": "no-referrer",
};

export function securityHeaders(options: { headers?: Readonly<Record<string, string>> } = {}): HttpMiddleware {
  const headers = options.headers ?? SECURITY_HEADERS;
  // A header the route set itself (none does today) wins.
  const securityHeadersAfter = (request: HttpMiddyRequest): void => {
    if (request.response) request.response.headers = { ...headers, ...request.response.headers };
  };
  return { after: securityHeadersAfter, onError: securityHeadersAfter };
}
