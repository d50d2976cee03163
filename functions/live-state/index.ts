// IVS's Stage Update events (EventBridge) kept as each room's live state. An event for a stage that no room owns
// changes nothing and is counted (IvsEventsIgnored, docs/operations.md); a malformed one too. An event that cannot be
// stored (DynamoDB failing) fails the invocation: Lambda retries it, then the function's dead-letter queue keeps it.
// The room is then read from IVS, when its state is older than its read interval and the account's read budget
// allows (joins and leaves send no event: only reads see them).
import { createDocumentClient } from "#shared/aws/dynamo.ts";
import { createIvsClient } from "#shared/aws/ivs.ts";
import { loadConfig } from "#shared/config.ts";
import { parseStageUpdate } from "#shared/live/events.ts";
import { applyEvent, createLiveReader } from "#shared/live/refresh.ts";
import { liveDeps } from "#shared/live/wiring.ts";
import { logger } from "#shared/logger.ts";
import { countIvsEvent, withMetrics, useMetricsPublisher } from "#shared/metrics.ts";
import { powertoolsPublisher } from "#shared/metrics-powertools.ts";
import type { Context } from "aws-lambda";
import { webhookSinkFor } from "#shared/webhooks/wiring.ts";

useMetricsPublisher(powertoolsPublisher());
const config = loadConfig();
const db = { doc: createDocumentClient(), table: config.tableName };
// The room's webhook events (who joined, left, published; sessions begun and ended), when webhooks are on.
const deps = liveDeps(db, createIvsClient(), webhookSinkFor(config.webhookQueueUrl, db));
const reader = createLiveReader(deps);
/** Budget of the read that may follow an event (the function's own timeout is longer). */
const READ_BUDGET_MS = 4_000;

/** Events this container ignored since it started, by why (logged with each, and counted as IvsEventsIgnored). */
const ignored = { malformed: 0, unknownStage: 0 };

export const handler = (event: unknown, context: Context): Promise<void> => withMetrics(context, () => apply(event));

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
