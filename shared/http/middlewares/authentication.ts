// Verifies the caller's bearer JWT before the route runs, and hands the caller on in the context. A request that
// fails gets its 401 (or 503 when the user pool's keys cannot be had) before a byte of its body is read.
import type { Authenticator } from "../../auth/authenticator.ts";
import { headerOf } from "../request.ts";
import type { HttpMiddleware, HttpMiddyRequest } from "./types.ts";

export function authentication(authenticator: Authenticator): HttpMiddleware {
  const authenticationBefore = async (request: HttpMiddyRequest): Promise<void> => {
    const authorization = headerOf(request.event, "authorization");
    request.context.caller = await authenticator.authenticate(authorization === undefined ? {} : { authorization });
  };
  return { before: authenticationBefore };
}
