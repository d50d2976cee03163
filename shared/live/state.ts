// A room's live state: who is on its stage, joined from what IVS sends to EventBridge and what IVS's reads return.
// Plain functions over plain data (no store, no client), so that every rule here is unit tested.
//
// IVS sends events on a best-effort basis: late (hours), twice, out of order, or not at all. And it sends events
// only for publishing (Participant Published / Unpublished / Publish Error ...), none for a join or a leave: who is
// connected is known only from IVS's reads (GetStage, ListParticipants, ListParticipantEvents). So each fact about a
// participant (connected? publishing?) is kept with the time of the evidence that set it, and a piece of evidence
// replaces the fact only when it is newer (last writer wins, by evidence time; on a tie "not" wins, so that the
// result does not depend on the order of arrival). Hence:
//   - an older event never overwrites a newer state: its evidence time is older;
//   - a duplicate changes nothing: same time, same value;
//   - a missed event is repaired by the next read: a read is evidence as of the moment it was made.
// Event times carry whole seconds (EventBridge's `time`; IVS's `event_time`), so an event counts as evidence from the
// END of its second (the latest moment it can have happened): a read made within the same second cannot hide it.

/** Sessions known to be over, newest first: late events for them change nothing. */
export const MAX_ENDED_SESSIONS = 8;
/** Participants kept per session (the item holding the state must stay well under DynamoDB's 400 KB). */
export const MAX_PARTICIPANTS = 1_000;
/** A participant who has published is checked against its own event list (ListParticipantEvents) this often. */
export const DEFAULT_VERIFY_AFTER_MS = 5 * 60_000;

/** Who stagepass issued a participant to, as its own record says (absent for tokens made elsewhere). */
export interface IssuedInfo {
  role: string;
  displayName: string | null;
}

export interface LiveParticipant {
  participantId: string;
  /** IVS's user id (stagepass sets the caller's `sub`). */
  userId: string;
  connected: boolean;
  /** Evidence time (epoch ms) of `connected`; 0 when nothing is known. */
  connectedAt: number;
  publishing: boolean;
  /** Evidence time of `publishing`; 0 when nothing is known. */
  publishingAt: number;
  /**
   * `publishing` is only inferred: a read said the participant published at some point since everything else we
   * know, but its Published event has not come (late, or lost). Its own event list is read to settle it.
   */
  inferred?: boolean;
  /** IVS's `published`: the participant published at some point of the session. */
  publishedEver: boolean;
  /** IVS's `firstJoinTime`, or the first evidence of the participant. */
  joinedAt: string | null;
  /** When the participant was first seen disconnected. */
  leftAt: string | null;
  /** When its event list was last read (ListParticipantEvents); 0 never. */
  verifiedAt: number;
  /** stagepass's record of it: undefined until looked up, null when stagepass did not issue it. */
  issued?: IssuedInfo | null;
}

export type ReadKind = "stage" | "participants" | "events";

/** Where a read that takes more than one page continues. */
export type ReadCursor =
  | { kind: "participants"; sessionId: string; nextToken: string; startedAt: number }
  | {
      kind: "events";
      sessionId: string;
      participantId: string;
      nextToken: string;
      startedAt: number;
      lastJoin: "JOINED" | "LEFT" | null;
      lastPublish: "PUBLISH_STARTED" | "PUBLISH_STOPPED" | null;
    };

export interface LiveState {
  /** The current session, or the latest one when it is over; null before anyone joined. */
  sessionId: string | null;
  /** Earliest evidence time of that session. */
  sessionSince: number;
  /** When the session was seen over (GetStage: no or another active session); null while it may be active. */
  sessionEndedAt: number | null;
  endedSessions: string[];
  /** When IVS was last read for this room, whatever the read (epoch ms); null never. */
  readAt: number | null;
  /**
   * How fresh the state is: when the last complete list of the session's participants was asked for (or when IVS
   * said nobody was on stage); null before that. A GetStage that finds a session does not move it: the session's
   * participants are not known yet.
   */
  asOf: number | null;
  lastRead: ReadKind | null;
  cursor: ReadCursor | null;
  participants: Record<string, LiveParticipant>;
}

