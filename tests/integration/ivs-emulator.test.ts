/**
 * The IVS Real-Time emulator (local/ivs), driven by the unmodified AWS SDK client: every operation's success shape,
 * every constrained input member, not found and quotas, paging, faults, stats, rates and robustness. Participant
 * tokens, join and disconnect: ivs-emulator-participants.test.ts (helpers for both: tests/support/ivs-emulator.ts).
 *
 * The constraint table below is written out here from the service model on purpose: it must not import the
 * emulator's own table, so that the two are independent transcriptions checking each other.
 */
import { generateKeyPairSync } from "node:crypto";
import {
  CreateParticipantTokenCommand,
  CreateStageCommand,
  DeletePublicKeyCommand,
  DeleteStageCommand,
  DisconnectParticipantCommand,
  GetPublicKeyCommand,
  GetStageCommand,
  ImportPublicKeyCommand,
  IVSRealTimeClient,
  ListPublicKeysCommand,
  ListStagesCommand,
  ListTagsForResourceCommand,
  paginateListStages,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStageCommand,
  ValidationException,
} from "@aws-sdk/client-ivs-realtime";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIvsEmulator } from "../../local/ivs/index.ts";
import type { IvsEmulator } from "../../local/ivs/index.ts";
import {
  ACCOUNT,
  clientFor,
  expectAwsError,
  type AwsErrorLike,
  http,
  KEY_PREFIX,
  p384,
  PUBLIC_KEY_ARN,
  REGION,
  repeat,
  STAGE_ARN,
  STAGE_PREFIX,
  tagsOf,
  UNKNOWN_KEY,
  UNKNOWN_STAGE,
} from "../support/ivs-emulator.ts";

// -----------------------------------------------------------------------------------------------------------------
// Suite
// -----------------------------------------------------------------------------------------------------------------

let emu: IvsEmulator;
let ivs: IVSRealTimeClient;

beforeAll(async () => {
  emu = await startIvsEmulator({ port: 0, maxStages: 100_000 });
  ivs = clientFor(emu);
});

afterAll(async () => {
  ivs?.destroy();
  await emu?.close();
});

async function newStage(input: ConstructorParameters<typeof CreateStageCommand>[0] = {}): Promise<string> {
  const out = await ivs.send(new CreateStageCommand(input));
  return out.stage!.arn!;
}

async function newToken(
  stageArn: string,
  extra: Partial<ConstructorParameters<typeof CreateParticipantTokenCommand>[0]> = {},
) {
  const out = await ivs.send(new CreateParticipantTokenCommand({ stageArn, ...extra }));
  return out.participantToken!;
}

