// IVS Real-Time behind a small interface: the calls stagepass makes, with IVS's failures mapped to problem
// errors. Throttling is retried with backoff inside the request's budget, then answered 429; 5xx and timeouts
// are retried while time allows, then answered 503. ListStages is the only call without a stage ARN.
// A stage that IVS no longer has is always a StageNotFoundError (a 404), except where gone is what the call wants:
// deleteStage and disconnectParticipant succeed.
import {
  CreateStageCommand,
  DeleteStageCommand,
  DisconnectParticipantCommand,
  GetStageCommand,
  IVSRealTimeClient,
  ListParticipantEventsCommand,
  ListParticipantsCommand,
  ListStagesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-ivs-realtime";
import { NotFoundError } from "../errors.ts";
import type { ParticipantEventSummary, ParticipantSummary } from "../live/state.ts";
import { stageIdOf } from "../rooms/room.ts";
import { CALL_TIMEOUT_MS, call, nameOf } from "./ivs-call.ts";

/** IVS no longer has the stage (deleted behind the room's back). A 404 unless the caller decides otherwise. */
export class StageNotFoundError extends NotFoundError {
  constructor(
    readonly stageArn: string,
    options?: { cause?: unknown },
  ) {
    super(`the stage of room ${stageIdOf(stageArn)} no longer exists`, options);
  }
}

const isNotFound = (error: unknown) => nameOf(error) === "ResourceNotFoundException";

/** Runs a call on one stage: IVS's ResourceNotFoundException becomes StageNotFoundError. */
async function onStage<T>(stageArn: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isNotFound(error)) throw new StageNotFoundError(stageArn, { cause: error });
    throw error;
  }
}

export interface Stage {
  stageArn: string;
  name: string;
  activeSessionId: string | null;
  endpoints: { events?: string; whip?: string };
  tags: Record<string, string>;
}

export function createIvsClient(): IVSRealTimeClient {
  // Our own retry loop decides, within the request's budget; the SDK makes one attempt per call.
  return new IVSRealTimeClient({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: CALL_TIMEOUT_MS },
  });
}

// One exported function per IVS operation, so that each bundle holds (and its IAM role allows) only what it calls.

export async function createStage(
  client: IVSRealTimeClient,
  input: { name: string; tags: Record<string, string> },
  deadline: number,
): Promise<Stage> {
  const out = await call("CreateStage", deadline, ({ signal: abortSignal }) =>
    client.send(new CreateStageCommand({ name: input.name, tags: input.tags }), { abortSignal }),
  );
  return toStage(out.stage!);
}

export async function getStage(client: IVSRealTimeClient, stageArn: string, deadline: number): Promise<Stage> {
  const out = await onStage(stageArn, () =>
    call("GetStage", deadline, ({ signal: abortSignal }) =>
      client.send(new GetStageCommand({ arn: stageArn }), { abortSignal }),
    ),
  );
  return toStage(out.stage!);
}

export async function updateStageName(
  client: IVSRealTimeClient,
  stageArn: string,
  name: string,
  deadline: number,
): Promise<void> {
  await onStage(stageArn, () =>
    call("UpdateStage", deadline, ({ signal: abortSignal }) =>
      client.send(new UpdateStageCommand({ arn: stageArn, name }), { abortSignal }),
    ),
  );
}

