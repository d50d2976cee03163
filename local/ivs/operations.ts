/** The AWS operations: validated input in, the model's output shape out. */
import type { OperationName } from "./model.ts";
import type { IvsState, RecordingConfiguration, Tags, TokenConfiguration } from "./state.ts";
import type { Capability, ParticipantState } from "./model.ts";

/** Input after validation against the operation's constraint table: members have the types the table states. */
type Input = Record<string, unknown>;

const str = (input: Input, name: string): string => input[name] as string;
const optStr = (input: Input, name: string): string | undefined => (input[name] ?? undefined) as string | undefined;
const optInt = (input: Input, name: string): number | undefined => (input[name] ?? undefined) as number | undefined;
const optTags = (input: Input, name: string): Tags | undefined => (input[name] ?? undefined) as Tags | undefined;

function tokenConfiguration(input: Input): TokenConfiguration {
  const config: TokenConfiguration = {};
  const duration = optInt(input, "duration");
  const userId = optStr(input, "userId");
  const attributes = (input.attributes ?? undefined) as Record<string, string> | undefined;
  const capabilities = (input.capabilities ?? undefined) as Capability[] | undefined;
  if (duration !== undefined) config.duration = duration;
  if (userId !== undefined) config.userId = userId;
  if (attributes !== undefined) config.attributes = attributes;
  if (capabilities !== undefined) config.capabilities = capabilities;
  return config;
}

/** Drops JSON nulls (absent members in restJson1) from a validated structure, recursively. */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutNulls(v)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, withoutNulls(v)]),
    ) as T;
  }
  return value;
}

function recording(input: Input): RecordingConfiguration | undefined {
  const value = input.autoParticipantRecordingConfiguration;
  if (value === null || value === undefined) return undefined;
  const config = withoutNulls(value as RecordingConfiguration);
  // Keep only the members the model defines.
  const out: RecordingConfiguration = { storageConfigurationArn: config.storageConfigurationArn };
  if (config.mediaTypes) out.mediaTypes = config.mediaTypes;
  if (config.thumbnailConfiguration) {
    const t = config.thumbnailConfiguration;
    out.thumbnailConfiguration = {};
    if (t.targetIntervalSeconds !== undefined)
      out.thumbnailConfiguration.targetIntervalSeconds = t.targetIntervalSeconds;
    if (t.storage !== undefined) out.thumbnailConfiguration.storage = t.storage;
    if (t.recordingMode !== undefined) out.thumbnailConfiguration.recordingMode = t.recordingMode;
  }
  if (config.recordingReconnectWindowSeconds !== undefined) {
    out.recordingReconnectWindowSeconds = config.recordingReconnectWindowSeconds;
  }
  if (config.hlsConfiguration) {
    out.hlsConfiguration = {};
    const seconds = config.hlsConfiguration.targetSegmentDurationSeconds;
    if (seconds !== undefined) out.hlsConfiguration.targetSegmentDurationSeconds = seconds;
  }
  if (config.recordParticipantReplicas !== undefined) out.recordParticipantReplicas = config.recordParticipantReplicas;
  return out;
}

