// The rooms function's routes, keyed by API Gateway's routeKey (the template's Method and Path).
import type { RouteTable } from "#shared/http/types.ts";
import { listAdminStages } from "./admin-stages.ts";
import { createRoom } from "./create-room.ts";
import { deleteRoom } from "./delete-room.ts";
import type { RoomsDeps } from "./deps.ts";
import { getRoomRoute } from "./get-room.ts";
import { listRooms } from "./list-rooms.ts";
import { deleteMemberRoute, listMembersRoute, putMemberRoute } from "./members.ts";
import { listParticipantsRoute } from "./participants.ts";
import { deleteTags, getTags, putTags } from "./tags.ts";
import { updateRoom } from "./update-room.ts";

export const routes = (deps: RoomsDeps): RouteTable => ({
  "POST /rooms": (r) => createRoom(deps, r),
  "GET /rooms": (r) => listRooms(deps, r),
  "GET /rooms/{roomId}": (r) => getRoomRoute(deps, r),
  "PATCH /rooms/{roomId}": (r) => updateRoom(deps, r),
  "DELETE /rooms/{roomId}": (r) => deleteRoom(deps, r),
  "GET /rooms/{roomId}/members": (r) => listMembersRoute(deps, r),
  "PUT /rooms/{roomId}/members/{userId}": (r) => putMemberRoute(deps, r),
  "DELETE /rooms/{roomId}/members/{userId}": (r) => deleteMemberRoute(deps, r),
  "GET /rooms/{roomId}/participants": (r) => listParticipantsRoute(deps, r),
  "GET /rooms/{roomId}/tags": (r) => getTags(deps, r),
  "PUT /rooms/{roomId}/tags": (r) => putTags(deps, r),
  "DELETE /rooms/{roomId}/tags": (r) => deleteTags(deps, r),
  "GET /admin/stages": (r) => listAdminStages(deps, r),
});
