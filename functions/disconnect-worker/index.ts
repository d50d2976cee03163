// Completes the disconnects that a request could not finish within its budget (IVS allows 5 per second per
// account). A record that fails is reported back (ReportBatchItemFailures) and SQS retries it, then dead-letters.
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createIvsClient, disconnectParticipant } from "#shared/aws/ivs.ts";
import { logger } from "#shared/logger.ts";
import { countQueuedDisconnect, withMetrics, useMetricsPublisher } from "#shared/metrics.ts";
import { powertoolsPublisher } from "#shared/metrics-powertools.ts";
import type { DisconnectJob } from "#shared/moderation/disconnect.ts";

useMetricsPublisher(powertoolsPublisher());
const ivs = createIvsClient();
/** Spacing between calls, to stay under IVS's 5 DisconnectParticipant calls per second. */
const SPACING_MS = 220;

export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  withMetrics(context, () => disconnect(event));

async function disconnect(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    let job: DisconnectJob;
    try {
      job = JSON.parse(record.body) as DisconnectJob;
      if (typeof job.stageArn !== "string" || typeof job.participantId !== "string") throw new Error("malformed job");
    } catch {
      logger.error("dropping a malformed disconnect job", { messageId: record.messageId });
      continue;
    }
    try {
      await disconnectParticipant(ivs, job.stageArn, job.participantId, job.reason, Date.now() + 5_000);
      countQueuedDisconnect("completed");
    } catch (error) {
      logger.warn("disconnect failed; SQS will retry", {
        participantId: job.participantId,
        error: (error as Error).message,
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      countQueuedDisconnect("failed");
    }
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  return { batchItemFailures };
}
