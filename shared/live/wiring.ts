// The live-state ports on the table (shared/store/live.ts) and IVS (shared/aws/ivs.ts), for the functions that keep
// or show a room's live state (rooms, live-state).
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { readActiveSession, readParticipantEventsPage, readParticipantsPage } from "../aws/ivs.ts";
import type { Db } from "../store/db.ts";
import {
  claimIvsReadSlot,
  claimRoomRead,
  findIssuedParticipants,
  readLiveState,
  writeLiveState,
} from "../store/live.ts";
import { ROOM_READ_INTERVAL_MS } from "./budget.ts";
import type { LiveDeps } from "./refresh.ts";

/** Longest one live read may take: a slow IVS leaves the room with what it knew, rather than hold the caller. */
const LIVE_READ_TIMEOUT_MS = 2_000;

export function liveDeps(db: Db, ivs: IVSRealTimeClient): LiveDeps {
  return {
    store: {
      read: (roomId) => readLiveState(db, roomId),
      write: (roomId, version, state, now) => writeLiveState(db, roomId, version, state, now),
      claimRoomRead: (roomId, now) => claimRoomRead(db, roomId, now, ROOM_READ_INTERVAL_MS),
      claimSlot: (operation, slot) => claimIvsReadSlot(db, operation, slot),
      findIssued: (roomId, ids) => findIssuedParticipants(db, roomId, ids),
    },
    ivs: {
      activeSession: (stageArn) => readActiveSession(ivs, stageArn, LIVE_READ_TIMEOUT_MS),
      participantsPage: (stageArn, sessionId, nextToken) =>
        readParticipantsPage(ivs, stageArn, sessionId, nextToken, LIVE_READ_TIMEOUT_MS),
      participantEventsPage: (stageArn, sessionId, participantId, nextToken) =>
        readParticipantEventsPage(ivs, stageArn, sessionId, participantId, nextToken, LIVE_READ_TIMEOUT_MS),
    },
    clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
  };
}
