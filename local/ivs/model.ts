/**
 * The parts of the IVS Real-Time service model (ivs-realtime, API version 2020-07-14) that the emulator needs,
 * written out by hand from the Smithy model: HTTP binding and input constraints per operation.
 *
 * This is our own transcription; the reference model is never loaded at runtime.
 *
 * Smithy semantics kept here:
 * - `pattern` is an ECMA-262 regular expression that is *searched* (not implicitly anchored); the model's own
 *   anchors are copied as-is.
 * - string `min`/`max` count Unicode code points; list `min`/`max` count items; map `min`/`max` count entries.
 * - integer `min`/`max` are an inclusive range.
 */

export type Shape = StringShape | IntegerShape | BooleanShape | ListShape | MapShape | StructureShape;

export interface StringShape {
  readonly kind: "string";
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly enum?: readonly string[];
}

export interface IntegerShape {
  readonly kind: "integer";
  readonly min?: number;
  readonly max?: number;
}

export interface BooleanShape {
  readonly kind: "boolean";
}

export interface ListShape {
  readonly kind: "list";
  readonly member: Shape;
  readonly min?: number;
  readonly max?: number;
  readonly uniqueItems?: boolean;
}

export interface MapShape {
  readonly kind: "map";
  readonly key: StringShape;
  readonly value: Shape;
  readonly min?: number;
  readonly max?: number;
}

export interface StructureShape {
  readonly kind: "structure";
  readonly members: Readonly<Record<string, Member>>;
}

export interface Member {
  readonly shape: Shape;
  readonly required?: boolean;
  /** Where the member travels in the HTTP request (restJson1 binding). Default: the JSON body. */
  readonly location?: "body" | "uri" | "query";
}

// ---------------------------------------------------------------------------------------------------------------
// Simple shapes
// ---------------------------------------------------------------------------------------------------------------

const ANY_STRING: StringShape = { kind: "string" };

export const STAGE_ARN: StringShape = {
  kind: "string",
  min: 1,
  max: 128,
  pattern: /^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage\/[a-zA-Z0-9-]+$/,
};

export const PUBLIC_KEY_ARN: StringShape = {
  kind: "string",
  min: 1,
  max: 128,
  pattern: /^arn:aws:ivs:[a-z0-9-]+:[0-9]+:public-key\/[a-zA-Z0-9-]+$/,
};

/**
 * ResourceArn of the tag operations. The model's own pattern (`...:[a-z-]/...`, a single character for the
 * resource type) cannot match any real ARN: a known bug in the model. We accept the resource types the emulator
 * has (stages and public keys) with their own patterns instead.
 */
export const TAGGABLE_RESOURCE_ARN: StringShape = {
  kind: "string",
  min: 1,
  max: 128,
  pattern: /^arn:aws:ivs:[a-z0-9-]+:[0-9]+:(?:stage|public-key)\/[a-zA-Z0-9-]+$/,
};

const STAGE_NAME: StringShape = { kind: "string", min: 0, max: 128, pattern: /^[a-zA-Z0-9-_]*$/ };

const PARTICIPANT_TOKEN_ID: StringShape = { kind: "string", min: 0, max: 64, pattern: /^[a-zA-Z0-9-_]*$/ };

const PARTICIPANT_TOKEN_USER_ID: StringShape = { kind: "string", min: 0, max: 128 };

const PARTICIPANT_TOKEN_DURATION_MINUTES: IntegerShape = { kind: "integer", min: 1, max: 20160 };

const PARTICIPANT_TOKEN_ATTRIBUTES: MapShape = { kind: "map", key: ANY_STRING, value: ANY_STRING };

export const CAPABILITY_VALUES = ["PUBLISH", "SUBSCRIBE"] as const;
export type Capability = (typeof CAPABILITY_VALUES)[number];

const PARTICIPANT_TOKEN_CAPABILITIES: ListShape = {
  kind: "list",
  member: { kind: "string", enum: CAPABILITY_VALUES },
  min: 0,
  max: 2,
};

const TAG_KEY: StringShape = { kind: "string", min: 1, max: 128 };
const TAG_VALUE: StringShape = { kind: "string", min: 0, max: 256 };

export const MAX_TAGS_PER_RESOURCE = 50;

const TAGS: MapShape = { kind: "map", key: TAG_KEY, value: TAG_VALUE, min: 0, max: MAX_TAGS_PER_RESOURCE };

const TAG_KEY_LIST: ListShape = { kind: "list", member: TAG_KEY, min: 0, max: 50 };

