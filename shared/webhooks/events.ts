// Webhook events: what changed in a room, as the application that receives the webhooks sees it (docs/webhooks.md).
// An event gets its id when it is made, where the change happens; that id is the `webhook-id` of every delivery
// attempt, so a receiver deduplicates with it. Payloads are thin: ids (rooms, users, participants, sessions) and
// what changed, never a name, a title, a reason typed by a moderator or anything else a person wrote.
import { createHash, randomBytes } from "node:crypto";

/** Every event type, in the order docs/webhooks.md lists them. */
export const WEBHOOK_EVENT_TYPES = [
  "room.created",
  "room.updated",
  "room.deleted",
  "room.started",
  "room.ended",
  "participant.joined",
  "participant.left",
  "participant.published",
  "participant.unpublished",
  "participant.kicked",
  "user.banned",
  "user.unbanned",
  "member.set",
  "member.removed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each type carries in `data`. `actorId` is the user whose request made the change. */
export interface WebhookEventData {
  "room.created": { roomId: string; ownerId: string; actorId: string };
  "room.updated": { roomId: string; fields: string[]; version: number; actorId: string };
  "room.deleted": { roomId: string; actorId: string };
  "room.started": { roomId: string; sessionId: string };
  "room.ended": { roomId: string; sessionId: string };
  "participant.joined": ParticipantData;
  "participant.left": ParticipantData;
  "participant.published": ParticipantData;
  "participant.unpublished": ParticipantData;
  "participant.kicked": {
    roomId: string;
    userId: string;
    participantIds: string[];
    banMinutes: number;
    actorId: string;
  };
  "user.banned": { roomId: string; userId: string; until: string; actorId: string };
  "user.unbanned": { roomId: string; userId: string; actorId: string };
  "member.set": { roomId: string; userId: string; role: string; previousRole: string | null; actorId: string };
  "member.removed": { roomId: string; userId: string; previousRole: string; actorId: string };
}

/** A participant of a stage session; `userId` is null for a participant whose token stagepass did not issue. */
export interface ParticipantData {
  roomId: string;
  sessionId: string;
  participantId: string;
  userId: string | null;
}

export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  type: T;
  /** `evt_` and 32 lowercase hex digits: no `.`, as the signature scheme requires of an id. */
  id: string;
  /** When the change happened (ISO 8601, UTC), not when it is delivered. */
  timestamp: string;
  data: WebhookEventData[T];
}

export const EVENT_ID = /^evt_[0-9a-f]{32}$/;

/** A fresh id, for a change made now. */
export function newEventId(): string {
  return `evt_${randomBytes(16).toString("hex")}`;
}

/**
 * The id of an event derived from something that can arrive more than once (an IVS EventBridge event, by its own
 * id): the same source gives the same id, so a duplicate reaches the receiver as a retry it already deduplicates.
 */
export function derivedEventId(source: string, type: WebhookEventType): string {
  return `evt_${createHash("sha256").update(`${type}\n${source}`).digest("hex").slice(0, 32)}`;
}

export function webhookEvent<T extends WebhookEventType>(
  type: T,
  data: WebhookEventData[T],
  at: number,
  id = newEventId(),
): WebhookEvent<T> {
  return { type, id, timestamp: new Date(at).toISOString(), data };
}

/** The body every attempt posts, byte for byte: `{"type","id","timestamp","data"}`. */
export function serializeEvent(event: WebhookEvent): string {
  return JSON.stringify({ type: event.type, id: event.id, timestamp: event.timestamp, data: event.data });
}

/**
 * Where events go: the delivery queue (shared/webhooks/sink.ts). `send` never throws and is bounded in time: a
 * request that changed something has done its work, and a webhook that cannot be queued never fails it.
 */
export interface WebhookSink {
  send(events: WebhookEvent[]): Promise<void>;
}

/**
 * Hands events to the sink, if webhooks are on. Called by a use case after its change is written. Never throws,
 * even if a sink does.
 */
export async function publish(deps: { webhooks?: WebhookSink | undefined }, ...events: WebhookEvent[]): Promise<void> {
  if (!deps.webhooks || events.length === 0) return;
  try {
    await deps.webhooks.send(events);
  } catch {
    // A sink's own failures are logged and counted by the sink; nothing of it reaches the request.
  }
}
