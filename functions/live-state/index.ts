// IVS's Stage Update events (EventBridge) kept as each room's live state. An event for a stage that no room owns
// changes nothing and is counted (IvsEventsIgnored, docs/operations.md); a malformed one too. An event that cannot be
// stored (DynamoDB failing) fails the invocation: Lambda retries it, then the function's dead-letter queue keeps it.
// The room is then read from IVS, when its state is older than its read interval and the account's read budget
// allows (joins and leaves send no event: only reads see them).
// Its schedule (WatchLiveRooms, every minute) runs the watch instead: for most of the minute, a sweep every
// LIVE_WATCH_SECONDS of the rooms whose stage has an active session (shared/live/watch.ts), so that joins, leaves
// and sessions are known, and sent as webhooks, though nobody reads the room.
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { loadConfig } from "#shared/config.ts";
import { parseStageUpdate } from "#shared/live/events.ts";
import { applyEvent, createLiveReader } from "#shared/live/refresh.ts";
import { createLiveWatch, watchUntil } from "#shared/live/watch.ts";
import { liveDeps, watchDeps } from "#shared/live/wiring.ts";
import { logger } from "#shared/logger.ts";
import { countIvsEvent, withMetrics, useMetricsPublisher } from "#shared/metrics.ts";
import { powertoolsPublisher } from "#shared/metrics-powertools.ts";
import type { Context } from "aws-lambda";
import { webhookSinkFor } from "#shared/webhooks/wiring.ts";

useMetricsPublisher(powertoolsPublisher());
const config = loadConfig();
const db = { doc: createDocumentClient(), table: config.tableName };
// The room's webhook events (who joined, left, published; sessions begun and ended), when webhooks are on.
const ivs = createIvsClient();
const deps = liveDeps(db, ivs, webhookSinkFor(config.webhookQueueUrl, db));
const reader = createLiveReader(deps);
const watch = createLiveWatch(watchDeps(db, ivs, reader));
/** Time left unused at the end of a scheduled invocation (the function's timeout is 65 s, the schedule 1 minute). */
const WATCH_MARGIN_MS = 8_000;
/** A scheduled invocation watches for at most this long: the next minute's invocation takes over. */
const WATCH_WINDOW_MS = 55_000;
/** Budget of the read that may follow an event (the function's own timeout is longer). */
const READ_BUDGET_MS = 4_000;

/** Events this container ignored since it started, by why (logged with each, and counted as IvsEventsIgnored). */
const ignored = { malformed: 0, unknownStage: 0 };

export const handler = (event: unknown, context: Context): Promise<void> =>
  withMetrics(context, () => (isScheduled(event) ? watchLiveRooms(context) : apply(event)));

const isScheduled = (event: unknown) =>
  (event as { source?: unknown } | null)?.source === "aws.events" &&
  (event as { "detail-type"?: unknown })["detail-type"] === "Scheduled Event";

async function watchLiveRooms(context: Context): Promise<void> {
  if (config.liveWatchSeconds === 0) return;
  const until = Date.now() + Math.min(WATCH_WINDOW_MS, context.getRemainingTimeInMillis() - WATCH_MARGIN_MS);
  await watchUntil(watch, deps.clock, config.liveWatchSeconds * 1000, until, (error) =>
    logger.warn("live watch sweep failed", { error: (error as Error).message }),
  );
}

async function apply(event: unknown): Promise<void> {
  const parsed = parseStageUpdate(event);
  if (parsed.kind === "ignored") {
    ignored.malformed += 1;
    countIvsEvent({ ignored: "malformed" });
    logger.info("event ignored", {
      reason: parsed.reason,
      ...(parsed.roomId ? { roomId: parsed.roomId } : {}),
      ignored,
    });
    return;
  }
  const owned = await applyEvent(deps, parsed.roomId, parsed.event);
  if (!owned) {
    ignored.unknownStage += 1;
    countIvsEvent({ ignored: "unknown_stage" });
    logger.info("event for a stage no room owns ignored", {
      stageArn: parsed.stageArn,
      eventId: parsed.eventId,
      ignored,
    });
    return;
  }
  countIvsEvent("processed");
  try {
    await reader.current({ roomId: parsed.roomId, stageArn: parsed.stageArn }, Date.now() + READ_BUDGET_MS);
  } catch (error) {
    // The event is stored; the read is a bonus, and the next reader of the room makes it.
    logger.warn("live read after an event failed", { roomId: parsed.roomId, error: (error as Error).message });
  }
}
