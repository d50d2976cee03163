import type { RouteTable } from "#shared/http/types.ts";
import { issueToken, type TokenDeps } from "./issue-token.ts";

export const routes = (deps: TokenDeps): RouteTable => ({
  "POST /rooms/{roomId}/token": (r) => issueToken(deps, r),
  "GET /rooms/{roomId}/token": (r) => issueToken(deps, r),
});
