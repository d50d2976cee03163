// Disconnecting participants under IVS's 5 calls per second: as many as the request's budget allows now, the
// rest queued for the disconnect worker, which retries until done.
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { disconnectParticipant } from "../aws/ivs.ts";
import { ProblemError, UpstreamUnavailableError } from "../errors.ts";
import { logger } from "../logger.ts";
import { countDisconnectsQueued } from "../metrics.ts";

export interface DisconnectJob {
  roomId: string;
  stageArn: string;
  participantId: string;
  reason?: string | undefined;
}

export interface DisconnectDeps {
  ivs: IVSRealTimeClient;
  sqs: SQSClient;
  queueUrl: string | undefined;
}

/** How long a request spends disconnecting before it hands the rest to the queue. */
const INLINE_BUDGET_MS = 2_000;
const INLINE_CONCURRENCY = 4;

export async function disconnectAll(
  deps: DisconnectDeps,
  jobs: DisconnectJob[],
  deadline: number,
): Promise<{ disconnected: string[]; pending: string[] }> {
  const until = Math.min(deadline, Date.now() + INLINE_BUDGET_MS);
  const disconnected: string[] = [];
  const leftover: DisconnectJob[] = [];
  let next = 0;
  let throttled = false;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      if (throttled || Date.now() >= until) {
        leftover.push(job);
        continue;
      }
      try {
        await disconnectParticipant(deps.ivs, job.stageArn, job.participantId, job.reason, until);
        disconnected.push(job.participantId);
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        // Throttled or failing: stop hammering IVS and let the queue finish the job.
        throttled = true;
        leftover.push(job);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(INLINE_CONCURRENCY, jobs.length) }, worker));
  if (leftover.length > 0) await enqueue(deps, leftover);
  return { disconnected, pending: leftover.map((j) => j.participantId) };
}

export async function enqueue(deps: DisconnectDeps, jobs: DisconnectJob[]): Promise<void> {
  if (!deps.queueUrl) throw new UpstreamUnavailableError("no disconnect queue is configured", 2);
  for (let i = 0; i < jobs.length; i += 10) {
    const batch = jobs.slice(i, i + 10);
    try {
      const out = await deps.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: deps.queueUrl,
          Entries: batch.map((job, n) => ({ Id: String(n), MessageBody: JSON.stringify(job) })),
        }),
      );
      if (out.Failed?.length) throw new Error(`${out.Failed.length} messages were not queued`);
      countDisconnectsQueued(batch.length);
    } catch (error) {
      logger.error("could not queue disconnects", { error: error as Error, count: batch.length });
      throw new UpstreamUnavailableError("the disconnect queue did not accept the work", 2, { cause: error });
    }
  }
}
