// The IVS adapter's one convention for a stage that IVS no longer has (shared/aws/ivs.ts): every call on the stage
// throws StageNotFoundError, a 404 naming the room; deleting the stage or disconnecting from it succeeds instead.
import type { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { describe, expect, it } from "vitest";
import {
  deleteStage,
  disconnectParticipant,
  getStage,
  listTags,
  StageNotFoundError,
  tagStage,
  untagStage,
  updateStageName,
} from "../../shared/aws/ivs.ts";
import { NotFoundError, ProblemError } from "../../shared/errors.ts";

const STAGE_ARN = "arn:aws:ivs:us-east-1:123456789012:stage/abcdABCD1234";

/** A client whose every call fails as IVS answers for an unknown ARN (or as given). */
function failingClient(
  name = "ResourceNotFoundException",
  status = 404,
): { client: IVSRealTimeClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    async send(command: object) {
      calls.push(command.constructor.name);
      throw Object.assign(new Error(`IVS says ${name}`), { name, $metadata: { httpStatusCode: status } });
    },
  } as unknown as IVSRealTimeClient;
  return { client, calls };
}

const deadline = () => Date.now() + 5_000;

describe("a stage that IVS no longer has", () => {
  const onTheStage: Array<[string, (client: IVSRealTimeClient) => Promise<unknown>]> = [
    ["GetStage", (c) => getStage(c, STAGE_ARN, deadline())],
    ["UpdateStage", (c) => updateStageName(c, STAGE_ARN, "renamed", deadline())],
    ["ListTagsForResource", (c) => listTags(c, STAGE_ARN, deadline())],
    ["TagResource", (c) => tagStage(c, STAGE_ARN, { a: "b" }, deadline())],
    ["UntagResource", (c) => untagStage(c, STAGE_ARN, ["a"], deadline())],
  ];

  it.each(onTheStage)(
    "%s throws StageNotFoundError: a 404 problem naming the room, after one attempt",
    async (operation, run) => {
      const { client, calls } = failingClient();
      const error = await run(client).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StageNotFoundError);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({
        status: 404,
        code: "not_found",
        stageArn: STAGE_ARN,
        detail: "the stage of room abcdABCD1234 no longer exists",
      });
      expect(calls).toEqual([`${operation}Command`]);
    },
  );

  it("DeleteStage and DisconnectParticipant succeed: what they ask for is already so", async () => {
    const { client, calls } = failingClient();
    await expect(deleteStage(client, STAGE_ARN, deadline())).resolves.toBeUndefined();
    await expect(
      disconnectParticipant(client, STAGE_ARN, "participant-1", "spam", deadline()),
    ).resolves.toBeUndefined();
    expect(calls).toEqual(["DeleteStageCommand", "DisconnectParticipantCommand"]);
  });

  it("other client errors are not taken for a gone stage", async () => {
    const { client } = failingClient("ValidationException", 400);
    for (const run of [
      ...onTheStage.map(([, r]) => r),
      (c: IVSRealTimeClient) => deleteStage(c, STAGE_ARN, deadline()),
    ]) {
      const error = await run(client).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).not.toBeInstanceOf(ProblemError);
      expect(error).toMatchObject({ name: "ValidationException" });
    }
  });
});
