// Keeping a room's live state: events and IVS reads merged into the stored state (state.ts), and IVS read when the
// state is older than the room's read interval, within the account's read budget (budget.ts). Written against
// ports (a store, IVS's reads, a clock), so that the rules of who reads when are unit tested with fakes.
import { logger } from "../logger.ts";
import { roomMayRead, ROOM_READ_INTERVAL_MS, takeIvsRead, type Clock } from "./budget.ts";
import {
  annotate,
  applyRead,
  applyStageEvent,
  nextRead,
  unannotated,
  type IssuedInfo,
  type IvsRead,
  type LiveState,
  type ParticipantEventSummary,
  type ParticipantSummary,
  type ReadRequest,
  type StageEvent,
} from "./state.ts";

export interface StoredLive {
  roomExists: boolean;
  state: LiveState;
  version: number;
}

export interface LiveStorePort {
  read(roomId: string): Promise<StoredLive>;
  write(roomId: string, version: number, state: LiveState, now: number): Promise<"written" | "conflict" | "room_gone">;
  claimRoomRead(roomId: string, now: number): Promise<boolean>;
  claimSlot(operation: string, slot: number): Promise<boolean>;
  findIssued(roomId: string, participantIds: string[]): Promise<Record<string, IssuedInfo | null>>;
}

export interface IvsLiveReads {
  activeSession(stageArn: string): Promise<string | null>;
  participantsPage(
    stageArn: string,
    sessionId: string,
    nextToken: string | null,
  ): Promise<{ participants: ParticipantSummary[]; nextToken: string | null }>;
  participantEventsPage(
    stageArn: string,
    sessionId: string,
    participantId: string,
    nextToken: string | null,
  ): Promise<{ events: ParticipantEventSummary[]; nextToken: string | null }>;
}

export interface LiveDeps {
  store: LiveStorePort;
  ivs: IvsLiveReads;
  clock: Clock;
}

/** Writers racing on one room's state: each re-reads and re-applies, this many times at most. */
const MAX_WRITE_ATTEMPTS = 5;
/** Time kept back from a request's deadline for writing what was read. */
const WRITE_RESERVE_MS = 1_500;
/** Rooms whose last read attempt a container remembers (the oldest are forgotten past this). */
const MAX_REMEMBERED_ROOMS = 10_000;

/** IVS's operation for each kind of read (the budget is kept per operation, as IVS's quotas are). */
export const READ_OPERATION: Record<ReadRequest["kind"], string> = {
  stage: "GetStage",
  participants: "ListParticipants",
  events: "ListParticipantEvents",
};

export class LiveContentionError extends Error {}

/**
 * Applies `change` to the room's stored state and writes it, unless it changes nothing (a duplicate costs no
 * write); participants new to the state are looked up in stagepass's own records first. Another writer in between
 * means reading again and applying again. Undefined when the room does not exist (nothing is written).
 */
export async function updateLive(
  deps: LiveDeps,
  roomId: string,
  change: (s: LiveState) => LiveState,
  initial?: StoredLive,
): Promise<LiveState | undefined> {
  let stored = initial ?? (await deps.store.read(roomId));
  const lookedUp: Record<string, IssuedInfo | null> = {};
  for (let attempt = 1; ; attempt++) {
    if (!stored.roomExists) return undefined;
    let next = change(stored.state);
    const missing = unannotated(next).filter((id) => !(id in lookedUp));
    if (missing.length > 0) Object.assign(lookedUp, await deps.store.findIssued(roomId, missing));
    next = annotate(next, lookedUp);
    if (JSON.stringify(next) === JSON.stringify(stored.state)) return next;
    const outcome = await deps.store.write(roomId, stored.version, next, deps.clock.now());
    if (outcome === "written") return next;
    if (outcome === "room_gone") return undefined;
    if (attempt >= MAX_WRITE_ATTEMPTS)
      throw new LiveContentionError(`the live state of room ${roomId} kept changing under ${attempt} writes`);
    stored = await deps.store.read(roomId);
  }
}

/** Merges one Stage Update event into the room's state; false when no room owns the stage. */
export async function applyEvent(deps: LiveDeps, roomId: string, event: StageEvent): Promise<boolean> {
  return (await updateLive(deps, roomId, (s) => applyStageEvent(s, event))) !== undefined;
}

export interface LiveReader {
  /**
   * The room's live state: read from IVS first (one call) when it is older than the room's read interval and
   * both the room's claim and the account's budget allow it, else as stored. An IVS failure, or a spent budget,
   * serves what is stored (its `readAt` says how old it is).
   */
  current(room: { roomId: string; stageArn: string }, deadline: number): Promise<StoredLive>;
}

/** One per container: concurrent callers for one room share one refresh, and a container tries a room's claim once per interval. */
export function createLiveReader(deps: LiveDeps): LiveReader {
  const inflight = new Map<string, Promise<StoredLive>>();
  const attempted = new Map<string, number>();

  async function refresh(room: { roomId: string; stageArn: string }, deadline: number): Promise<StoredLive> {
    const stored = await deps.store.read(room.roomId);
    if (!stored.roomExists) return stored;
    const now = deps.clock.now();
    if (!roomMayRead(stored.state.readAt, now)) return stored;
    const last = attempted.get(room.roomId);
    if (last !== undefined && now - last < ROOM_READ_INTERVAL_MS) return stored;
    if (attempted.size >= MAX_REMEMBERED_ROOMS) attempted.clear();
    attempted.set(room.roomId, now);
    if (!(await deps.store.claimRoomRead(room.roomId, now))) return stored;

    const request = nextRead(stored.state, now);
    const operation = READ_OPERATION[request.kind];
    if (!(await takeIvsRead(deps.store, operation, deps.clock, deadline - WRITE_RESERVE_MS))) {
      logger.info("IVS read budget spent; serving the stored live state", { roomId: room.roomId, operation });
      return stored;
    }
    let read: IvsRead;
    try {
      read = await perform(deps.ivs, room.stageArn, request, deps.clock.now());
    } catch (error) {
      logger.warn("IVS live read failed; serving the stored live state", {
        roomId: room.roomId,
        operation,
        error: (error as Error).message,
      });
      return stored;
    }
    try {
      const state = await updateLive(deps, room.roomId, (s) => applyRead(s, read), stored);
      return state === undefined ? { ...stored, roomExists: false } : { ...stored, state };
    } catch (error) {
      if (!(error instanceof LiveContentionError)) throw error;
      logger.warn("live state not written: too many concurrent writers", { roomId: room.roomId });
      return stored;
    }
  }

  return {
    current(room, deadline) {
      const pending = inflight.get(room.roomId);
      if (pending) return pending;
      const started = refresh(room, deadline).finally(() => inflight.delete(room.roomId));
      inflight.set(room.roomId, started);
      return started;
    },
  };
}

async function perform(ivs: IvsLiveReads, stageArn: string, request: ReadRequest, at: number): Promise<IvsRead> {
  switch (request.kind) {
    case "stage":
      return { kind: "stage", at, activeSessionId: await ivs.activeSession(stageArn) };
    case "participants": {
      const page = await ivs.participantsPage(stageArn, request.sessionId, request.nextToken);
      return { kind: "participants", at, sessionId: request.sessionId, ...page };
    }
    case "events": {
      const page = await ivs.participantEventsPage(
        stageArn,
        request.sessionId,
        request.participantId,
        request.nextToken,
      );
      return { kind: "events", at, sessionId: request.sessionId, participantId: request.participantId, ...page };
    }
  }
}
