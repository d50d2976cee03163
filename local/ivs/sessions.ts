/**
 * What happens on one stage while people are on it: stage sessions, the participants of each session, the events
 * IVS records for them (ListParticipantEvents) and the per-stage publisher quota.
 *
 * - A session begins when the first participant joins and ends when the last connected participant leaves (or is
 *   disconnected, or the stage is deleted). The service model says a session "ends after the last participant
 *   leaves the stage"; the user guide, "a few minutes after the last participant stops publishing". The emulator
 *   ends it at once, so that tests need not wait.
 * - A participant is a participant of a session: a participant id that joins again in a later session is a new
 *   participant of that session (firstJoinTime, published and events start afresh); one that leaves and joins
 *   again within the same session keeps its record (a second JOINED event).
 * - Events recorded, as the model names them: JOINED, LEFT, PUBLISH_STARTED, PUBLISH_STOPPED, PUBLISH_ERROR
 *   (errorCode INSUFFICIENT_CAPABILITIES or QUOTA_EXCEEDED) and TOKEN_EXCHANGED (with `previousToken` and
 *   `newToken`). Subscriptions are not simulated, so there are no SUBSCRIBE_* events.
 * - The publish-related ones and the token exchange are also sent to EventBridge, as IVS sends them ("IVS Stage
 *   Update"): Participant Published, Participant Unpublished, Participant Publish Error, Token Exchanged. IVS sends
 *   no EventBridge event for a join, a leave, or a session's start or end.
 * - A token exchange (the broadcast SDK's `exchangeToken`) swaps a connected participant's capabilities, attributes,
 *   user id and expiry in place: same participant, same session, no LEFT / JOINED. A publisher whose new token lacks
 *   PUBLISH stops publishing at once (TOKEN_EXCHANGED, then PUBLISH_STOPPED).
 */
import type { Capability, ParticipantRecordingState, ParticipantState } from "./model.ts";
import { MAX_PUBLISHERS_PER_STAGE } from "./model.ts";

export type ParticipantEventName =
  "JOINED" | "LEFT" | "PUBLISH_STARTED" | "PUBLISH_STOPPED" | "PUBLISH_ERROR" | "TOKEN_EXCHANGED";
export type ParticipantEventErrorCode = "INSUFFICIENT_CAPABILITIES" | "QUOTA_EXCEEDED";

/** `detail.event_name` of the "IVS Stage Update" events the emulator sends. */
export type StageUpdateEventName =
  "Participant Published" | "Participant Unpublished" | "Participant Publish Error" | "Token Exchanged";

const EVENTBRIDGE_NAME: Partial<Record<ParticipantEventName, StageUpdateEventName>> = {
  PUBLISH_STARTED: "Participant Published",
  PUBLISH_STOPPED: "Participant Unpublished",
  PUBLISH_ERROR: "Participant Publish Error",
  TOKEN_EXCHANGED: "Token Exchanged",
};

/** A change IVS reports to EventBridge (the emulator's events.ts wraps it in EventBridge's envelope). */
export interface StageUpdate {
  stageArn: string;
  sessionId: string;
  eventName: StageUpdateEventName;
  participantId: string;
  userId: string;
  /** Epoch milliseconds. */
  time: number;
}

/** What a TOKEN_EXCHANGED event says of the token before and after (the model's ExchangedParticipantToken). */
export interface ExchangedToken {
  capabilities: Capability[];
  attributes: Record<string, string>;
  userId: string;
  /** Epoch milliseconds. */
  expirationTime: number;
}

export interface ParticipantEventRecord {
  seq: number;
  name: ParticipantEventName;
  participantId: string;
  eventTime: number;
  errorCode?: ParticipantEventErrorCode;
  previousToken?: ExchangedToken;
  newToken?: ExchangedToken;
}

/**
 * The token a participant is connected with, as far as a later exchange needs it: how it was signed, the claims an
 * exchange may not change, and when it expires.
 */
export interface ConnectedToken {
  /** Signed with an imported key pair (self-signed), rather than issued by CreateParticipantToken. */
  keyPair: boolean;
  /** `topic`, `resource`, `jti`, `whip_url`, `events_url` as the token carried them. */
  immutable: Record<string, unknown>;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface SessionParticipant {
  /** Order of first join within the session (pagination). */
  seq: number;
  sessionId: string;
  participantId: string;
  userId: string;
  attributes: Record<string, string>;
  capabilities: Capability[];
  /** The token it is (or was last) connected with. */
  token: ConnectedToken;
  state: ParticipantState;
  firstJoinTime: number;
  /** Ever published in this session. */
  published: boolean;
  /** Publishing now. */
  publishing: boolean;
  events: ParticipantEventRecord[];
}

export interface SessionRecord {
  seq: number;
  id: string;
  startTime: number;
  endTime?: number;
  participants: Map<string, SessionParticipant>;
}

export interface Joiner {
  participantId: string;
  userId: string;
  attributes: Record<string, string>;
  capabilities: Capability[];
  token: ConnectedToken;
}

/** How a publish attempt ends; the refusals are what the IVS broadcast SDK reports to the client. */
export type PublishOutcome =
  | { ok: true }
  | { ok: false; reason: "not-connected" }
  | { ok: false; reason: "insufficient-capabilities" }
  | { ok: false; reason: "stage-at-capacity" };

export interface StageLiveContext {
  stageArn: string;
  now(): number;
  nextSeq(): number;
  newSessionId(): string;
  emit(update: StageUpdate): void;
}

export class StageLive {
  private readonly sessionsById = new Map<string, SessionRecord>();
  private active: SessionRecord | undefined;
  /** The latest session record of every participant id that ever joined, in order of first join. */
  private readonly latest = new Map<string, SessionParticipant>();