export function runOperation(state: IvsState, operation: OperationName, input: Input): unknown {
  switch (operation) {
    case "CreateStage": {
      const configs = ((input.participantTokenConfigurations ?? []) as Input[]).map((c) => tokenConfiguration(c));
      const args: Parameters<IvsState["createStage"]>[0] = {};
      const name = optStr(input, "name");
      const tags = optTags(input, "tags");
      const rec = recording(input);
      if (name !== undefined) args.name = name;
      if (tags !== undefined) args.tags = tags;
      if (input.participantTokenConfigurations != null) args.participantTokenConfigurations = configs;
      if (rec) args.autoParticipantRecordingConfiguration = rec;
      return state.createStage(args);
    }
    case "GetStage":
      return { stage: state.getStage(str(input, "arn")) };
    case "UpdateStage": {
      const args: Parameters<IvsState["updateStage"]>[0] = { arn: str(input, "arn") };
      const name = optStr(input, "name");
      const rec = recording(input);
      if (name !== undefined) args.name = name;
      if (rec) args.autoParticipantRecordingConfiguration = rec;
      return { stage: state.updateStage(args) };
    }
    case "DeleteStage":
      state.deleteStage(str(input, "arn"));
      return {};
    case "ListStages":
      return state.listStages(paging(input));
    case "CreateParticipantToken":
      return {
        participantToken: state.createParticipantToken({
          stageArn: str(input, "stageArn"),
          ...tokenConfiguration(input),
        }),
      };
    case "DisconnectParticipant": {
      const args: Parameters<IvsState["disconnectParticipant"]>[0] = {
        stageArn: str(input, "stageArn"),
        participantId: str(input, "participantId"),
      };
      const reason = optStr(input, "reason");
      if (reason !== undefined) args.reason = reason;
      state.disconnectParticipant(args);
      return {};
    }
    case "TagResource":
      state.tagResource(str(input, "resourceArn"), input.tags as Tags);
      return {};
    case "UntagResource":
      state.untagResource(str(input, "resourceArn"), input.tagKeys as string[]);
      return {};
    case "ListTagsForResource":
      return { tags: state.listTagsForResource(str(input, "resourceArn")) };
    case "ImportPublicKey": {
      const args: Parameters<IvsState["importPublicKey"]>[0] = { publicKeyMaterial: str(input, "publicKeyMaterial") };
      const name = optStr(input, "name");
      const tags = optTags(input, "tags");
      if (name !== undefined) args.name = name;
      if (tags !== undefined) args.tags = tags;
      return { publicKey: state.importPublicKey(args) };
    }
    case "GetPublicKey":
      return { publicKey: state.getPublicKey(str(input, "arn")) };
    case "ListPublicKeys":
      return state.listPublicKeys(paging(input));
    case "DeletePublicKey":
      state.deletePublicKey(str(input, "arn"));
      return {};
    case "GetParticipant":
      return {
        participant: state.getParticipant({
          stageArn: str(input, "stageArn"),
          sessionId: str(input, "sessionId"),
          participantId: str(input, "participantId"),
        }),
      };
    case "ListParticipants": {
      const args: Parameters<IvsState["listParticipants"]>[0] = {
        stageArn: str(input, "stageArn"),
        sessionId: str(input, "sessionId"),
        ...paging(input),
      };
      const userId = optStr(input, "filterByUserId");
      const published = (input.filterByPublished ?? undefined) as boolean | undefined;
      const filterState = optStr(input, "filterByState") as ParticipantState | undefined;
      const recordingState = optStr(input, "filterByRecordingState") as
        Parameters<IvsState["listParticipants"]>[0]["filterByRecordingState"] | undefined;
      if (userId !== undefined) args.filterByUserId = userId;
      if (published !== undefined) args.filterByPublished = published;
      if (filterState !== undefined) args.filterByState = filterState;
      if (recordingState !== undefined) args.filterByRecordingState = recordingState;
      return state.listParticipants(args);
    }
    case "ListParticipantEvents":
      return state.listParticipantEvents({
        stageArn: str(input, "stageArn"),
        sessionId: str(input, "sessionId"),
        participantId: str(input, "participantId"),
        ...paging(input),
      });
    case "GetStageSession":
      return {
        stageSession: state.getStageSession({ stageArn: str(input, "stageArn"), sessionId: str(input, "sessionId") }),
      };
    case "ListStageSessions":
      return state.listStageSessions({ stageArn: str(input, "stageArn"), ...paging(input) });
  }
}

function paging(input: Input): { maxResults?: number; nextToken?: string } {
  const out: { maxResults?: number; nextToken?: string } = {};
  const maxResults = optInt(input, "maxResults");
  const nextToken = optStr(input, "nextToken");
  if (maxResults !== undefined) out.maxResults = maxResults;
  if (nextToken !== undefined) out.nextToken = nextToken;
  return out;
}