/** A Stage Update event, as shared/live/events.ts reads it from EventBridge. */
export interface StageEvent {
  sessionId: string;
  name: "published" | "unpublished" | "other";
  participantId: string;
  userId: string;
  /** Evidence time: the latest moment the event can have happened (epoch ms). */
  at: number;
}

export interface ParticipantSummary {
  participantId: string;
  userId: string;
  state: "CONNECTED" | "DISCONNECTED";
  firstJoinTime: string | null;
  published: boolean;
}

export interface ParticipantEventSummary {
  name: string;
  eventTime: number;
}

/** What an IVS read returned; `at` is when the request was sent (the state it returns held at least since). */
export type IvsRead =
  | { kind: "stage"; at: number; activeSessionId: string | null }
  | {
      kind: "participants";
      at: number;
      sessionId: string;
      participants: ParticipantSummary[];
      nextToken: string | null;
    }
  | {
      kind: "events";
      at: number;
      sessionId: string;
      participantId: string;
      events: ParticipantEventSummary[];
      nextToken: string | null;
    };

/** The read a refresh should make next. */
export type ReadRequest =
  | { kind: "stage" }
  | { kind: "participants"; sessionId: string; nextToken: string | null }
  | { kind: "events"; sessionId: string; participantId: string; nextToken: string | null };

export const emptyLiveState = (): LiveState => ({
  sessionId: null,
  sessionSince: 0,
  sessionEndedAt: null,
  endedSessions: [],
  readAt: null,
  asOf: null,
  lastRead: null,
  cursor: null,
  participants: {},
});

/** Last writer wins by evidence time; on a tie, `false` wins (so the outcome does not depend on arrival order). */
const wins = (at: number, value: boolean, currentAt: number, current: boolean) =>
  at > currentAt || (at === currentAt && !value && current);

const iso = (ms: number) => new Date(ms).toISOString();
/** The earlier of two ISO times (either may be missing), so that the order evidence arrives in does not matter. */
const earlier = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a <= b ? a : b);

function blank(participantId: string, userId: string): LiveParticipant {
  return {
    participantId,
    userId,
    connected: false,
    connectedAt: 0,
    publishing: false,
    publishingAt: 0,
    publishedEver: false,
    joinedAt: null,
    leftAt: null,
    verifiedAt: 0,
  };
}

/** Sets `connected` from evidence at `at`, keeping `leftAt` (first seen gone) and `publishing` (gone = not publishing). */
function withConnected(p: LiveParticipant, connected: boolean, at: number): LiveParticipant {
  let next = p;
  if (wins(at, connected, p.connectedAt, p.connected)) {
    next = {
      ...next,
      connected,
      connectedAt: at,
      leftAt: connected ? null : p.connected || p.leftAt === null ? iso(at) : p.leftAt,
    };
  }
  if (!connected) next = withPublishing(next, false, at);
  return next;
}

function withPublishing(p: LiveParticipant, publishing: boolean, at: number): LiveParticipant {
  if (!wins(at, publishing, p.publishingAt, p.publishing)) return p;
  const { inferred: _inferred, ...rest } = p;
  return { ...rest, publishing, publishingAt: at, publishedEver: p.publishedEver || publishing };
}

/**
 * The state with `sessionId` as its session, as evidence at `at` says; undefined when that evidence is about a
 * session that is over or older than the one held (it then changes nothing).
 */
function inSession(state: LiveState, sessionId: string, at: number): LiveState | undefined {
  if (state.sessionId === sessionId) return state;
  if (state.endedSessions.includes(sessionId)) return undefined;
  if (state.sessionId !== null && at <= state.sessionSince) return undefined;
  return {
    ...state,
    sessionId,
    sessionSince: at,
    sessionEndedAt: null,
    endedSessions:
      state.sessionId === null
        ? state.endedSessions
        : [state.sessionId, ...state.endedSessions].slice(0, MAX_ENDED_SESSIONS),
    cursor: null,
    participants: {},
  };
}

