// The one place where errors become HTTP: whatever a request ends in becomes an RFC 9457 problem document, with the
// status, code, extensions and headers (Retry-After, WWW-Authenticate) of its ProblemError. Anything else is a bug:
// 500 `internal`, its details kept out of the response.
import { ProblemError } from "../../errors.ts";
import { toResult } from "../response.ts";
import type { HttpResponse } from "../types.ts";
import { requestIdOf, type HttpMiddleware, type HttpMiddyRequest } from "./types.ts";

const defaults = {
  /** Base of each problem's `type` URI; the problem's code completes it. */
  typeBase: "https://stagepass.dev/problems/",
};

export function problemDocuments(options: Partial<typeof defaults> = {}): HttpMiddleware {
  const { typeBase } = { ...defaults, ...options };
  const problemDocumentsOnError = (request: HttpMiddyRequest): void => {
    // A response already made by a later middleware's own handling stands.
    if (request.response !== undefined) return;
    request.response = toResult(problemResponse(request.error, requestIdOf(request), typeBase));
  };
  return { onError: problemDocumentsOnError };
}

export function problemResponse(error: unknown, requestId: string, typeBase = defaults.typeBase): HttpResponse {
  const problem = error instanceof ProblemError ? error : undefined;
  const status = problem?.status ?? 500;
  const code = problem?.code ?? "internal";
  return {
    status,
    headers: { "content-type": "application/problem+json", ...problem?.headers },
    body: {
      type: `${typeBase}${code}`,
      title: problem?.title ?? "Internal error",
      status,
      detail: problem?.detail ?? `an unexpected error occurred; quote request id ${requestId}`,
      code,
      ...problem?.extensions,
    },
  };
}