describe("success shapes of the fourteen operations", () => {
  it("CreateStage returns the stage with ARN, endpoints, tags and the requested tokens", async () => {
    const out = await ivs.send(
      new CreateStageCommand({
        name: "my-stage_1",
        tags: { team: "video" },
        participantTokenConfigurations: [
          { userId: "alice", capabilities: ["PUBLISH"], duration: 30, attributes: { role: "host" } },
          {},
        ],
      }),
    );
    const stage = out.stage!;
    expect(stage.arn).toMatch(STAGE_ARN);
    expect(stage.name).toBe("my-stage_1");
    expect(stage.tags).toEqual({ team: "video" });
    expect(stage.activeSessionId).toBeUndefined();
    expect(stage.endpoints?.events).toMatch(/^wss:\/\//);
    expect(stage.endpoints?.whip).toMatch(/^https:\/\//);
    expect(stage.endpoints?.rtmp).toMatch(/^rtmp:\/\//);
    expect(stage.endpoints?.rtmps).toMatch(/^rtmps:\/\//);
    expect(out.participantTokens).toHaveLength(2);
    const [first, second] = out.participantTokens!;
    expect(first).toMatchObject({
      userId: "alice",
      capabilities: ["PUBLISH"],
      duration: 30,
      attributes: { role: "host" },
    });
    expect(second).toMatchObject({ capabilities: ["PUBLISH", "SUBSCRIBE"], duration: 720 });
    expect(first!.participantId).not.toBe(second!.participantId);
  });

  it("GetStage, UpdateStage, ListStages, DeleteStage", async () => {
    const arn = await newStage({ name: "before" });
    const got = await ivs.send(new GetStageCommand({ arn }));
    expect(got.stage).toMatchObject({ arn, name: "before" });

    const updated = await ivs.send(
      new UpdateStageCommand({
        arn,
        name: "after",
        autoParticipantRecordingConfiguration: {
          storageConfigurationArn: `arn:aws:ivs:${REGION}:${ACCOUNT}:storage-configuration/abcDEF123456`,
          mediaTypes: ["AUDIO_ONLY"],
        },
      }),
    );
    expect(updated.stage).toMatchObject({ arn, name: "after" });
    expect(updated.stage?.autoParticipantRecordingConfiguration).toMatchObject({ mediaTypes: ["AUDIO_ONLY"] });
    expect((await ivs.send(new GetStageCommand({ arn }))).stage?.name).toBe("after");

    const listed = await ivs.send(new ListStagesCommand({ maxResults: 100 }));
    expect(Array.isArray(listed.stages)).toBe(true);

    const deleted = await ivs.send(new DeleteStageCommand({ arn }));
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    await expectAwsError(ivs.send(new GetStageCommand({ arn })), "ResourceNotFoundException", 404);
  });

  it("CreateParticipantToken returns the documented shape", async () => {
    const stageArn = await newStage();
    const before = Date.now();
    const token = await newToken(stageArn, { userId: "bob", attributes: { a: "1" }, duration: 60 });
    expect(token.participantId).toMatch(/^[a-zA-Z0-9]{12,}$/);
    expect(token.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(token).toMatchObject({
      userId: "bob",
      attributes: { a: "1" },
      duration: 60,
      capabilities: ["PUBLISH", "SUBSCRIBE"],
    });
    expect(token.expirationTime).toBeInstanceOf(Date);
    const expiresIn = token.expirationTime!.getTime() - before;
    expect(expiresIn).toBeGreaterThan(59 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(60 * 60_000 + 2_000);
  });

  it("DisconnectParticipant answers 200 with an empty body", async () => {
    const stageArn = await newStage();
    const { participantId } = await newToken(stageArn);
    const out = await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId, reason: "bye" }));
    expect(out.$metadata.httpStatusCode).toBe(200);
  });

  it("TagResource, ListTagsForResource, UntagResource", async () => {
    const arn = await newStage({ tags: { a: "1" } });
    await ivs.send(new TagResourceCommand({ resourceArn: arn, tags: { b: "2", c: "3" } }));
    expect((await ivs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({
      a: "1",
      b: "2",
      c: "3",
    });
    await ivs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["a", "c", "missing"] }));
    expect((await ivs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ b: "2" });
    expect((await ivs.send(new GetStageCommand({ arn }))).stage?.tags).toEqual({ b: "2" });
  });

  it("ImportPublicKey, GetPublicKey, ListPublicKeys, DeletePublicKey (and tags on a public key)", async () => {
    const { pem } = p384();
    const imported = (
      await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pem, name: "k1", tags: { x: "y" } }))
    ).publicKey!;
    expect(imported.arn).toMatch(PUBLIC_KEY_ARN);
    expect(imported).toMatchObject({ name: "k1", publicKeyMaterial: pem, tags: { x: "y" } });
    expect(typeof imported.fingerprint).toBe("string");
    expect(imported.fingerprint!.length).toBeGreaterThan(0);

    const got = (await ivs.send(new GetPublicKeyCommand({ arn: imported.arn! }))).publicKey!;
    expect(got).toEqual(imported);

    const listed = await ivs.send(new ListPublicKeysCommand({}));
    expect(listed.publicKeys?.map((k) => k.arn)).toContain(imported.arn);
    expect(listed.publicKeys?.find((k) => k.arn === imported.arn)).toEqual({
      arn: imported.arn,
      name: "k1",
      tags: { x: "y" },
    });

    await ivs.send(new TagResourceCommand({ resourceArn: imported.arn!, tags: { z: "1" } }));
    expect((await ivs.send(new ListTagsForResourceCommand({ resourceArn: imported.arn! }))).tags).toEqual({
      x: "y",
      z: "1",
    });

    await expectAwsError(ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pem })), "ConflictException", 409);

    await ivs.send(new DeletePublicKeyCommand({ arn: imported.arn! }));
    await expectAwsError(ivs.send(new GetPublicKeyCommand({ arn: imported.arn! })), "ResourceNotFoundException", 404);
    await expectAwsError(
      ivs.send(new DeletePublicKeyCommand({ arn: imported.arn! })),
      "ResourceNotFoundException",
      404,
    );
  });
});

// -----------------------------------------------------------------------------------------------------------------
// Constraint table (transcribed from the model for this test)
// -----------------------------------------------------------------------------------------------------------------

type Op =
  | "CreateStage"
  | "GetStage"
  | "UpdateStage"
  | "DeleteStage"
  | "ListStages"
  | "CreateParticipantToken"
  | "DisconnectParticipant"
  | "TagResource"
  | "UntagResource"
  | "ListTagsForResource"
  | "ImportPublicKey"
  | "GetPublicKey"
  | "ListPublicKeys"
  | "DeletePublicKey";

type AnyCommand = Parameters<IVSRealTimeClient["send"]>[0];
const COMMANDS: Record<Op, unknown> = {
  CreateStage: CreateStageCommand,
  GetStage: GetStageCommand,
  UpdateStage: UpdateStageCommand,
  DeleteStage: DeleteStageCommand,
  ListStages: ListStagesCommand,
  CreateParticipantToken: CreateParticipantTokenCommand,
  DisconnectParticipant: DisconnectParticipantCommand,
  TagResource: TagResourceCommand,
  UntagResource: UntagResourceCommand,
  ListTagsForResource: ListTagsForResourceCommand,
  ImportPublicKey: ImportPublicKeyCommand,
  GetPublicKey: GetPublicKeyCommand,
  ListPublicKeys: ListPublicKeysCommand,
  DeletePublicKey: DeletePublicKeyCommand,
};

function call(client: IVSRealTimeClient, op: Op, input: Record<string, unknown>): Promise<unknown> {
  const Command = COMMANDS[op] as unknown as new (input: Record<string, unknown>) => AnyCommand;
  return client.send(new Command(input));
}

/** Values the rows need, filled in by beforeAll. */
const ctx = {
  stageArn: "",
  otherPem: () => p384().pem,
  /** Stages for rows that add tags, so that rows do not add up to the 50-tag quota. */
  pool: [] as string[],
  poolStage: (): string => ctx.pool.pop() ?? "pool exhausted",
};

/** "passes": the input passes validation (200, or ResourceNotFoundException depending on earlier state). */
type Expect = "ValidationException" | "ResourceNotFoundException" | "ok" | "passes";
interface Row {
  op: Op;
  member: string;
  why: string;
  input: () => Record<string, unknown>;
  expect: Expect;
}