/** Deletes the stage; a stage that is already gone is not an error. */
export async function deleteStage(client: IVSRealTimeClient, stageArn: string, deadline: number): Promise<void> {
  try {
    await call("DeleteStage", deadline, ({ signal: abortSignal }) =>
      client.send(new DeleteStageCommand({ arn: stageArn }), { abortSignal }),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function listStages(
  client: IVSRealTimeClient,
  maxResults: number,
  nextToken: string | undefined,
  deadline: number,
) {
  const out = await call("ListStages", deadline, ({ signal: abortSignal }) =>
    client.send(new ListStagesCommand({ maxResults, ...(nextToken ? { nextToken } : {}) }), { abortSignal }),
  );
  return {
    stages: (out.stages ?? []).map((s) => ({
      stageArn: s.arn!,
      name: s.name ?? "",
      activeSessionId: s.activeSessionId || null,
      tags: s.tags ?? {},
    })),
    nextToken: out.nextToken || undefined,
  };
}

/** Disconnects (and revokes) a participant; one IVS no longer knows (or whose stage is gone) is already gone, which is fine. */
export async function disconnectParticipant(
  client: IVSRealTimeClient,
  stageArn: string,
  participantId: string,
  reason: string | undefined,
  deadline: number,
): Promise<void> {
  try {
    await call("DisconnectParticipant", deadline, ({ signal: abortSignal }) =>
      client.send(new DisconnectParticipantCommand({ stageArn, participantId, ...(reason ? { reason } : {}) }), {
        abortSignal,
      }),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function listTags(
  client: IVSRealTimeClient,
  stageArn: string,
  deadline: number,
): Promise<Record<string, string>> {
  const out = await onStage(stageArn, () =>
    call("ListTagsForResource", deadline, ({ signal: abortSignal }) =>
      client.send(new ListTagsForResourceCommand({ resourceArn: stageArn }), { abortSignal }),
    ),
  );
  return out.tags ?? {};
}

export async function tagStage(
  client: IVSRealTimeClient,
  stageArn: string,
  tags: Record<string, string>,
  deadline: number,
): Promise<void> {
  await onStage(stageArn, () =>
    call("TagResource", deadline, ({ signal: abortSignal }) =>
      client.send(new TagResourceCommand({ resourceArn: stageArn, tags }), { abortSignal }),
    ),
  );
}

export async function untagStage(
  client: IVSRealTimeClient,
  stageArn: string,
  tagKeys: string[],
  deadline: number,
): Promise<void> {
  await onStage(stageArn, () =>
    call("UntagResource", deadline, ({ signal: abortSignal }) =>
      client.send(new UntagResourceCommand({ resourceArn: stageArn, tagKeys }), { abortSignal }),
    ),
  );
}

function toStage(s: {
  arn?: string;
  name?: string;
  activeSessionId?: string;
  endpoints?: { events?: string; whip?: string };
  tags?: Record<string, string>;
}): Stage {
  return {
    stageArn: s.arn!,
    name: s.name ?? "",
    activeSessionId: s.activeSessionId || null,
    endpoints: {
      ...(s.endpoints?.events ? { events: s.endpoints.events } : {}),
      ...(s.endpoints?.whip ? { whip: s.endpoints.whip } : {}),
    },
    tags: s.tags ?? {},
  };
}

// Live reads (shared/live/refresh.ts): one attempt each, never retried here. Each call spends one slot of the
// account's IVS read budget (shared/live/budget.ts); a failure leaves the room with what it already knew.

/** The stage's active session id; null when nobody is on stage or the stage is gone. */
export async function readActiveSession(
  client: IVSRealTimeClient,
  stageArn: string,
  timeoutMs: number,
): Promise<string | null> {
  try {
    const out = await client.send(new GetStageCommand({ arn: stageArn }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    return out.stage?.activeSessionId || null;
  } catch (error) {
    if (nameOf(error) === "ResourceNotFoundException") return null;
    throw error;
  }
}

/** One page (up to 100) of a session's participants, connected or not. */
export async function readParticipantsPage(
  client: IVSRealTimeClient,
  stageArn: string,
  sessionId: string,
  nextToken: string | null,
  timeoutMs: number,
): Promise<{ participants: ParticipantSummary[]; nextToken: string | null }> {
  const out = await client.send(
    new ListParticipantsCommand({ stageArn, sessionId, maxResults: 100, ...(nextToken ? { nextToken } : {}) }),
    { abortSignal: AbortSignal.timeout(timeoutMs) },
  );
  return {
    participants: (out.participants ?? [])
      .filter((p) => p.participantId)
      .map((p) => ({
        participantId: p.participantId!,
        userId: p.userId ?? "",
        state: p.state === "CONNECTED" ? "CONNECTED" : "DISCONNECTED",
        firstJoinTime: p.firstJoinTime ? new Date(p.firstJoinTime).toISOString() : null,
        published: p.published === true,
      })),
    nextToken: out.nextToken || null,
  };
}

/** One page (up to 100) of what happened to one participant in a session. */
export async function readParticipantEventsPage(
  client: IVSRealTimeClient,
  stageArn: string,
  sessionId: string,
  participantId: string,
  nextToken: string | null,
  timeoutMs: number,
): Promise<{ events: ParticipantEventSummary[]; nextToken: string | null }> {
  const out = await client.send(
    new ListParticipantEventsCommand({
      stageArn,
      sessionId,
      participantId,
      maxResults: 100,
      ...(nextToken ? { nextToken } : {}),
    }),
    { abortSignal: AbortSignal.timeout(timeoutMs) },
  );
  return {
    events: (out.events ?? [])
      .filter((e) => e.name && e.eventTime)
      .map((e) => ({ name: e.name!, eventTime: new Date(e.eventTime!).getTime() })),
    nextToken: out.nextToken || null,
  };
}
