// The live-state ports on the table (shared/store/live.ts) and IVS (shared/aws/ivs.ts), for the functions that keep
// or show a room's live state (rooms, live-state), and the watch's (live-state).
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { listStages, readActiveSession, readParticipantEventsPage, readParticipantsPage } from "../aws/ivs.ts";
import type { Db } from "../store/db.ts";
import type { WebhookSink } from "../webhooks/events.ts";
import {
  claimIvsReadSlot,
  claimRoomRead,
  findIssuedParticipants,
  liveRoomsAmong,
  readLiveState,
  writeLiveState,
} from "../store/live.ts";
import { ROOM_READ_INTERVAL_MS } from "./budget.ts";
import type { LiveDeps, LiveReader } from "./refresh.ts";
import type { WatchDeps } from "./watch.ts";

/** Longest one live read may take: a slow IVS leaves the room with what it knew, rather than hold the caller. */
const LIVE_READ_TIMEOUT_MS = 2_000;

export function liveDeps(db: Db, ivs: IVSRealTimeClient, webhooks?: WebhookSink): LiveDeps {
  return {
    webhooks,
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

/** The watch's ports (shared/live/watch.ts): IVS's ListStages, the store, and the room reader it reads through. */
export function watchDeps(db: Db, ivs: IVSRealTimeClient, reader: LiveReader): WatchDeps {
  return {
    listStages: (nextToken) => listStages(ivs, 100, nextToken, Date.now() + LIVE_READ_TIMEOUT_MS),
    liveAmong: (roomIds) => liveRoomsAmong(db, roomIds),
    reader,
    budget: { claimSlot: (operation, slot) => claimIvsReadSlot(db, operation, slot) },
    clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
  };
}