function withParticipant(state: LiveState, p: LiveParticipant): LiveState {
  return { ...state, participants: { ...state.participants, [p.participantId]: p } };
}

/** Merges one Stage Update event. Events of a session that is over, or older than the one held, change nothing. */
export function applyStageEvent(state: LiveState, event: StageEvent): LiveState {
  if (event.name === "other") return state;
  const s = inSession(state, event.sessionId, event.at);
  if (!s || s.sessionEndedAt !== null) return state;
  const before = s.participants[event.participantId] ?? blank(event.participantId, event.userId);
  let p = before;
  if (event.name === "published") {
    // Publishing implies being connected at that moment.
    p = withPublishing(withConnected(p, true, event.at), true, event.at);
    const joinedAt = earlier(p.joinedAt, iso(event.at));
    if (joinedAt !== p.joinedAt) p = { ...p, joinedAt };
  } else {
    // An Unpublished says the participant published before.
    p = withPublishing(p, false, event.at);
    if (!p.publishedEver) p = { ...p, publishedEver: true };
  }
  if (p === before && s === state && state.participants[event.participantId]) return state;
  return prune(withParticipant(s, p));
}

/** Merges what an IVS read returned, and moves the read cursor on. */
export function applyRead(state: LiveState, read: IvsRead): LiveState {
  const stamped = (s: LiveState): LiveState => ({
    ...s,
    readAt: Math.max(s.readAt ?? 0, read.at),
    lastRead: read.kind,
  });
  switch (read.kind) {
    case "stage":
      return stamped(applyStageRead(state, read.at, read.activeSessionId));
    case "participants": {
      if (state.sessionId !== read.sessionId) return stamped({ ...state, cursor: null });
      let s = state;
      for (const summary of read.participants)
        s = withParticipant(s, mergeSummary(s.participants[summary.participantId], summary, read.at));
      const startedAt =
        state.cursor?.kind === "participants" && state.cursor.sessionId === read.sessionId
          ? state.cursor.startedAt
          : read.at;
      return stamped(
        prune({
          ...s,
          cursor: read.nextToken
            ? { kind: "participants", sessionId: read.sessionId, nextToken: read.nextToken, startedAt }
            : null,
          asOf: read.nextToken ? s.asOf : Math.max(s.asOf ?? 0, startedAt),
        }),
      );
    }
    case "events":
      return stamped(applyEventsPage(state, read));
  }
}

function applyStageRead(state: LiveState, at: number, active: string | null): LiveState {
  if (active === null) {
    // Nobody on stage: the session held is over (unless this read predates our first evidence of it).
    if (state.sessionId !== null && state.sessionEndedAt === null && at <= state.sessionSince) return state;
    const asOf = Math.max(state.asOf ?? 0, at);
    if (state.sessionId === null || state.sessionEndedAt !== null) return { ...state, asOf };
    const participants = Object.fromEntries(
      Object.entries(state.participants).map(([id, p]) => [id, withConnected(p, false, at)]),
    );
    return { ...state, sessionEndedAt: at, cursor: null, participants, asOf };
  }
  if (active === state.sessionId) return state;
  const switched = inSession(state, active, at);
  if (!switched) return state;
  // The session held before is over: what is left of it can no longer be published to.
  return switched;
}

