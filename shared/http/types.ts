import type { Caller } from "../auth/caller.ts";

/** An HTTP request after the pipeline has parsed and checked it. Use cases see this, never the Lambda event. */
export interface HttpRequest {
  routeKey: string;
  method: string;
  path: string;
  pathParameters: Record<string, string>;
  /** Query parameters; API Gateway joins repeated ones with commas. */
  query: Record<string, string>;
  /** Header names lowercased. */
  headers: Record<string, string>;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  /** Raw body text (for idempotency hashing); empty when none. */
  rawBody: string;
  requestId: string;
  /** Epoch ms by which the response must be on its way (the function's timeout less a margin). */
  deadline: number;
}

export interface AuthenticatedRequest extends HttpRequest {
  caller: Caller;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler<Req extends HttpRequest = AuthenticatedRequest> = (request: Req) => Promise<HttpResponse>;
export type RouteTable<Req extends HttpRequest = AuthenticatedRequest> = Record<string, RouteHandler<Req>>;