const storageArn = `arn:aws:ivs:${REGION}:${ACCOUNT}:storage-configuration/abcDEF123456`;
const rec = (extra: Record<string, unknown>) => ({ storageConfigurationArn: storageArn, ...extra });
const longStageArn = (length: number) => STAGE_PREFIX + repeat(length - STAGE_PREFIX.length, "A");
const longKeyArn = (length: number) => KEY_PREFIX + repeat(length - KEY_PREFIX.length, "A");
const V: Expect = "ValidationException";

function stageArnRows(op: Op, member: string, rest: () => Record<string, unknown>): Row[] {
  return [
    { op, member, why: "missing (required)", input: () => rest(), expect: V },
    { op, member, why: "empty (length < 1)", input: () => ({ ...rest(), [member]: "" }), expect: V },
    {
      op,
      member,
      why: "a channel ARN (pattern)",
      input: () => ({ ...rest(), [member]: `arn:aws:ivs:${REGION}:${ACCOUNT}:channel/abc` }),
      expect: V,
    },
    {
      op,
      member,
      why: "a stage ARN with '_' (pattern)",
      input: () => ({ ...rest(), [member]: `${STAGE_PREFIX}abc_def` }),
      expect: V,
    },
    {
      op,
      member,
      why: "129 characters (length)",
      input: () => ({ ...rest(), [member]: longStageArn(129) }),
      expect: V,
    },
    {
      op,
      member,
      why: "128 characters, unknown stage",
      input: () => ({ ...rest(), [member]: longStageArn(128) }),
      expect: "ResourceNotFoundException",
    },
  ];
}

function keyArnRows(op: Op): Row[] {
  return [
    { op, member: "arn", why: "missing (required)", input: () => ({}), expect: V },
    { op, member: "arn", why: "a stage ARN (pattern)", input: () => ({ arn: ctx.stageArn }), expect: V },
    { op, member: "arn", why: "129 characters (length)", input: () => ({ arn: longKeyArn(129) }), expect: V },
    {
      op,
      member: "arn",
      why: "128 characters, unknown key",
      input: () => ({ arn: longKeyArn(128) }),
      expect: "ResourceNotFoundException",
    },
  ];
}

function tagArnRows(op: Op, rest: () => Record<string, unknown>): Row[] {
  return [
    {
      op,
      member: "resourceArn",
      why: "a channel ARN (pattern)",
      input: () => ({ ...rest(), resourceArn: `arn:aws:ivs:${REGION}:${ACCOUNT}:channel/abc` }),
      expect: V,
    },
    {
      op,
      member: "resourceArn",
      why: "not an ARN (pattern)",
      input: () => ({ ...rest(), resourceArn: "hello" }),
      expect: V,
    },
    {
      op,
      member: "resourceArn",
      why: "129 characters (length)",
      input: () => ({ ...rest(), resourceArn: longStageArn(129) }),
      expect: V,
    },
    {
      op,
      member: "resourceArn",
      why: "unknown stage",
      input: () => ({ ...rest(), resourceArn: UNKNOWN_STAGE }),
      expect: "ResourceNotFoundException",
    },
    {
      op,
      member: "resourceArn",
      why: "unknown public key",
      input: () => ({ ...rest(), resourceArn: UNKNOWN_KEY }),
      expect: "ResourceNotFoundException",
    },
  ];
}

function tagsRows(op: Op, member: string, rest: () => Record<string, unknown>): Row[] {
  return [
    { op, member, why: "51 tags (map size)", input: () => ({ ...rest(), [member]: tagsOf(51) }), expect: V },
    { op, member, why: "50 tags", input: () => ({ ...rest(), [member]: tagsOf(50) }), expect: "ok" },
    { op, member, why: "empty key (length)", input: () => ({ ...rest(), [member]: { "": "v" } }), expect: V },
    {
      op,
      member,
      why: "129-char key (length)",
      input: () => ({ ...rest(), [member]: { [repeat(129)]: "v" } }),
      expect: V,
    },
    { op, member, why: "128-char key", input: () => ({ ...rest(), [member]: { [repeat(128)]: "v" } }), expect: "ok" },
    {
      op,
      member,
      why: "257-char value (length)",
      input: () => ({ ...rest(), [member]: { k: repeat(257) } }),
      expect: V,
    },
    { op, member, why: "256-char value", input: () => ({ ...rest(), [member]: { k: repeat(256) } }), expect: "ok" },
  ];
}

function tokenConfigRows(
  op: Op,
  wrap: (config: Record<string, unknown>) => Record<string, unknown>,
  prefix: string,
): Row[] {
  const m = (name: string) => `${prefix}${name}`;
  return [
    { op, member: m("duration"), why: "0 (range)", input: () => wrap({ duration: 0 }), expect: V },
    { op, member: m("duration"), why: "20161 (range)", input: () => wrap({ duration: 20161 }), expect: V },
    { op, member: m("duration"), why: "1", input: () => wrap({ duration: 1 }), expect: "ok" },
    { op, member: m("duration"), why: "20160", input: () => wrap({ duration: 20160 }), expect: "ok" },
    { op, member: m("userId"), why: "129 characters (length)", input: () => wrap({ userId: repeat(129) }), expect: V },
    { op, member: m("userId"), why: "128 characters", input: () => wrap({ userId: repeat(128) }), expect: "ok" },
    {
      op,
      member: m("capabilities"),
      why: "3 items (list size)",
      input: () => wrap({ capabilities: ["PUBLISH", "SUBSCRIBE", "PUBLISH"] }),
      expect: V,
    },
    { op, member: m("capabilities"), why: "ADMIN (enum)", input: () => wrap({ capabilities: ["ADMIN"] }), expect: V },
    {
      op,
      member: m("capabilities"),
      why: "lowercase publish (enum)",
      input: () => wrap({ capabilities: ["publish"] }),
      expect: V,
    },
    { op, member: m("capabilities"), why: "empty list", input: () => wrap({ capabilities: [] }), expect: "ok" },
    {
      op,
      member: m("attributes"),
      why: "over 1 KB (documented limit)",
      input: () => wrap({ attributes: { a: repeat(1100) } }),
      expect: V,
    },
    {
      op,
      member: m("attributes"),
      why: "just under 1 KB",
      input: () => wrap({ attributes: { a: repeat(1000) } }),
      expect: "ok",
    },
  ];
}