function mergeSummary(existing: LiveParticipant | undefined, summary: ParticipantSummary, at: number): LiveParticipant {
  let p = existing ?? blank(summary.participantId, summary.userId);
  if (summary.firstJoinTime !== null) p = { ...p, joinedAt: earlier(p.joinedAt, summary.firstJoinTime) };
  if (summary.userId && summary.userId !== p.userId) p = { ...p, userId: summary.userId };
  if (summary.state === "DISCONNECTED") {
    p = withConnected(p, false, at);
    return summary.published && !p.publishedEver ? { ...p, publishedEver: true } : p;
  }
  p = withConnected(p, true, at);
  // Never published this session: not publishing now.
  if (!summary.published) return withPublishing(p, false, at);
  // Published at some point, yet everything we know of its publishing said "never" (no Published or Unpublished
  // event came): it published after all of that, and its event is late or lost. Most likely it still publishes:
  // inferred as of just after what we knew (so that any event since replaces it), and confirmed from its own
  // event list by a later read.
  if (!p.publishedEver) return { ...withPublishing(p, true, p.publishingAt + 1), inferred: true };
  return p;
}

function applyEventsPage(state: LiveState, read: Extract<IvsRead, { kind: "events" }>): LiveState {
  const cursor =
    state.cursor?.kind === "events" &&
    state.cursor.participantId === read.participantId &&
    state.cursor.sessionId === read.sessionId
      ? state.cursor
      : {
          kind: "events" as const,
          sessionId: read.sessionId,
          participantId: read.participantId,
          nextToken: "",
          startedAt: read.at,
          lastJoin: null,
          lastPublish: null,
        };
  let { lastJoin, lastPublish } = cursor;
  for (const e of [...read.events].sort((a, b) => a.eventTime - b.eventTime)) {
    if (e.name === "JOINED" || e.name === "LEFT") lastJoin = e.name;
    if (e.name === "PUBLISH_STARTED" || e.name === "PUBLISH_STOPPED") lastPublish = e.name;
  }
  if (read.nextToken) return { ...state, cursor: { ...cursor, nextToken: read.nextToken, lastJoin, lastPublish } };
  const done = { ...state, cursor: null };
  const existing = state.sessionId === read.sessionId ? state.participants[read.participantId] : undefined;
  if (!existing) return done;
  // The whole list is read: it is the participant's state as of the first page's request.
  const at = cursor.startedAt;
  let p: LiveParticipant = { ...existing, verifiedAt: Math.max(existing.verifiedAt, at) };
  if (lastJoin !== null) p = withConnected(p, lastJoin === "JOINED", at);
  p = withPublishing(p, lastPublish === "PUBLISH_STARTED" && p.connected, at);
  return withParticipant(done, p);
}

/** Keeps the state's size bounded: the oldest disconnected participants go first. */
function prune(state: LiveState): LiveState {
  const all = Object.values(state.participants);
  if (all.length <= MAX_PARTICIPANTS) return state;
  const gone = all.filter((p) => !p.connected).sort((a, b) => a.connectedAt - b.connectedAt);
  const drop = new Set(gone.slice(0, all.length - MAX_PARTICIPANTS).map((p) => p.participantId));
  return {
    ...state,
    participants: Object.fromEntries(Object.entries(state.participants).filter(([id]) => !drop.has(id))),
  };
}

/** The session is active, as far as is known. */
export const isLive = (state: LiveState) => state.sessionId !== null && state.sessionEndedAt === null;

export function liveCounts(state: LiveState): { connected: number; publishing: number } {
  if (!isLive(state)) return { connected: 0, publishing: 0 };
  let connected = 0;
  let publishing = 0;
  for (const p of Object.values(state.participants)) {
    if (!p.connected) continue;
    connected += 1;
    if (p.publishing) publishing += 1;
  }
  return { connected, publishing };
}

/** Latest evidence the counts rest on (a read, or an event), epoch ms; 0 when there is none. */
export function countsEvidenceAt(state: LiveState): number {
  let at = state.readAt ?? 0;
  for (const p of Object.values(state.participants)) at = Math.max(at, p.connectedAt, p.publishingAt);
  return Math.max(at, state.sessionEndedAt ?? 0);
}

/** Participants stagepass has not looked up in its own records yet. */
export const unannotated = (state: LiveState): string[] =>
  Object.values(state.participants)
    .filter((p) => p.issued === undefined)
    .map((p) => p.participantId);

