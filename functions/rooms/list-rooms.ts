// GET /rooms: every room the caller may enter, each once, by room id, paginated with an opaque cursor. No live
// state (GetStage is limited to 5 calls per second per account).
import type { Deps } from "#shared/deps.ts";
import { decodeCursor, encodeCursor, limitParam } from "#shared/http/query.ts";
import type { AuthenticatedRequest, HttpResponse } from "#shared/http/types.ts";
import { resolveRole } from "#shared/rooms/resolve-role.ts";
import { getRoomsWithCaller, listingKeys, roomIdsUnder } from "#shared/store/rooms.ts";
import { ID_PATTERN } from "#shared/validation.ts";
import { roomView } from "./view.ts";

/** Cognito puts a user in at most 100 groups; more in a token would not be Cognito's, and are not queried. */
const MAX_LISTING_GROUPS = 100;
/** Reads one listing request may make to fill a page past rooms the caller may not enter. */
const MAX_ROUNDS = 5;
/** Ids a round reads at least, whatever the page size, to pass rooms the caller may not enter. */
const MIN_BATCH = 25;

export async function listRooms(deps: Deps, request: AuthenticatedRequest): Promise<HttpResponse> {
  const { caller } = request;
  const limit = limitParam(request.query, 50);
  const after = decodeCursor(request.query.nextToken, (v) =>
    typeof v.after === "string" && ID_PATTERN.test(v.after) ? v.after : undefined,
  );
  const indexKeys = listingKeys(caller, caller.groups.slice(0, MAX_LISTING_GROUPS));

  // Each key's ids come sorted, and the `batch` smallest ids of their union are among each key's `batch` smallest: a
  // round reads that many, drops the rooms the caller may not enter (banned, or no longer mapped) and keeps reading
  // until the page is full, the keys are exhausted, or MAX_ROUNDS reads were made (then the page is short, and
  // nextToken says where to go on). Reading more than the page needs keeps a run of banned rooms cheap to pass.
  const now = deps.now();
  const rooms: Array<ReturnType<typeof roomView>> = [];
  let cursor = after;
  let more = true;
  for (let round = 0; round < MAX_ROUNDS && more && rooms.length < limit; round++) {
    const batch = Math.min(100, Math.max(limit - rooms.length, MIN_BATCH));
    const pages = await Promise.all(indexKeys.map((k) => roomIdsUnder(deps.db, k, cursor, batch)));
    const merged = [...new Set(pages.flat())].sort();
    const ids = merged.slice(0, batch);
    // More may follow when the union overflowed or any key's query was cut at the batch size.
    more = merged.length > batch || pages.some((p) => p.length === batch);
    if (ids.length === 0) break;
    const found = await getRoomsWithCaller(deps.db, ids, caller.userId);
    for (const [i, id] of ids.entries()) {
      cursor = id;
      const entry = found.get(id);
      if (entry?.room) {
        const decision = resolveRole({
          userId: caller.userId,
          groups: caller.groups,
          isAdmin: caller.isAdmin,
          ownerId: entry.room.ownerId,
          policy: entry.room.policy,
          memberRole: entry.memberRole,
          bannedUntil: entry.banUntilMs,
          now,
        });
        if (decision.kind === "role")
          rooms.push(roomView(entry.room, decision.role, entry.room.policy.roles[decision.role]!.moderator));
      }
      if (rooms.length === limit) {
        // The page is full: more follow if this round read past the id it stopped at.
        more ||= i < ids.length - 1;
        break;
      }
    }
  }
  const last = cursor;
  return { status: 200, body: { rooms, ...(more && last ? { nextToken: encodeCursor({ after: last }) } : {}) } };
}