function recordingRows(op: Op, rest: () => Record<string, unknown>): Row[] {
  const member = "autoParticipantRecordingConfiguration";
  const row = (sub: string, why: string, value: Record<string, unknown>, expect: Expect = V): Row => ({
    op,
    member: `${member}.${sub}`,
    why,
    input: () => ({ ...rest(), [member]: value }),
    expect,
  });
  return [
    row("storageConfigurationArn", "missing (required)", { mediaTypes: ["AUDIO_VIDEO"] }),
    row("storageConfigurationArn", "a stage ARN (pattern)", { storageConfigurationArn: UNKNOWN_STAGE }),
    row("storageConfigurationArn", "129 characters (length)", {
      storageConfigurationArn: `arn:aws:ivs:${REGION}:${ACCOUNT}:storage-configuration/${repeat(129 - 57)}`,
    }),
    row("storageConfigurationArn", "empty string", { storageConfigurationArn: "" }, "ok"),
    row("mediaTypes", "2 items (list size)", rec({ mediaTypes: ["AUDIO_VIDEO", "AUDIO_ONLY"] })),
    row("mediaTypes", "VIDEO_ONLY (enum)", rec({ mediaTypes: ["VIDEO_ONLY"] })),
    row(
      "thumbnailConfiguration.targetIntervalSeconds",
      "0 (range)",
      rec({ thumbnailConfiguration: { targetIntervalSeconds: 0 } }),
    ),
    row(
      "thumbnailConfiguration.targetIntervalSeconds",
      "86401 (range)",
      rec({ thumbnailConfiguration: { targetIntervalSeconds: 86401 } }),
    ),
    row(
      "thumbnailConfiguration.storage",
      "3 items (list size)",
      rec({ thumbnailConfiguration: { storage: ["SEQUENTIAL", "LATEST", "LATEST"] } }),
    ),
    row(
      "thumbnailConfiguration.storage",
      "duplicates (unique items)",
      rec({ thumbnailConfiguration: { storage: ["LATEST", "LATEST"] } }),
    ),
    row("thumbnailConfiguration.storage", "NEWEST (enum)", rec({ thumbnailConfiguration: { storage: ["NEWEST"] } })),
    row(
      "thumbnailConfiguration.recordingMode",
      "ALWAYS (enum)",
      rec({ thumbnailConfiguration: { recordingMode: "ALWAYS" } }),
    ),
    row("recordingReconnectWindowSeconds", "-1 (range)", rec({ recordingReconnectWindowSeconds: -1 })),
    row("recordingReconnectWindowSeconds", "301 (range)", rec({ recordingReconnectWindowSeconds: 301 })),
    row(
      "hlsConfiguration.targetSegmentDurationSeconds",
      "1 (range)",
      rec({ hlsConfiguration: { targetSegmentDurationSeconds: 1 } }),
    ),
    row(
      "hlsConfiguration.targetSegmentDurationSeconds",
      "11 (range)",
      rec({ hlsConfiguration: { targetSegmentDurationSeconds: 11 } }),
    ),
    row(
      "(all members at their bounds)",
      "valid",
      rec({
        mediaTypes: ["AUDIO_ONLY"],
        thumbnailConfiguration: {
          targetIntervalSeconds: 86400,
          storage: ["SEQUENTIAL", "LATEST"],
          recordingMode: "DISABLED",
        },
        recordingReconnectWindowSeconds: 300,
        hlsConfiguration: { targetSegmentDurationSeconds: 10 },
        recordParticipantReplicas: true,
      }),
      "ok",
    ),
  ];
}

function stageNameRows(op: Op, rest: () => Record<string, unknown>): Row[] {
  return [
    { op, member: "name", why: "129 characters (length)", input: () => ({ ...rest(), name: repeat(129) }), expect: V },
    { op, member: "name", why: "a space (pattern)", input: () => ({ ...rest(), name: "my stage" }), expect: V },
    { op, member: "name", why: "a slash (pattern)", input: () => ({ ...rest(), name: "a/b" }), expect: V },
    {
      op,
      member: "name",
      why: "128 characters of [a-zA-Z0-9-_]",
      input: () => ({ ...rest(), name: repeat(64, "a_") }),
      expect: "ok",
    },
  ];
}

function pagingRows(op: Op): Row[] {
  return [
    { op, member: "maxResults", why: "0 (range)", input: () => ({ maxResults: 0 }), expect: V },
    { op, member: "maxResults", why: "101 (range)", input: () => ({ maxResults: 101 }), expect: V },
    { op, member: "maxResults", why: "1", input: () => ({ maxResults: 1 }), expect: "ok" },
    { op, member: "maxResults", why: "100", input: () => ({ maxResults: 100 }), expect: "ok" },
    { op, member: "nextToken", why: "'!' (pattern)", input: () => ({ nextToken: "abc!" }), expect: V },
    { op, member: "nextToken", why: "1025 characters (length)", input: () => ({ nextToken: repeat(1025) }), expect: V },
    {
      op,
      member: "nextToken",
      why: "well-formed but never issued",
      input: () => ({ nextToken: "bm90LWEtdG9rZW4" }),
      expect: V,
    },
  ];
}

