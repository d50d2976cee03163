// What the pipeline's middlewares work on: middy's request for an API Gateway HTTP API (payload 2.0) invocation.
import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { Caller } from "../../auth/caller.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The Lambda context as the pipeline hands it on: authentication adds the verified caller. */
export interface HttpContext extends Context {
  caller?: Caller;
}

/** Per-request state the middlewares keep for themselves (middy's `request.internal`). */
export type HttpInternal = { startedAt?: number };

export type HttpMiddleware = middy.MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>;
export type HttpMiddyRequest = middy.Request<HttpEvent, HttpResult, Error, HttpContext, HttpInternal>;

/** The id API Gateway gave the request (in its access log too), else Lambda's. */
export const requestIdOf = (request: Pick<HttpMiddyRequest, "event" | "context">): string =>
  request.event.requestContext?.requestId ?? request.context.awsRequestId ?? "unknown";
