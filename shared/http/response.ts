// HttpResponse / errors → API Gateway payload 2.0 results. The one place where errors become HTTP.
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ProblemError } from "../errors.ts";
import type { HttpResponse } from "./types.ts";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "referrer-policy": "no-referrer",
};

export function toResult(response: HttpResponse, requestId: string): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, "x-request-id": requestId, ...response.headers };
  if (response.body === undefined) return { statusCode: response.status, headers };
  if (!("content-type" in headers)) headers["content-type"] = "application/json";
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

export function problemResponse(error: unknown, requestId: string): HttpResponse {
  const problem = error instanceof ProblemError ? error : undefined;
  const status = problem?.status ?? 500;
  const code = problem?.code ?? "internal";
  return {
    status,
    headers: { "content-type": "application/problem+json", ...problem?.headers },
    body: {
      type: `https://stagepass.dev/problems/${code}`,
      title: problem?.title ?? "Internal error",
      status,
      detail: problem?.detail ?? `an unexpected error occurred; quote request id ${requestId}`,
      code,
      ...problem?.extensions,
    },
  };
}
