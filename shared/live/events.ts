// IVS's EventBridge events, read defensively: the envelope (`version`, `id`, `detail-type`, `source`, `account`,
// `time`, `region`, `resources`, `detail`) and the detail of an "IVS Stage Update" (`session_id`, `event_name`,
// `event_time`, `participant_id`, `user_id`). Anything else is ignored with a reason, never thrown: an event that
// cannot be read will not read better on a retry.
import { stageIdOf } from "../rooms/room.ts";
import type { StageEvent } from "./state.ts";

export const IVS_EVENT_SOURCE = "aws.ivs";
export const STAGE_UPDATE = "IVS Stage Update";

const STAGE_ARN = /^arn:aws[a-z-]*:ivs:[a-z0-9-]+:[0-9]{12}:stage\/[a-zA-Z0-9-]{1,64}$/;
const SESSION_ID = /^st-[a-zA-Z0-9]{1,64}$/;
const PARTICIPANT_ID = /^[a-zA-Z0-9-]{1,64}$/;
/** ISO 8601 UTC with optional fractional seconds; its precision decides how late within it the event may be. */
const TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

const EVENT_NAMES: Record<string, StageEvent["name"]> = {
  "Participant Published": "published",
  "Participant Unpublished": "unpublished",
};

export type ParsedEvent =
  | { kind: "stage"; roomId: string; stageArn: string; eventId: string; event: StageEvent }
  | { kind: "ignored"; reason: string; roomId?: string };

/**
 * The latest moment (epoch ms) a timestamp can stand for: `12:00:01Z` may be any time in that second, so 12:00:01.999.
 * Undefined when it is not a timestamp.
 */
export function latestMomentOf(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = TIME.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return undefined;
  const digits = m[2]?.length ?? 0;
  // 1 s with no fraction, 100 ms with one digit, 10 ms with two; a millisecond or finer is exact.
  const span = digits >= 3 ? 0 : 10 ** (3 - digits) - 1;
  return ms + span;
}

export function parseStageUpdate(input: unknown): ParsedEvent {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return { kind: "ignored", reason: "not an EventBridge event" };
  const e = input as Record<string, unknown>;
  if (e.source !== IVS_EVENT_SOURCE || e["detail-type"] !== STAGE_UPDATE) {
    return { kind: "ignored", reason: `not an ${STAGE_UPDATE} event from ${IVS_EVENT_SOURCE}` };
  }
  const resources = Array.isArray(e.resources) ? e.resources : [];
  const stageArn = resources.find((r): r is string => typeof r === "string" && STAGE_ARN.test(r));
  if (!stageArn) return { kind: "ignored", reason: "no stage ARN in resources" };
  const roomId = stageIdOf(stageArn);
  const d = (typeof e.detail === "object" && e.detail !== null ? e.detail : {}) as Record<string, unknown>;
  const name = typeof d.event_name === "string" ? d.event_name : undefined;
  if (name === undefined) return { kind: "ignored", reason: "no event_name", roomId };
  if (typeof d.session_id !== "string" || !SESSION_ID.test(d.session_id))
    return { kind: "ignored", reason: "no valid session_id", roomId };
  if (typeof d.participant_id !== "string" || !PARTICIPANT_ID.test(d.participant_id)) {
    return { kind: "ignored", reason: "no valid participant_id", roomId };
  }
  // IVS's own event_time when it sends one, else EventBridge's time of the event.
  const at = latestMomentOf(d.event_time) ?? latestMomentOf(e.time);
  if (at === undefined) return { kind: "ignored", reason: "no valid event time", roomId };
  return {
    kind: "stage",
    roomId,
    stageArn,
    eventId: typeof e.id === "string" ? e.id : "",
    event: {
      sessionId: d.session_id,
      name: Object.hasOwn(EVENT_NAMES, name) ? EVENT_NAMES[name]! : "other",
      participantId: d.participant_id,
      userId: typeof d.user_id === "string" ? d.user_id : "",
      at,
    },
  };
}
