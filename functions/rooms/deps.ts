import type { DepsWithQueue } from "#shared/deps.ts";
import type { LiveReader } from "#shared/live/refresh.ts";

/** The rooms function also shows a room's live state (who is on stage), read from IVS within its budget. */
export interface RoomsDeps extends DepsWithQueue {
  live: LiveReader;
}
