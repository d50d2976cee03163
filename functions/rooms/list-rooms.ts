// GET /rooms: every room the caller may enter, each once, by room id, paginated with an opaque cursor. No live
// state (GetStage is limited to 5 calls per second per account).
import type { Deps } from "#shared/deps.ts";
import { decodeCursor, encodeCursor, limitParam } from "#shared/http/query.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { resolveRole } from "#shared/rooms/resolve-role.ts";
import { ALL_ROOMS } from "#shared/store/keys.ts";
import { getRoomsWithCaller, roomIdsUnder } from "#shared/store/rooms.ts";
import { ID_PATTERN } from "#shared/validation.ts";
import { roomView } from "./view.ts";

/** Cognito puts a user in at most 100 groups; more in a token would not be Cognito's, and are not queried. */
const MAX_LISTING_GROUPS = 100;

export async function listRooms(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const { caller } = request;
  const limit = limitParam(request.query, 50);
  const after = decodeCursor(request.query.nextToken, (v) => (typeof v.after === "string" && ID_PATTERN.test(v.after) ? v.after : undefined));
  const indexKeys = caller.isAdmin
    ? [ALL_ROOMS]
    : ["VIS#open", `VIS#user#${caller.userId}`, ...caller.groups.slice(0, MAX_LISTING_GROUPS).map((g) => `VIS#group#${g}`)];

  // Each key's ids come sorted; the page is the smallest `limit` ids of their union.
  const pages = await Promise.all(indexKeys.map((k) => roomIdsUnder(deps.db, k, after, limit)));
  const merged = [...new Set(pages.flat())].sort();
  const pageIds = merged.slice(0, limit);
  // More may follow when the union overflowed the page or any key's query was cut at the limit.
  const more = merged.length > limit || pages.some((p) => p.length === limit);

  const now = deps.now();
  const found = await getRoomsWithCaller(deps.db, pageIds, caller.userId);
  const rooms = pageIds.flatMap((id) => {
    const entry = found.get(id);
    if (!entry?.room) return [];
    const decision = resolveRole({
      userId: caller.userId, groups: caller.groups, isAdmin: caller.isAdmin, ownerId: entry.room.ownerId,
      policy: entry.room.policy, memberRole: entry.memberRole, bannedUntil: entry.banUntilMs, now,
    });
    if (decision.kind !== "role") return [];
    return [roomView(entry.room, decision.role, entry.room.policy.roles[decision.role]!.moderator)];
  });
  const last = pageIds[pageIds.length - 1];
  return { status: 200, body: { rooms, ...(more && last ? { nextToken: encodeCursor({ after: last }) } : {}) } };
}