const PAGINATION_TOKEN: StringShape = { kind: "string", min: 0, max: 1024, pattern: /^[a-zA-Z0-9+/=_-]*$/ };

const MAX_STAGE_RESULTS: IntegerShape = { kind: "integer", min: 1, max: 100 };
const MAX_PUBLIC_KEY_RESULTS: IntegerShape = { kind: "integer", min: 1, max: 100 };

const DISCONNECT_PARTICIPANT_REASON: StringShape = { kind: "string", min: 0, max: 128 };

/** StageSessionId: exactly 16 characters, `st-` and alphanumerics. */
const STAGE_SESSION_ID: StringShape = { kind: "string", min: 16, max: 16, pattern: /^st-[a-zA-Z0-9]+$/ };

/** ParticipantId of the session APIs: unlike ParticipantTokenId, no `_`. */
const PARTICIPANT_ID: StringShape = { kind: "string", min: 0, max: 64, pattern: /^[a-zA-Z0-9-]*$/ };

const USER_ID: StringShape = { kind: "string", min: 0, max: 128 };

export const PARTICIPANT_STATE_VALUES = ["CONNECTED", "DISCONNECTED"] as const;
export type ParticipantState = (typeof PARTICIPANT_STATE_VALUES)[number];

/** ParticipantRecordingFilterByRecordingState: the recording states one can filter by (DISABLED is not one). */
export const RECORDING_FILTER_VALUES = ["STARTING", "ACTIVE", "STOPPING", "STOPPED", "FAILED"] as const;
export type ParticipantRecordingState = (typeof RECORDING_FILTER_VALUES)[number] | "DISABLED";

const MAX_PARTICIPANT_RESULTS: IntegerShape = { kind: "integer", min: 1, max: 100 };
const MAX_PARTICIPANT_EVENT_RESULTS: IntegerShape = { kind: "integer", min: 1, max: 100 };
const MAX_STAGE_SESSION_RESULTS: IntegerShape = { kind: "integer", min: 1, max: 100 };

/** Searched, not anchored, exactly as the model states it. */
const PUBLIC_KEY_MATERIAL: StringShape = {
  kind: "string",
  pattern: /-----BEGIN PUBLIC KEY-----\r?\n([a-zA-Z0-9+/=\r\n]+)\r?\n-----END PUBLIC KEY-----(\r?\n)?/,
};

const PUBLIC_KEY_NAME: StringShape = { kind: "string", min: 0, max: 128, pattern: /^[a-zA-Z0-9-_]*$/ };

// ---------------------------------------------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------------------------------------------

const PARTICIPANT_TOKEN_CONFIGURATION: StructureShape = {
  kind: "structure",
  members: {
    duration: { shape: PARTICIPANT_TOKEN_DURATION_MINUTES },
    userId: { shape: PARTICIPANT_TOKEN_USER_ID },
    attributes: { shape: PARTICIPANT_TOKEN_ATTRIBUTES },
    capabilities: { shape: PARTICIPANT_TOKEN_CAPABILITIES },
  },
};

const PARTICIPANT_TOKEN_CONFIGURATIONS: ListShape = {
  kind: "list",
  member: PARTICIPANT_TOKEN_CONFIGURATION,
  min: 0,
  max: 12,
};

export const RECORDING_MEDIA_TYPES = ["AUDIO_VIDEO", "AUDIO_ONLY", "NONE"] as const;
export const THUMBNAIL_STORAGE_TYPES = ["SEQUENTIAL", "LATEST"] as const;
export const THUMBNAIL_RECORDING_MODES = ["INTERVAL", "DISABLED"] as const;

