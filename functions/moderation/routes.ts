import type { ModerationDeps } from "./deps.ts";
import type { RouteTable } from "#shared/http/types.ts";
import { listAuditRoute } from "./audit.ts";
import { deleteBan, listBans } from "./bans.ts";
import { kick } from "./kick.ts";

export const routes = (deps: ModerationDeps): RouteTable => ({
  "POST /rooms/{roomId}/kick": (r) => kick(deps, r),
  "GET /rooms/{roomId}/bans": (r) => listBans(deps, r),
  "DELETE /rooms/{roomId}/bans/{userId}": (r) => deleteBan(deps, r),
  "GET /rooms/{roomId}/audit": (r) => listAuditRoute(deps, r),
});
