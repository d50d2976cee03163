// The HTTP pipeline every API function shares, as one middy middleware: parse and check the request,
// authenticate the caller, dispatch on API Gateway's routeKey, and turn results and errors into responses.
import { LogLevelThreshold } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { NotFoundError, ProblemError } from "../errors.ts";
import { logger } from "../logger.ts";
import { countRefusal, metricsMiddleware } from "../metrics.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { parseBody, parseEnvelope } from "./request.ts";
import { problemResponse, toResult } from "./response.ts";
import type { AuthenticatedRequest, HttpRequest, RouteHandler, RouteTable } from "./types.ts";

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

export function createHttpHandler(routes: RouteTable<HttpRequest>): middy.MiddyfiedHandler<Event, Result>;
export function createHttpHandler(routes: RouteTable<AuthenticatedRequest>, authenticator: Authenticator): middy.MiddyfiedHandler<Event, Result>;
export function createHttpHandler(
  routes: RouteTable<AuthenticatedRequest> | RouteTable<HttpRequest>,
  authenticator?: Authenticator,
): middy.MiddyfiedHandler<Event, Result> {
  // Read once: even a DEBUG line that the level drops costs the logger a look at the environment.
  const logSuccesses = logger.level <= LogLevelThreshold.DEBUG;
  const dispatch = async (event: Event, context: Context): Promise<Result> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId ?? "unknown";
    const started = Date.now();
    let status = 500;
    let code: string | undefined;
    try {
      const envelope = parseEnvelope(event, context);
      const route = Object.hasOwn(routes, envelope.routeKey) ? routes[envelope.routeKey] : undefined;
      if (!route) throw new NotFoundError(`no route for ${envelope.routeKey}`);
      // Who is asking comes first: an anonymous caller learns nothing about how its body would be read.
      const caller = authenticator ? await authenticator.authenticate(envelope.headers) : undefined;
      const request: HttpRequest = { ...envelope, ...parseBody(event, envelope.headers) };
      const handled = caller
        ? await (route as RouteHandler<AuthenticatedRequest>)({ ...request, caller })
        : await (route as RouteHandler<HttpRequest>)(request);
      status = handled.status;
      return toResult(handled, requestId);
    } catch (error) {
      const response = problemResponse(error, requestId);
      status = response.status;
      code = (response.body as { code?: string }).code;
      if (!(error instanceof ProblemError)) logger.error("unhandled error", { error: error as Error });
      else if (error.status >= 500 || error.status === 429) logger.warn("request failed upstream", { code: error.code, detail: error.detail });
      if (code) countRefusal(context.functionName, code);
      return toResult(response, requestId);
    } finally {
      // Never the headers or body: they carry JWTs and participant tokens. Every request is in API Gateway's access
      // log (template.yaml), so a success is logged here only at DEBUG: a log line costs more than the JWT check on
      // the token path (docs/performance.md). Refusals and failures are logged at INFO, with the problem's code.
      if (status >= 400 || logSuccesses) {
        const line = { routeKey: event.routeKey, status, ...(code ? { code } : {}), ms: Date.now() - started, requestId };
        if (status < 400) logger.debug("request", line);
        else logger.info("request", line);
      }
    }
  };
  // No middy timeoutEarly: the handler keeps its own deadline (request.ts, DEADLINE_MARGIN_MS) and answers a problem
  // document before the function's timeout, so middy's per-request timer and AbortController would only cost time.
  // The metrics middleware counts a cold start before the request and publishes what it recorded after it.
  return middy<Event, Result>({ timeoutEarlyInMillis: 0 }).use(metricsMiddleware<Event, Result>()).handler(dispatch);
}