const ROWS: Row[] = [
  // CreateStage
  ...stageNameRows("CreateStage", () => ({})),
  {
    op: "CreateStage",
    member: "participantTokenConfigurations",
    why: "13 items (list size)",
    input: () => ({ participantTokenConfigurations: Array.from({ length: 13 }, () => ({})) }),
    expect: V,
  },
  {
    op: "CreateStage",
    member: "participantTokenConfigurations",
    why: "12 items",
    input: () => ({ participantTokenConfigurations: Array.from({ length: 12 }, () => ({})) }),
    expect: "ok",
  },
  ...tokenConfigRows(
    "CreateStage",
    (c) => ({ participantTokenConfigurations: [c] }),
    "participantTokenConfigurations[].",
  ),
  ...tagsRows("CreateStage", "tags", () => ({})),
  ...recordingRows("CreateStage", () => ({})),
  // GetStage / UpdateStage / DeleteStage
  ...stageArnRows("GetStage", "arn", () => ({})),
  ...stageArnRows("UpdateStage", "arn", () => ({})),
  ...stageNameRows("UpdateStage", () => ({ arn: ctx.stageArn })),
  ...recordingRows("UpdateStage", () => ({ arn: ctx.stageArn })),
  ...stageArnRows("DeleteStage", "arn", () => ({})),
  // ListStages
  ...pagingRows("ListStages"),
  // CreateParticipantToken
  ...stageArnRows("CreateParticipantToken", "stageArn", () => ({})),
  ...tokenConfigRows("CreateParticipantToken", (c) => ({ stageArn: ctx.stageArn, ...c }), ""),
  // DisconnectParticipant
  ...stageArnRows("DisconnectParticipant", "stageArn", () => ({ participantId: "abc" })),
  {
    op: "DisconnectParticipant",
    member: "participantId",
    why: "missing (required)",
    input: () => ({ stageArn: ctx.stageArn }),
    expect: V,
  },
  {
    op: "DisconnectParticipant",
    member: "participantId",
    why: "'!' (pattern)",
    input: () => ({ stageArn: ctx.stageArn, participantId: "abc!" }),
    expect: V,
  },
  {
    op: "DisconnectParticipant",
    member: "participantId",
    why: "65 characters (length)",
    input: () => ({ stageArn: ctx.stageArn, participantId: repeat(65) }),
    expect: V,
  },
  {
    op: "DisconnectParticipant",
    member: "participantId",
    why: "64 characters",
    input: () => ({ stageArn: ctx.stageArn, participantId: repeat(64) }),
    expect: "passes",
  },
  {
    op: "DisconnectParticipant",
    member: "reason",
    why: "129 characters (length)",
    input: () => ({ stageArn: ctx.stageArn, participantId: "abc", reason: repeat(129) }),
    expect: V,
  },
  // TagResource / UntagResource / ListTagsForResource
  ...tagArnRows("TagResource", () => ({ tags: { k: "v" } })),
  {
    op: "TagResource",
    member: "tags",
    why: "missing (required)",
    input: () => ({ resourceArn: ctx.stageArn }),
    expect: V,
  },
  ...tagsRows("TagResource", "tags", () => ({ resourceArn: ctx.poolStage() })),
  ...tagArnRows("UntagResource", () => ({ tagKeys: ["k"] })),
  {
    op: "UntagResource",
    member: "tagKeys",
    why: "missing (required)",
    input: () => ({ resourceArn: ctx.stageArn }),
    expect: V,
  },
  {
    op: "UntagResource",
    member: "tagKeys",
    why: "51 keys (list size)",
    input: () => ({ resourceArn: ctx.stageArn, tagKeys: Object.keys(tagsOf(51)) }),
    expect: V,
  },
  {
    op: "UntagResource",
    member: "tagKeys",
    why: "50 keys",
    input: () => ({ resourceArn: ctx.stageArn, tagKeys: Object.keys(tagsOf(50)) }),
    expect: "ok",
  },
  {
    op: "UntagResource",
    member: "tagKeys",
    why: "an empty key (length)",
    input: () => ({ resourceArn: ctx.stageArn, tagKeys: [""] }),
    expect: V,
  },
  {
    op: "UntagResource",
    member: "tagKeys",
    why: "a 129-char key (length)",
    input: () => ({ resourceArn: ctx.stageArn, tagKeys: [repeat(129)] }),
    expect: V,
  },
  ...tagArnRows("ListTagsForResource", () => ({})),
  // Public keys
  { op: "ImportPublicKey", member: "publicKeyMaterial", why: "missing (required)", input: () => ({}), expect: V },
  {
    op: "ImportPublicKey",
    member: "publicKeyMaterial",
    why: "not PEM (pattern)",
    input: () => ({ publicKeyMaterial: "hello" }),
    expect: V,
  },
  {
    op: "ImportPublicKey",
    member: "publicKeyMaterial",
    why: "a P-256 key (not P-384)",
    input: () => ({
      publicKeyMaterial: generateKeyPairSync("ec", { namedCurve: "P-256" })
        .publicKey.export({ format: "pem", type: "spki" })
        .toString(),
    }),
    expect: V,
  },
  {
    op: "ImportPublicKey",
    member: "publicKeyMaterial",
    why: "PEM armour around garbage",
    input: () => ({ publicKeyMaterial: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }),
    expect: V,
  },
  {
    op: "ImportPublicKey",
    member: "name",
    why: "129 characters (length)",
    input: () => ({ publicKeyMaterial: ctx.otherPem(), name: repeat(129) }),
    expect: V,
  },
  {
    op: "ImportPublicKey",
    member: "name",
    why: "a space (pattern)",
    input: () => ({ publicKeyMaterial: ctx.otherPem(), name: "my key" }),
    expect: V,
  },
  {
    op: "ImportPublicKey",
    member: "name",
    why: "128 characters",
    input: () => ({ publicKeyMaterial: ctx.otherPem(), name: repeat(128) }),
    expect: "ok",
  },
  ...tagsRows("ImportPublicKey", "tags", () => ({ publicKeyMaterial: ctx.otherPem() })),
  ...keyArnRows("GetPublicKey"),
  ...pagingRows("ListPublicKeys"),
  ...keyArnRows("DeletePublicKey"),
];

