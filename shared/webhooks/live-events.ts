// The webhook events of a room's live state changing: room.started / room.ended (a stage session begins / ends) and
// participant.joined / left / published / unpublished, from the state before and after one update (an IVS event
// applied, or an IVS read). Whoever writes the live state calls this with both and publishes what it returns.
//
// The state converges from evidence that comes late, twice or out of order, so the same change can be seen by two
// updates that raced, or again by a retried invocation: each event's id is derived from the change itself (room,
// session, participant, what, and the evidence time), so those duplicates reach the receiver with one webhook-id.
import {
  derivedEventId,
  webhookEvent,
  type ParticipantData,
  type WebhookEvent,
  type WebhookEventType,
} from "./events.ts";

/** As much of a participant's live state as the events need. */
export interface LiveParticipantView {
  participantId: string;
  /** IVS's user id; stagepass sets the caller's `sub`. */
  userId: string;
  connected: boolean;
  /** Evidence time (epoch ms) of `connected`. */
  connectedAt: number;
  publishing: boolean;
  /** Evidence time (epoch ms) of `publishing`. */
  publishingAt: number;
  /** IVS's first join time (ISO 8601), when known. */
  joinedAt?: string | null;
  /** stagepass's record of it: null when stagepass did not issue it, undefined while not looked up. */
  issued?: unknown;
}

/** As much of a room's live state as the events need. */
export interface LiveStateView {
  sessionId: string | null;
  /** When the session was seen over; null while it may be active. */
  sessionEndedAt: number | null;
  participants: Record<string, LiveParticipantView>;
}

const active = (s: LiveStateView | undefined): string | null =>
  s && s.sessionId !== null && s.sessionEndedAt === null ? s.sessionId : null;

export function liveStateEvents(
  roomId: string,
  before: LiveStateView | undefined,
  after: LiveStateView,
  now: number,
): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const was = active(before);
  const is = active(after);
  const make = <T extends WebhookEventType>(type: T, data: WebhookEvent<T>["data"], at: number, key: string) =>
    events.push(webhookEvent(type, data, at, derivedEventId(`${roomId}\n${key}\n${at}`, type)));

  if (was !== null && was !== is)
    make("room.ended", { roomId, sessionId: was }, after.sessionId === was ? (after.sessionEndedAt ?? now) : now, was);
  if (is !== null && is !== was) make("room.started", { roomId, sessionId: is }, now, is);
  if (after.sessionId === null) return events;

  // Participants of the same session are compared with what they were; a session new to this state starts from nobody.
  const previous = before && before.sessionId === after.sessionId ? before.participants : {};
  for (const p of Object.values(after.participants)) {
    const old = previous[p.participantId];
    // A user id only for a participant stagepass issued: another token's user id may be anything, an e-mail address too.
    const data: ParticipantData = {
      roomId,
      sessionId: after.sessionId,
      participantId: p.participantId,
      userId: p.issued ? p.userId : null,
    };
    const key = `${after.sessionId}\n${p.participantId}`;
    // First seen already gone (joined and left between two reads): both, the join at IVS's first join time.
    const cameAndWent = !old && !p.connected && !!p.joinedAt;
    if (p.connected && !old?.connected) make("participant.joined", data, p.connectedAt || now, key);
    if (cameAndWent) make("participant.joined", data, Date.parse(p.joinedAt!), key);
    if (p.publishing && !old?.publishing) make("participant.published", data, p.publishingAt || now, key);
    if (!p.publishing && old?.publishing) make("participant.unpublished", data, p.publishingAt || now, key);
    if ((!p.connected && old?.connected) || cameAndWent) make("participant.left", data, p.connectedAt || now, key);
  }
  return events;
}
