// IVS Real-Time behind a small interface: the calls stagepass makes, with IVS's failures mapped to problem
// errors. Throttling is retried with backoff inside the request's budget, then answered 429; 5xx and timeouts
// are retried while time allows, then answered 503. ListStages is the only call without a stage ARN.
import {
  CreateStageCommand, DeleteStageCommand, DisconnectParticipantCommand, GetStageCommand,
  IVSRealTimeClient, ListStagesCommand, ListTagsForResourceCommand, TagResourceCommand, UntagResourceCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-ivs-realtime";
import { CALL_TIMEOUT_MS, call, nameOf } from "./ivs-call.ts";

export class StageNotFoundError extends Error {}

export interface Stage {
  stageArn: string;
  name: string;
  activeSessionId: string | null;
  endpoints: { events?: string; whip?: string };
  tags: Record<string, string>;
}

export function createIvsClient(): IVSRealTimeClient {
  // Our own retry loop decides, within the request's budget; the SDK makes one attempt per call.
  return new IVSRealTimeClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 1_000, requestTimeout: CALL_TIMEOUT_MS } });
}

// One exported function per IVS operation, so that each bundle holds (and its IAM role allows) only what it calls.

export async function createStage(client: IVSRealTimeClient, input: { name: string; tags: Record<string, string> }, deadline: number): Promise<Stage> {
  const out = await call("CreateStage", deadline, ({ signal: abortSignal }) =>
    client.send(new CreateStageCommand({ name: input.name, tags: input.tags }), { abortSignal }));
  return toStage(out.stage!);
}

/** The stage, or undefined when IVS has no such stage. */
export async function getStage(client: IVSRealTimeClient, stageArn: string, deadline: number): Promise<Stage | undefined> {
  try {
    const out = await call("GetStage", deadline, ({ signal: abortSignal }) => client.send(new GetStageCommand({ arn: stageArn }), { abortSignal }));
    return toStage(out.stage!);
  } catch (error) {
    if (nameOf(error) === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

export async function updateStageName(client: IVSRealTimeClient, stageArn: string, name: string, deadline: number): Promise<void> {
  try {
    await call("UpdateStage", deadline, ({ signal: abortSignal }) => client.send(new UpdateStageCommand({ arn: stageArn, name }), { abortSignal }));
  } catch (error) {
    if (nameOf(error) === "ResourceNotFoundException") throw new StageNotFoundError(stageArn, { cause: error });
    throw error;
  }
}

/** Deletes the stage; a stage that is already gone is not an error. */
export async function deleteStage(client: IVSRealTimeClient, stageArn: string, deadline: number): Promise<void> {
  try {
    await call("DeleteStage", deadline, ({ signal: abortSignal }) => client.send(new DeleteStageCommand({ arn: stageArn }), { abortSignal }));
  } catch (error) {
    if (nameOf(error) !== "ResourceNotFoundException") throw error;
  }
}

export async function listStages(client: IVSRealTimeClient, maxResults: number, nextToken: string | undefined, deadline: number) {
  const out = await call("ListStages", deadline, ({ signal: abortSignal }) =>
    client.send(new ListStagesCommand({ maxResults, ...(nextToken ? { nextToken } : {}) }), { abortSignal }));
  return {
    stages: (out.stages ?? []).map((s) => ({ stageArn: s.arn!, name: s.name ?? "", activeSessionId: s.activeSessionId || null, tags: s.tags ?? {} })),
    nextToken: out.nextToken || undefined,
  };
}

/** Disconnects (and revokes) a participant; one IVS no longer knows is already gone, which is fine. */
export async function disconnectParticipant(
  client: IVSRealTimeClient, stageArn: string, participantId: string, reason: string | undefined, deadline: number,
): Promise<void> {
  try {
    await call("DisconnectParticipant", deadline, ({ signal: abortSignal }) => client.send(new DisconnectParticipantCommand({
      stageArn, participantId, ...(reason ? { reason } : {}),
    }), { abortSignal }));
  } catch (error) {
    if (nameOf(error) !== "ResourceNotFoundException") throw error;
  }
}

export async function listTags(client: IVSRealTimeClient, stageArn: string, deadline: number): Promise<Record<string, string>> {
  const out = await call("ListTagsForResource", deadline, ({ signal: abortSignal }) =>
    client.send(new ListTagsForResourceCommand({ resourceArn: stageArn }), { abortSignal }));
  return out.tags ?? {};
}

export async function tagStage(client: IVSRealTimeClient, stageArn: string, tags: Record<string, string>, deadline: number): Promise<void> {
  await call("TagResource", deadline, ({ signal: abortSignal }) => client.send(new TagResourceCommand({ resourceArn: stageArn, tags }), { abortSignal }));
}

export async function untagStage(client: IVSRealTimeClient, stageArn: string, tagKeys: string[], deadline: number): Promise<void> {
  await call("UntagResource", deadline, ({ signal: abortSignal }) => client.send(new UntagResourceCommand({ resourceArn: stageArn, tagKeys }), { abortSignal }));
}

function toStage(s: { arn?: string; name?: string; activeSessionId?: string; endpoints?: { events?: string; whip?: string }; tags?: Record<string, string> }): Stage {
  return {
    stageArn: s.arn!,
    name: s.name ?? "",
    activeSessionId: s.activeSessionId || null,
    endpoints: { ...(s.endpoints?.events ? { events: s.endpoints.events } : {}), ...(s.endpoints?.whip ? { whip: s.endpoints.whip } : {}) },
    tags: s.tags ?? {},
  };
}
