// The pipeline's metrics (shared/metrics.ts, docs/operations.md): the container's cold start before the request, a
// refusal counted by the function and the problem's code, and what the request recorded published once it is
// answered. First in the pipeline, so that its onError runs last, when the error has its problem document.
import { ProblemError } from "../../errors.ts";
import { countRefusal, invocationStarted, publishMetrics } from "../../metrics.ts";
import type { HttpMiddleware, HttpMiddyRequest } from "./types.ts";

export function metrics(): HttpMiddleware {
  const metricsBefore = (request: HttpMiddyRequest): void => invocationStarted(request.context);
  const metricsAfter = (): void => publishMetrics();
  const metricsOnError = (request: HttpMiddyRequest): void => {
    countRefusal(request.context.functionName, request.error instanceof ProblemError ? request.error.code : "internal");
    publishMetrics();
  };
  return { before: metricsBefore, after: metricsAfter, onError: metricsOnError };
}