/** Adds what stagepass's records say about participants (null: not issued by stagepass). */
export function annotate(state: LiveState, found: Record<string, IssuedInfo | null>): LiveState {
  let s = state;
  for (const [id, issued] of Object.entries(found)) {
    const p = s.participants[id];
    if (p && p.issued === undefined) s = withParticipant(s, { ...p, issued });
  }
  return s;
}

/**
 * The read a refresh makes next, one IVS call: GetStage when no session is known to be active (or everyone seems
 * gone: is the session over, or has a new one begun?); otherwise ListParticipants, page by page, every other read
 * given to a participant whose publishing is not confirmed (inferred from a read, or unconfirmed for
 * `verifyAfterMs`): its own event list (ListParticipantEvents) says whether it is publishing now.
 */
export function nextRead(state: LiveState, now: number, verifyAfterMs = DEFAULT_VERIFY_AFTER_MS): ReadRequest {
  if (!isLive(state) || state.sessionId === null) return { kind: "stage" };
  const sessionId = state.sessionId;
  const connected = Object.values(state.participants).filter((p) => p.connected);
  if (connected.length === 0 && state.lastRead !== "stage" && state.cursor?.kind !== "participants")
    return { kind: "stage" };
  const cursor = state.cursor;
  if (cursor?.kind === "participants" && cursor.sessionId === sessionId)
    return { kind: "participants", sessionId, nextToken: cursor.nextToken };
  if (state.lastRead !== "events") {
    if (cursor?.kind === "events" && cursor.sessionId === sessionId && state.participants[cursor.participantId]) {
      return { kind: "events", sessionId, participantId: cursor.participantId, nextToken: cursor.nextToken };
    }
    if (state.lastRead === "participants") {
      const due = connected
        .filter(
          (p) =>
            p.publishedEver && (p.inferred === true || now - Math.max(p.verifiedAt, p.publishingAt) >= verifyAfterMs),
        )
        .sort((a, b) => Math.max(a.verifiedAt, a.publishingAt) - Math.max(b.verifiedAt, b.publishingAt))[0];
      if (due) return { kind: "events", sessionId, participantId: due.participantId, nextToken: null };
    }
  }
  return { kind: "participants", sessionId, nextToken: null };
}

export interface LiveParticipantView {
  participantId: string;
  userId: string;
  displayName: string | null;
  role: string | null;
  state: "connected" | "disconnected";
  publishing: boolean;
  joinedAt: string | null;
  leftAt?: string;
}

/**
 * What `GET /rooms/{roomId}/participants` shows: the current session's connected participants, or with `all` every
 * participant of the latest session. Newest joins last.
 */
export function participantsView(state: LiveState, which: "connected" | "all") {
  const live = isLive(state);
  const sessionId = which === "all" ? state.sessionId : live ? state.sessionId : null;
  const listed =
    sessionId === null ? [] : Object.values(state.participants).filter((p) => which === "all" || (live && p.connected));
  const participants = listed
    .map((p): LiveParticipantView => {
      const connected = live && p.connected;
      const leftAt = connected
        ? null
        : (p.leftAt ?? (state.sessionEndedAt !== null ? iso(state.sessionEndedAt) : null));
      return {
        participantId: p.participantId,
        userId: p.userId,
        displayName: p.issued?.displayName ?? null,
        role: p.issued?.role ?? null,
        state: connected ? "connected" : "disconnected",
        publishing: connected && p.publishing,
        joinedAt: p.joinedAt,
        ...(leftAt !== null ? { leftAt } : {}),
      };
    })
    .sort(
      (a, b) => (a.joinedAt ?? "").localeCompare(b.joinedAt ?? "") || a.participantId.localeCompare(b.participantId),
    );
  return { sessionId, asOf: state.asOf === null ? null : iso(state.asOf), counts: liveCounts(state), participants };
}
