// The HTTP pipeline every API function shares: middy with the cross-cutting steps as middlewares (metrics, request
// log, security headers, problem documents, authentication: shared/http/middlewares/), around a router that dispatches
// on API Gateway's routeKey, reads the body and runs the route. Routes see an HttpRequest, never the Lambda event.
import middy from "@middy/core";
import type { Authenticator } from "../auth/authenticator.ts";
import { NotFoundError } from "../errors.ts";
import { authentication } from "./middlewares/authentication.ts";
import { metrics } from "./middlewares/metrics.ts";
import { problemDocuments } from "./middlewares/problem-documents.ts";
import { requestLog } from "./middlewares/request-log.ts";
import { securityHeaders } from "./middlewares/security-headers.ts";
import type { HttpContext, HttpEvent, HttpInternal, HttpResult } from "./middlewares/types.ts";
import { parseBody, parseEnvelope } from "./request.ts";
import { toResult } from "./response.ts";
import type { AuthenticatedRequest, HttpRequest, RouteHandler, RouteTable } from "./types.ts";

export type HttpHandler = middy.MiddyfiedHandler<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>;

export function createHttpHandler(routes: RouteTable<HttpRequest>): HttpHandler;
export function createHttpHandler(routes: RouteTable<AuthenticatedRequest>, authenticator: Authenticator): HttpHandler;
export function createHttpHandler(
  routes: RouteTable<AuthenticatedRequest> | RouteTable<HttpRequest>,
  authenticator?: Authenticator,
): HttpHandler {
  const route = async (event: HttpEvent, context: HttpContext): Promise<HttpResult> => {
    const envelope = parseEnvelope(event, context);
    const handle = Object.hasOwn(routes, envelope.routeKey) ? routes[envelope.routeKey] : undefined;
    if (!handle) throw new NotFoundError(`no route for ${envelope.routeKey}`);
    const request: HttpRequest = { ...envelope, ...parseBody(event, envelope.headers) };
    const { caller } = context;
    const response = caller
      ? await (handle as RouteHandler<AuthenticatedRequest>)({ ...request, caller })
      : await (handle as RouteHandler<HttpRequest>)(request);
    return toResult(response);
  };
  // middy runs the `before`s in this order, the `after`s and `onError`s in the reverse one: the problem documents
  // answer an error first, then the security headers and the request log see that answer, and the metrics publish
  // last.
  const middlewares = [
    metrics(),
    requestLog(),
    securityHeaders(),
    problemDocuments(),
    ...(authenticator ? [authentication(authenticator)] : []),
  ];
  // No middy timeoutEarly: the router keeps its own deadline (request.ts, DEADLINE_MARGIN_MS) and answers a problem
  // document before the function's timeout, so middy's per-request timer would only cost time.
  return middy<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>({ timeoutEarlyInMillis: 0 })
    .use(middlewares)
    .handler(route);
}
