import type { RouteTable } from "#shared/http/types.ts";
import { exchangeToken } from "./exchange-token.ts";
import { issueToken, type TokenDeps } from "./issue-token.ts";

export const routes = (deps: TokenDeps): RouteTable => ({
  "POST /rooms/{roomId}/token": (r) => issueToken(deps, r),
  "GET /rooms/{roomId}/token": (r) => issueToken(deps, r),
  "POST /rooms/{roomId}/participants/{participantId}/token": (r) => exchangeToken(deps, r),
});