  constructor(private readonly ctx: StageLiveContext) {}

  get activeSessionId(): string | undefined {
    return this.active?.id;
  }

  session(sessionId: string): SessionRecord | undefined {
    return this.sessionsById.get(sessionId);
  }

  sessions(): SessionRecord[] {
    return [...this.sessionsById.values()];
  }

  /** The participant's record in its latest session, if it ever joined. */
  participant(participantId: string): SessionParticipant | undefined {
    return this.latest.get(participantId);
  }

  /** Everyone who ever joined, each with its latest record, in order of first join. */
  everyone(): SessionParticipant[] {
    return [...this.latest.values()];
  }

  publishers(): number {
    let n = 0;
    for (const p of this.active?.participants.values() ?? []) if (p.publishing) n++;
    return n;
  }

  /**
   * A verified client joins; a no-op for one already connected. One that left and joins again within the session
   * keeps its record, with what its (possibly newer) token says. Returns the session it is in.
   */
  join(joiner: Joiner): SessionRecord {
    const now = this.ctx.now();
    let session = this.active;
    if (!session) {
      session = { seq: this.ctx.nextSeq(), id: this.ctx.newSessionId(), startTime: now, participants: new Map() };
      this.sessionsById.set(session.id, session);
      this.active = session;
    }
    let participant = session.participants.get(joiner.participantId);
    if (participant?.state === "CONNECTED") return session;
    if (!participant) {
      participant = {
        seq: this.ctx.nextSeq(),
        sessionId: session.id,
        participantId: joiner.participantId,
        userId: joiner.userId,
        attributes: { ...joiner.attributes },
        capabilities: [...joiner.capabilities],
        token: joiner.token,
        state: "CONNECTED",
        firstJoinTime: now,
        published: false,
        publishing: false,
        events: [],
      };
      session.participants.set(participant.participantId, participant);
    } else {
      participant.userId = joiner.userId;
      participant.attributes = { ...joiner.attributes };
      participant.capabilities = [...joiner.capabilities];
      participant.token = joiner.token;
    }
    participant.state = "CONNECTED";
    this.latest.set(participant.participantId, participant);
    this.record(session, participant, "JOINED");
    return session;
  }

  /** The participant leaves (or is disconnected): it stops publishing first; the last one out ends the session. */
  leave(participantId: string): void {
    const session = this.active;
    const participant = session?.participants.get(participantId);
    if (!session || participant?.state !== "CONNECTED") return;
    if (participant.publishing) {
      participant.publishing = false;
      this.record(session, participant, "PUBLISH_STOPPED");
    }
    participant.state = "DISCONNECTED";
    this.record(session, participant, "LEFT");
    if (![...session.participants.values()].some((p) => p.state === "CONNECTED")) {
      session.endTime = this.ctx.now();
      this.active = undefined;
    }
  }

  /** Everyone leaves (the stage is deleted). */
  leaveAll(): void {
    for (const p of [...(this.active?.participants.values() ?? [])]) this.leave(p.participantId);
  }

  publish(participantId: string): PublishOutcome {
    const session = this.active;
    const participant = session?.participants.get(participantId);
    if (!session || participant?.state !== "CONNECTED") return { ok: false, reason: "not-connected" };
    if (participant.publishing) return { ok: true };
    if (!participant.capabilities.includes("PUBLISH")) {
      this.record(session, participant, "PUBLISH_ERROR", "INSUFFICIENT_CAPABILITIES");
      return { ok: false, reason: "insufficient-capabilities" };
    }
    if (this.publishers() >= MAX_PUBLISHERS_PER_STAGE) {
      this.record(session, participant, "PUBLISH_ERROR", "QUOTA_EXCEEDED");
      return { ok: false, reason: "stage-at-capacity" };
    }
    participant.publishing = true;
    participant.published = true;
    this.record(session, participant, "PUBLISH_STARTED");
    return { ok: true };
  }

  /** Stops publishing; a no-op for one that is not publishing. */
  unpublish(participantId: string): void {
    const session = this.active;
    const participant = session?.participants.get(participantId);
    if (!session || !participant?.publishing) return;
    participant.publishing = false;
    this.record(session, participant, "PUBLISH_STOPPED");
  }

