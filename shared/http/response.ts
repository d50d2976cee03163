// A route's HttpResponse → API Gateway's payload 2.0 result: the body as JSON. The pipeline's middlewares add the
// headers every response carries (middlewares/security-headers.ts, middlewares/request-log.ts).
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { HttpResponse } from "./types.ts";

export function toResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) return { statusCode: response.status, headers };
  if (!("content-type" in headers)) headers["content-type"] = "application/json";
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}