const AUTO_PARTICIPANT_RECORDING_CONFIGURATION: StructureShape = {
  kind: "structure",
  members: {
    storageConfigurationArn: {
      required: true,
      shape: {
        kind: "string",
        min: 0,
        max: 128,
        // The model writes `^^$|^arn:...$$`; the doubled anchors are redundant.
        pattern: /^$|^arn:aws:ivs:[a-z0-9-]+:[0-9]+:storage-configuration\/[a-zA-Z0-9-]+$/,
      },
    },
    mediaTypes: { shape: { kind: "list", member: { kind: "string", enum: RECORDING_MEDIA_TYPES }, min: 0, max: 1 } },
    thumbnailConfiguration: {
      shape: {
        kind: "structure",
        members: {
          targetIntervalSeconds: { shape: { kind: "integer", min: 1, max: 86400 } },
          storage: {
            shape: {
              kind: "list",
              member: { kind: "string", enum: THUMBNAIL_STORAGE_TYPES },
              min: 0,
              max: 2,
              uniqueItems: true,
            },
          },
          recordingMode: { shape: { kind: "string", enum: THUMBNAIL_RECORDING_MODES } },
        },
      },
    },
    recordingReconnectWindowSeconds: { shape: { kind: "integer", min: 0, max: 300 } },
    hlsConfiguration: {
      shape: {
        kind: "structure",
        members: { targetSegmentDurationSeconds: { shape: { kind: "integer", min: 2, max: 10 } } },
      },
    },
    recordParticipantReplicas: { shape: { kind: "boolean" } },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------------------------

export const OPERATION_NAMES = [
  "CreateStage",
  "GetStage",
  "UpdateStage",
  "DeleteStage",
  "ListStages",
  "CreateParticipantToken",
  "DisconnectParticipant",
  "TagResource",
  "UntagResource",
  "ListTagsForResource",
  "ImportPublicKey",
  "GetPublicKey",
  "ListPublicKeys",
  "DeletePublicKey",
  "GetParticipant",
  "ListParticipants",
  "ListParticipantEvents",
  "GetStageSession",
  "ListStageSessions",
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

export function isOperationName(value: unknown): value is OperationName {
  return typeof value === "string" && (OPERATION_NAMES as readonly string[]).includes(value);
}

export interface OperationSpec {
  readonly name: OperationName;
  readonly method: "GET" | "POST" | "DELETE";
  /** Either a literal path or `/tags/{resourceArn}`. */
  readonly path: string;
  readonly input: StructureShape;
  /** Published API rate (transactions per second, per account and region). */
  readonly ratePerSecond: number;
}

function struct(members: Record<string, Member>): StructureShape {
  return { kind: "structure", members };
}

export const OPERATIONS: Readonly<Record<OperationName, OperationSpec>> = {
  CreateStage: {
    name: "CreateStage",
    method: "POST",
    path: "/CreateStage",
    ratePerSecond: 5,
    input: struct({
      name: { shape: STAGE_NAME },
      participantTokenConfigurations: { shape: PARTICIPANT_TOKEN_CONFIGURATIONS },
      tags: { shape: TAGS },
      autoParticipantRecordingConfiguration: { shape: AUTO_PARTICIPANT_RECORDING_CONFIGURATION },
    }),
  },
  GetStage: {
    name: "GetStage",
    method: "POST",
    path: "/GetStage",
    ratePerSecond: 5,
    input: struct({ arn: { shape: STAGE_ARN, required: true } }),
  },
  UpdateStage: {
    name: "UpdateStage",
    method: "POST",
    path: "/UpdateStage",
    ratePerSecond: 5,
    input: struct({
      arn: { shape: STAGE_ARN, required: true },
      name: { shape: STAGE_NAME },
      autoParticipantRecordingConfiguration: { shape: AUTO_PARTICIPANT_RECORDING_CONFIGURATION },
    }),
  },
  DeleteStage: {
    name: "DeleteStage",
    method: "POST",
    path: "/DeleteStage",
    ratePerSecond: 5,
    input: struct({ arn: { shape: STAGE_ARN, required: true } }),
  },
  ListStages: {
    name: "ListStages",
    method: "POST",
    path: "/ListStages",
    ratePerSecond: 5,
    input: struct({ nextToken: { shape: PAGINATION_TOKEN }, maxResults: { shape: MAX_STAGE_RESULTS } }),
  },
  CreateParticipantToken: {
    name: "CreateParticipantToken",
    method: "POST",
    path: "/CreateParticipantToken",
    ratePerSecond: 50,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      duration: { shape: PARTICIPANT_TOKEN_DURATION_MINUTES },
      userId: { shape: PARTICIPANT_TOKEN_USER_ID },
      attributes: { shape: PARTICIPANT_TOKEN_ATTRIBUTES },
      capabilities: { shape: PARTICIPANT_TOKEN_CAPABILITIES },
    }),
  },
  DisconnectParticipant: {
    name: "DisconnectParticipant",
    method: "POST",
    path: "/DisconnectParticipant",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      participantId: { shape: PARTICIPANT_TOKEN_ID, required: true },
      reason: { shape: DISCONNECT_PARTICIPANT_REASON },
    }),
  },
  TagResource: {
    name: "TagResource",
    method: "POST",
    path: "/tags/{resourceArn}",
    ratePerSecond: 10,
    input: struct({
      resourceArn: { shape: TAGGABLE_RESOURCE_ARN, required: true, location: "uri" },
      tags: { shape: TAGS, required: true },
    }),
  },
  UntagResource: {
    name: "UntagResource",
    method: "DELETE",
    path: "/tags/{resourceArn}",
    ratePerSecond: 10,
    input: struct({
      resourceArn: { shape: TAGGABLE_RESOURCE_ARN, required: true, location: "uri" },
      tagKeys: { shape: TAG_KEY_LIST, required: true, location: "query" },
    }),
  },
  ListTagsForResource: {
    name: "ListTagsForResource",
    method: "GET",
    path: "/tags/{resourceArn}",
    ratePerSecond: 10,
    input: struct({ resourceArn: { shape: TAGGABLE_RESOURCE_ARN, required: true, location: "uri" } }),
  },
  ImportPublicKey: {
    name: "ImportPublicKey",
    method: "POST",
    path: "/ImportPublicKey",
    ratePerSecond: 3,
    input: struct({
      publicKeyMaterial: { shape: PUBLIC_KEY_MATERIAL, required: true },
      name: { shape: PUBLIC_KEY_NAME },
      tags: { shape: TAGS },
    }),
  },
  GetPublicKey: {
    name: "GetPublicKey",
    method: "POST",
    path: "/GetPublicKey",
    ratePerSecond: 3,
    input: struct({ arn: { shape: PUBLIC_KEY_ARN, required: true } }),
  },
  ListPublicKeys: {
    name: "ListPublicKeys",
    method: "POST",
    path: "/ListPublicKeys",
    ratePerSecond: 3,
    input: struct({ nextToken: { shape: PAGINATION_TOKEN }, maxResults: { shape: MAX_PUBLIC_KEY_RESULTS } }),
  },
  DeletePublicKey: {
    name: "DeletePublicKey",
    method: "POST",
    path: "/DeletePublicKey",
    ratePerSecond: 3,
    input: struct({ arn: { shape: PUBLIC_KEY_ARN, required: true } }),
  },
  GetParticipant: {
    name: "GetParticipant",
    method: "POST",
    path: "/GetParticipant",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      sessionId: { shape: STAGE_SESSION_ID, required: true },
      participantId: { shape: PARTICIPANT_ID, required: true },
    }),
  },
  ListParticipants: {
    name: "ListParticipants",
    method: "POST",
    path: "/ListParticipants",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      sessionId: { shape: STAGE_SESSION_ID, required: true },
      filterByUserId: { shape: USER_ID },
      filterByPublished: { shape: { kind: "boolean" } },
      filterByState: { shape: { kind: "string", enum: PARTICIPANT_STATE_VALUES } },
      filterByRecordingState: { shape: { kind: "string", enum: RECORDING_FILTER_VALUES } },
      nextToken: { shape: PAGINATION_TOKEN },
      maxResults: { shape: MAX_PARTICIPANT_RESULTS },
    }),
  },
  ListParticipantEvents: {
    name: "ListParticipantEvents",
    method: "POST",
    path: "/ListParticipantEvents",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      sessionId: { shape: STAGE_SESSION_ID, required: true },
      participantId: { shape: PARTICIPANT_ID, required: true },
      nextToken: { shape: PAGINATION_TOKEN },
      maxResults: { shape: MAX_PARTICIPANT_EVENT_RESULTS },
    }),
  },
  GetStageSession: {
    name: "GetStageSession",
    method: "POST",
    path: "/GetStageSession",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      sessionId: { shape: STAGE_SESSION_ID, required: true },
    }),
  },
  ListStageSessions: {
    name: "ListStageSessions",
    method: "POST",
    path: "/ListStageSessions",
    ratePerSecond: 5,
    input: struct({
      stageArn: { shape: STAGE_ARN, required: true },
      nextToken: { shape: PAGINATION_TOKEN },
      maxResults: { shape: MAX_STAGE_SESSION_RESULTS },
    }),
  },
};

/** Defaults the service applies (documentation, not model constraints). */
export const DEFAULT_TOKEN_DURATION_MINUTES = 720;
export const DEFAULT_LIST_MAX_RESULTS = 50;
/** The documented (not modeled) limit on participant-token attributes: 1 KB in total, as UTF-8 JSON. */
export const MAX_ATTRIBUTES_BYTES = 1024;
/** Participants that can publish to one stage at once (the service quota "Stage participants (publishers)", fixed). */
export const MAX_PUBLISHERS_PER_STAGE = 12;