  /**
   * A connected participant's token is swapped in place (the caller has checked the new token: see state.ts). The
   * new capabilities apply at once: a publisher that loses PUBLISH stops publishing. False when the participant is
   * not connected.
   */
  exchange(participantId: string, next: Omit<Joiner, "participantId">): boolean {
    const session = this.active;
    const participant = session?.participants.get(participantId);
    if (!session || participant?.state !== "CONNECTED") return false;
    const previousToken = exchangedToken(participant);
    participant.userId = next.userId;
    participant.attributes = { ...next.attributes };
    participant.capabilities = [...next.capabilities];
    participant.token = next.token;
    this.record(session, participant, "TOKEN_EXCHANGED", undefined, {
      previousToken,
      newToken: exchangedToken(participant),
    });
    if (participant.publishing && !participant.capabilities.includes("PUBLISH")) {
      participant.publishing = false;
      this.record(session, participant, "PUBLISH_STOPPED");
    }
    return true;
  }

  private record(
    session: SessionRecord,
    participant: SessionParticipant,
    name: ParticipantEventName,
    errorCode?: ParticipantEventErrorCode,
    tokens?: { previousToken: ExchangedToken; newToken: ExchangedToken },
  ): void {
    const eventTime = this.ctx.now();
    const event: ParticipantEventRecord = {
      seq: this.ctx.nextSeq(),
      name,
      participantId: participant.participantId,
      eventTime,
    };
    if (errorCode) event.errorCode = errorCode;
    if (tokens) Object.assign(event, tokens);
    participant.events.push(event);
    const eventName = EVENTBRIDGE_NAME[name];
    if (eventName) {
      this.ctx.emit({
        stageArn: this.ctx.stageArn,
        sessionId: session.id,
        eventName,
        participantId: participant.participantId,
        userId: participant.userId,
        time: eventTime,
      });
    }
  }
}

function exchangedToken(p: SessionParticipant): ExchangedToken {
  return {
    capabilities: [...p.capabilities],
    attributes: { ...p.attributes },
    userId: p.userId,
    expirationTime: p.token.expiresAt,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output shapes (as the model names them)
// ---------------------------------------------------------------------------------------------------------------

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Recording is not emulated beyond this: with auto participant recording on the stage, a publisher is ACTIVE
 * while it publishes and STOPPED after; everyone else (and everyone on a stage without it) is DISABLED.
 */
export function recordingStateOf(p: SessionParticipant, recordingOn: boolean): ParticipantRecordingState {
  if (!recordingOn || !p.published) return "DISABLED";
  return p.publishing ? "ACTIVE" : "STOPPED";
}

export interface ParticipantSummaryJson {
  participantId: string;
  userId: string;
  state: ParticipantState;
  firstJoinTime: string;
  published: boolean;
  recordingState: ParticipantRecordingState;
  replicationType: "NONE";
}

export interface ParticipantDetailJson extends ParticipantSummaryJson {
  attributes: Record<string, string>;
  recordingS3BucketName?: string;
  recordingS3Prefix?: string;
}

export function participantSummaryJson(p: SessionParticipant, recordingOn: boolean): ParticipantSummaryJson {
  return {
    participantId: p.participantId,
    userId: p.userId,
    state: p.state,
    firstJoinTime: iso(p.firstJoinTime),
    published: p.published,
    recordingState: recordingStateOf(p, recordingOn),
    replicationType: "NONE",
  };
}

export function participantDetailJson(p: SessionParticipant, recordingOn: boolean): ParticipantDetailJson {
  const json: ParticipantDetailJson = { ...participantSummaryJson(p, recordingOn), attributes: { ...p.attributes } };
  // "" when individual participant recording is not enabled, as the model documents; the emulator has no storage
  // configurations to name a bucket from, so it leaves them out when recording is on.
  if (json.recordingState === "DISABLED") {
    json.recordingS3BucketName = "";
    json.recordingS3Prefix = "";
  }
  return json;
}

export interface ExchangedParticipantTokenJson {
  capabilities: Capability[];
  attributes: Record<string, string>;
  userId: string;
  expirationTime: string;
}

export interface ParticipantEventJson {
  name: ParticipantEventName;
  participantId: string;
  eventTime: string;
  errorCode?: ParticipantEventErrorCode;
  previousToken?: ExchangedParticipantTokenJson;
  newToken?: ExchangedParticipantTokenJson;
}

const exchangedTokenJson = (t: ExchangedToken): ExchangedParticipantTokenJson => ({
  capabilities: [...t.capabilities],
  attributes: { ...t.attributes },
  userId: t.userId,
  expirationTime: iso(t.expirationTime),
});

export function participantEventJson(e: ParticipantEventRecord): ParticipantEventJson {
  const json: ParticipantEventJson = { name: e.name, participantId: e.participantId, eventTime: iso(e.eventTime) };
  if (e.errorCode) json.errorCode = e.errorCode;
  if (e.previousToken) json.previousToken = exchangedTokenJson(e.previousToken);
  if (e.newToken) json.newToken = exchangedTokenJson(e.newToken);
  return json;
}

export interface StageSessionJson {
  sessionId: string;
  startTime: string;
  endTime?: string;
}

export function stageSessionJson(s: SessionRecord): StageSessionJson {
  const json: StageSessionJson = { sessionId: s.id, startTime: iso(s.startTime) };
  if (s.endTime !== undefined) json.endTime = iso(s.endTime);
  return json;
}
