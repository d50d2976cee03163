// Each request's outcome, tied to its id: the response carries `x-request-id` (the id API Gateway's access log holds
// too), and the function logs a refused or failed request at INFO with its status and problem code (a success only
// at DEBUG: every request is already in the access log, and a log line costs the token path more than its JWT
// check). A bug is logged as an error, a 429 or 5xx as a warning. Never a header or a body: they carry JWTs and
// participant tokens.
import { LogLevelThreshold, type Logger } from "@aws-lambda-powertools/logger";
import { ProblemError } from "../../errors.ts";
import { logger as sharedLogger } from "../../logger.ts";
import { requestIdOf, type HttpMiddleware, type HttpMiddyRequest } from "./types.ts";

export function requestLog(options: { logger?: Logger } = {}): HttpMiddleware {
  const logger = options.logger ?? sharedLogger;
  // Read once: even a DEBUG line that the level drops costs the logger a look at the environment.
  const logSuccesses = logger.level <= LogLevelThreshold.DEBUG;

  const finish = (request: HttpMiddyRequest, code: string | undefined): void => {
    const requestId = requestIdOf(request);
    const response = request.response;
    if (response) (response.headers ??= {})["x-request-id"] = requestId;
    const status = response?.statusCode ?? 500;
    if (status < 400 && !logSuccesses) return;
    const line = {
      routeKey: request.event.routeKey,
      status,
      ...(code ? { code } : {}),
      ms: Date.now() - (request.internal.startedAt ?? Date.now()),
      requestId,
    };
    if (status < 400) logger.debug("request", line);
    else logger.info("request", line);
  };

  const requestLogBefore = (request: HttpMiddyRequest): void => {
    request.internal.startedAt = Date.now();
  };
  const requestLogAfter = (request: HttpMiddyRequest): void => finish(request, undefined);
  const requestLogOnError = (request: HttpMiddyRequest): void => {
    const error = request.error;
    if (!(error instanceof ProblemError)) logger.error("unhandled error", { error: error as Error });
    else if (error.status >= 500 || error.status === 429)
      logger.warn("request failed upstream", { code: error.code, detail: error.detail });
    finish(request, error instanceof ProblemError ? error.code : "internal");
  };
  return { before: requestLogBefore, after: requestLogAfter, onError: requestLogOnError };
}