describe("every constrained input member, just outside (and at) its bound", () => {
  beforeAll(async () => {
    ctx.stageArn = await newStage({ name: "constraints" });
    for (let i = 0; i < 10; i++) ctx.pool.push(await newStage());
  });

  it.each(ROWS.map((r) => [`${r.op} ${r.member}: ${r.why} → ${r.expect}`, r] as const))("%s", async (_title, row) => {
    const promise = call(ivs, row.op, row.input());
    if (row.expect === "passes") {
      const outcome = await promise.then(
        () => "ok",
        (e: unknown) => (e as AwsErrorLike).name,
      );
      expect(["ok", "ResourceNotFoundException"]).toContain(outcome);
      return;
    }
    if (row.expect === "ok") {
      const out = (await promise) as { $metadata: { httpStatusCode?: number } };
      expect(out.$metadata.httpStatusCode).toBe(200);
      return;
    }
    const error = await expectAwsError(promise, row.expect, row.expect === V ? 400 : 404);
    if (row.expect === V) {
      expect(error).toBeInstanceOf(ValidationException);
      expect(typeof (error as { exceptionMessage?: unknown }).exceptionMessage).toBe("string");
    } else {
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    }
  });

  it("answers a tag operation without a resourceArn (which the SDK refuses to send) with ValidationException", async () => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const res = await http(emu, method, "/tags/", method === "POST" ? { tags: { a: "b" } } : undefined);
      expect(res.status).toBe(400);
      expect(res.headers.get("x-amzn-errortype")).toBe("ValidationException");
      expect(res.json).toMatchObject({ exceptionMessage: expect.any(String) });
    }
  });

  it("ignores unknown body members, as AWS does", async () => {
    const res = await http(emu, "POST", "/GetStage", { arn: ctx.stageArn, somethingElse: 1 });
    expect(res.status).toBe(200);
  });

  it("answers an unknown path with 404 UnknownOperationException and a malformed body with 400", async () => {
    const unknown = await http(emu, "POST", "/CreateChannel", {});
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    const malformed = await http(emu, "POST", "/CreateStage", undefined, "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("x-amzn-errortype")).toMatch(/^(SerializationException|ValidationException)$/);
    const wrongType = await http(emu, "POST", "/CreateStage", { name: 5 });
    expect(wrongType.status).toBe(400);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("not found and quotas", () => {
  it("answers ResourceNotFoundException for an unknown stage on every stage operation", async () => {
    const cases: Array<[Op, Record<string, unknown>]> = [
      ["GetStage", { arn: UNKNOWN_STAGE }],
      ["UpdateStage", { arn: UNKNOWN_STAGE, name: "x" }],
      ["DeleteStage", { arn: UNKNOWN_STAGE }],
      ["CreateParticipantToken", { stageArn: UNKNOWN_STAGE }],
      ["DisconnectParticipant", { stageArn: UNKNOWN_STAGE, participantId: "abc" }],
      ["TagResource", { resourceArn: UNKNOWN_STAGE, tags: { a: "b" } }],
      ["UntagResource", { resourceArn: UNKNOWN_STAGE, tagKeys: ["a"] }],
      ["ListTagsForResource", { resourceArn: UNKNOWN_STAGE }],
    ];
    for (const [op, input] of cases) {
      const error = await expectAwsError(call(ivs, op, input), "ResourceNotFoundException", 404);
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    }
  });

  it("refuses the 101st stage with ServiceQuotaExceededException (fresh emulator)", async () => {
    const fresh = await startIvsEmulator();
    const client = clientFor(fresh);
    try {
      const arns: string[] = [];
      for (let i = 0; i < 100; i++) arns.push((await client.send(new CreateStageCommand({}))).stage!.arn!);
      const error = await expectAwsError(client.send(new CreateStageCommand({})), "ServiceQuotaExceededException", 402);
      expect(error).toBeInstanceOf(ServiceQuotaExceededException);
      await client.send(new DeleteStageCommand({ arn: arns[0]! }));
      expect((await client.send(new CreateStageCommand({}))).stage?.arn).toMatch(STAGE_ARN);
    } finally {
      client.destroy();
      await fresh.close();
    }
  });

  it("refuses the 51st tag on a resource with ServiceQuotaExceededException", async () => {
    const arn = await newStage({ tags: tagsOf(50) });
    await expectAwsError(
      ivs.send(new TagResourceCommand({ resourceArn: arn, tags: { one: "more" } })),
      "ServiceQuotaExceededException",
      402,
    );
    // Overwriting an existing key keeps 50 tags: fine.
    await ivs.send(new TagResourceCommand({ resourceArn: arn, tags: { k0: "changed" } }));
    expect(Object.keys((await ivs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags!)).toHaveLength(50);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("ListStages and ListPublicKeys paging (fresh emulator)", () => {
  it("pages with maxResults/nextToken in a stable order and refuses a forged nextToken", async () => {
    const fresh = await startIvsEmulator();
    const client = clientFor(fresh);
    try {
      const created: string[] = [];
      for (let i = 0; i < 7; i++)
        created.push((await client.send(new CreateStageCommand({ name: `s${i}` }))).stage!.arn!);

      const seen: string[] = [];
      const sizes: number[] = [];
      let nextToken: string | undefined;
      do {
        const out = await client.send(new ListStagesCommand({ maxResults: 3, ...(nextToken ? { nextToken } : {}) }));
        sizes.push(out.stages!.length);
        seen.push(...out.stages!.map((s) => s.arn!));
        nextToken = out.nextToken;
      } while (nextToken);
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual(created);

      const all = await client.send(new ListStagesCommand({}));
      expect(all.stages!.map((s) => s.arn)).toEqual(created);
      expect(all.nextToken).toBeUndefined();
      expect(all.stages![0]).toEqual({ arn: created[0], name: "s0", tags: {} });

      const viaPaginator: string[] = [];
      for await (const out of paginateListStages({ client, pageSize: 2 }, {}))
        viaPaginator.push(...out.stages!.map((s) => s.arn!));
      expect(viaPaginator).toEqual(created);

      await expectAwsError(client.send(new ListStagesCommand({ nextToken: "Zm9yZ2Vk" })), "ValidationException", 400);

      // ListPublicKeys pages the same way; a stages token is not a public-keys token.
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) {
        keys.push(
          (await client.send(new ImportPublicKeyCommand({ publicKeyMaterial: p384().pem, name: `k${i}` }))).publicKey!
            .arn!,
        );
      }
      const first = await client.send(new ListPublicKeysCommand({ maxResults: 2 }));
      expect(first.publicKeys!.map((k) => k.arn)).toEqual(keys.slice(0, 2));
      expect(first.nextToken).toBeDefined();
      const second = await client.send(new ListPublicKeysCommand({ maxResults: 2, nextToken: first.nextToken! }));
      expect(second.publicKeys!.map((k) => k.arn)).toEqual(keys.slice(2));
      expect(second.nextToken).toBeUndefined();
      const stagesPage = await client.send(new ListStagesCommand({ maxResults: 1 }));
      await expectAwsError(
        client.send(new ListPublicKeysCommand({ nextToken: stagesPage.nextToken! })),
        "ValidationException",
        400,
      );
    } finally {
      client.destroy();
      await fresh.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("faults, stats and rates", () => {
  it("injects 429, 500 and 503 for the next calls of an operation, then recovers", async () => {
    const stageArn = await newStage();
    const inject = (body: unknown) => http(emu, "POST", "/_emulator/faults", body);

    expect((await inject({ operation: "CreateParticipantToken", status: 429 })).status).toBe(200);
    const throttled = await expectAwsError(newToken(stageArn), "ThrottlingException", 429);
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    await newToken(stageArn);

    await inject({ operation: "CreateParticipantToken", status: 500, count: 2 });
    await expectAwsError(newToken(stageArn), "InternalServerException", 500);
    await expectAwsError(newToken(stageArn), "InternalServerException", 500);
    await newToken(stageArn);

    await inject({ operation: "GetStage", status: 503 });
    await expectAwsError(ivs.send(new GetStageCommand({ arn: stageArn })), "ServiceUnavailableException", 503);
    await ivs.send(new GetStageCommand({ arn: stageArn }));

    // DELETE clears pending faults.
    await inject({ operation: "GetStage", status: 500, count: 5 });
    expect((await http(emu, "DELETE", "/_emulator/faults")).status).toBe(200);
    await ivs.send(new GetStageCommand({ arn: stageArn }));
  });

  it("adds latency without failing (delayMs alone), and before failing (delayMs with status)", async () => {
    const stageArn = await newStage();
    await http(emu, "POST", "/_emulator/faults", { operation: "CreateParticipantToken", delayMs: 300 });
    expect((await http(emu, "GET", "/_emulator/faults")).json).toMatchObject({
      faults: [{ delayMs: 300, remaining: 1 }],
    });
    let started = Date.now();
    await newToken(stageArn);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    // Used up: the next call is not delayed.
    expect((await http(emu, "GET", "/_emulator/faults")).json).toEqual({ faults: [] });

    await http(emu, "POST", "/_emulator/faults", { operation: "CreateParticipantToken", status: 503, delayMs: 200 });
    started = Date.now();
    await expectAwsError(newToken(stageArn), "ServiceUnavailableException", 503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it("validates fault requests", async () => {
    const bad = [
      {},
      { operation: "Nope", status: 429 },
      { operation: "GetStage" },
      { operation: "GetStage", status: 404 },
      { operation: "GetStage", status: 429, count: 0 },
      { operation: "GetStage", status: 429, count: 1.5 },
      { operation: "GetStage", delayMs: -1 },
      { operation: "GetStage", delayMs: "100" },
      [],
      "x",
    ];
    for (const body of bad) expect((await http(emu, "POST", "/_emulator/faults", body)).status).toBe(400);
    expect((await http(emu, "POST", "/_emulator/faults", undefined, "{oops")).status).toBe(400);
  });

  it("counts requests per operation (stats route and requestCounts), and resets", async () => {
    emu.resetCounts();
    const stageArn = await newStage();
    await newToken(stageArn);
    await newToken(stageArn);
    await expectAwsError(ivs.send(new GetStageCommand({ arn: UNKNOWN_STAGE })), "ResourceNotFoundException", 404);
    expect(emu.requestCounts()).toEqual({ CreateStage: 1, CreateParticipantToken: 2, GetStage: 1 });
    expect((await http(emu, "GET", "/_emulator/stats")).json).toEqual({
      requests: { CreateStage: 1, CreateParticipantToken: 2, GetStage: 1 },
    });
    expect((await http(emu, "DELETE", "/_emulator/stats")).status).toBe(200);
    expect(emu.requestCounts()).toEqual({});
  });

  it("with rates enforced, 51 concurrent CreateParticipantToken calls see ThrottlingException; without, none do", async () => {
    const stageArn = await newStage();
    const burst = async (client: IVSRealTimeClient, n: number) => {
      const results = await Promise.allSettled(
        Array.from({ length: n }, () => client.send(new CreateParticipantTokenCommand({ stageArn }))),
      );
      const throttled = results.filter(
        (r) => r.status === "rejected" && (r.reason as AwsErrorLike).$metadata?.httpStatusCode === 429,
      ).length;
      const other = results.filter((r) => r.status === "rejected").length - throttled;
      return { throttled, other };
    };

    // Off by default.
    expect(await burst(ivs, 60)).toEqual({ throttled: 0, other: 0 });

    // On through the route.
    expect((await http(emu, "POST", "/_emulator/rates", { enforce: true })).json).toEqual({ enforce: true });
    try {
      const on = await burst(ivs, 51);
      expect(on.other).toBe(0);
      expect(on.throttled).toBeGreaterThanOrEqual(1);
      const error = await expectAwsError(
        (async () => {
          for (let i = 0; i < 10; i++)
            await ivs.send(new DeleteStageCommand({ arn: UNKNOWN_STAGE })).catch((e: unknown) => {
              if ((e as AwsErrorLike).$metadata?.httpStatusCode === 429) throw e;
            });
        })(),
        "ThrottlingException",
        429,
      );
      expect(error.name).toBe("ThrottlingException");
    } finally {
      expect((await http(emu, "POST", "/_emulator/rates", { enforce: false })).status).toBe(200);
    }
    expect((await http(emu, "POST", "/_emulator/rates", { enforce: "yes" })).status).toBe(400);

    // And through the option / method of a fresh emulator.
    const fresh = await startIvsEmulator({ enforceRates: true });
    const client = clientFor(fresh);
    try {
      const arn = (await client.send(new CreateStageCommand({}))).stage!.arn!;
      const results = await Promise.allSettled(
        Array.from({ length: 51 }, () => client.send(new CreateParticipantTokenCommand({ stageArn: arn }))),
      );
      const statuses = results.map((r) =>
        r.status === "fulfilled" ? 200 : (r.reason as AwsErrorLike).$metadata?.httpStatusCode,
      );
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      const raw = await http(fresh, "POST", "/ListStages", {});
      expect(raw.status).toBe(200);
      fresh.setEnforceRates(false);
      const after = await Promise.allSettled(
        Array.from({ length: 60 }, () => client.send(new CreateParticipantTokenCommand({ stageArn: arn }))),
      );
      expect(after.every((r) => r.status === "fulfilled")).toBe(true);
    } finally {
      client.destroy();
      await fresh.close();
    }
  });

  it("answers a throttled call with the ThrottlingException wire shape", async () => {
    const fresh = await startIvsEmulator({ enforceRates: true });
    try {
      const statuses: number[] = [];
      let throttled: Awaited<ReturnType<typeof http>> | undefined;
      for (let i = 0; i < 6; i++) {
        const res = await http(fresh, "POST", "/ListStages", {});
        statuses.push(res.status);
        if (res.status === 429) throttled = res;
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      expect(throttled?.headers.get("x-amzn-errortype")).toBe("ThrottlingException");
      expect(throttled?.json).toMatchObject({ exceptionMessage: "Rate exceeded" });
    } finally {
      await fresh.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("robustness", () => {
  it("never answers 500 and never dies, whatever the request", async () => {
    const fresh = await startIvsEmulator({ maxStages: 1_000_000 });
    try {
      const paths = [
        "/CreateStage",
        "/GetStage",
        "/UpdateStage",
        "/DeleteStage",
        "/ListStages",
        "/CreateParticipantToken",
        "/DisconnectParticipant",
        "/ImportPublicKey",
        "/GetPublicKey",
        "/ListPublicKeys",
        "/DeletePublicKey",
        `/tags/${encodeURIComponent(UNKNOWN_STAGE)}`,
        "/tags/%E0%A4%A",
        "/_emulator/join",
        "/_emulator/faults",
        "/_emulator/rates",
        "/_emulator/stages/%ZZ/participants",
        "/nope",
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...paths),
          fc.constantFrom("GET", "POST", "DELETE", "PUT"),
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.string(),
            fc
              .record(
                {
                  arn: fc.string(),
                  stageArn: fc.string(),
                  name: fc.oneof(fc.string(), fc.integer()),
                  tags: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.constant(null))),
                  participantTokenConfigurations: fc.array(fc.jsonValue(), { maxLength: 3 }),
                  autoParticipantRecordingConfiguration: fc.jsonValue(),
                  token: fc.string(),
                },
                { requiredKeys: [] },
              )
              .map((v) => JSON.stringify(v)),
          ),
          async (path, method, body) => {
            const res = await fetch(`${fresh.url}${path}`, method === "GET" ? { method } : { method, body });
            await res.arrayBuffer();
            expect(res.status).not.toBeGreaterThanOrEqual(500);
          },
        ),
        { numRuns: 300 },
      );
      expect((await http(fresh, "POST", "/ListStages", {})).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
