/**
 * Live stages in the IVS Real-Time emulator (local/ivs), driven by the unmodified AWS SDK client and a simulated
 * IVS client (/_emulator/join, leave, publish, unpublish): stage sessions, GetParticipant, ListParticipants,
 * ListParticipantEvents, GetStageSession, ListStageSessions, the 12-publisher quota, and the "IVS Stage Update"
 * events the emulator posts to an event bus (here a bare HTTP server that records what it gets), with the delivery
 * controls for convergence tests.
 *
 * Constraints are written out here from the service model (StageSessionId: 16 characters `^st-[a-zA-Z0-9]+$`;
 * ParticipantId: 0..64 of `[a-zA-Z0-9-]`; maxResults 1..100; one filter at a time), not imported from the emulator.
 */
import { createServer, type Server } from "node:http";
import {
  CreateParticipantTokenCommand,
  CreateStageCommand,
  DeleteStageCommand,
  DisconnectParticipantCommand,
  GetParticipantCommand,
  GetStageCommand,
  GetStageSessionCommand,
  IVSRealTimeClient,
  ListParticipantEventsCommand,
  ListParticipantsCommand,
  ListStageSessionsCommand,
  paginateListParticipantEvents,
  paginateListParticipants,
  paginateListStageSessions,
} from "@aws-sdk/client-ivs-realtime";
import type { ListParticipantsCommandInput, ParticipantTokenCapability } from "@aws-sdk/client-ivs-realtime";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startIvsEmulator } from "../../local/ivs/index.ts";
import type { IvsEmulator } from "../../local/ivs/index.ts";
import { http as emulatorHttp } from "../support/ivs-emulator.ts";

/** The emulator's answers, read as loosely as these tests inspect them. */
const http = emulatorHttp<any>;

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const SESSION_ID = /^st-[a-zA-Z0-9]{13}$/;
const UNKNOWN_STAGE = `arn:aws:ivs:${REGION}:${ACCOUNT}:stage/AAAAAAAAAAAA`;
const UNKNOWN_SESSION = "st-AAAAAAAAAAAAA";
/** EventBridge times: ISO 8601 to the second. */
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

interface AwsErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

async function expectAwsError(promise: Promise<unknown>, name: string, status: number): Promise<AwsErrorLike> {
  let error: AwsErrorLike | undefined;
  try {
    await promise;
  } catch (e) {
    error = e as AwsErrorLike;
  }
  expect({ name: error?.name, status: error?.$metadata?.httpStatusCode }).toEqual({ name, status });
  return error!;
}

/** An event bus stand-in that only records the events posted to it (status `answer` to refuse them). */
async function startRecorder(): Promise<{ url: string; events: any[]; answer: number; close(): Promise<void> }> {
  const recorder = { url: "", events: [] as any[], answer: 200, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (recorder.answer === 200) recorder.events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(recorder.answer, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  recorder.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/events`;
  recorder.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return recorder;
}

let emu: IvsEmulator;
let ivs: IVSRealTimeClient;
let bus: Awaited<ReturnType<typeof startRecorder>>;

beforeAll(async () => {
  bus = await startRecorder();
  emu = await startIvsEmulator({ maxStages: 10_000, eventBusUrl: bus.url });
  ivs = new IVSRealTimeClient({
    endpoint: emu.url,
    region: REGION,
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  ivs?.destroy();
  await emu?.close();
  await bus?.close();
});

afterEach(async () => {
  await http(emu, "DELETE", "/_emulator/events");
});

async function newStage(input: ConstructorParameters<typeof CreateStageCommand>[0] = {}): Promise<string> {
  return (await ivs.send(new CreateStageCommand(input))).stage!.arn!;
}

interface Joined {
  participantId: string;
  token: string;
  sessionId: string;
}

/** A token for the stage, joined by the simulated client. */
async function joined(
  stageArn: string,
  opts: { userId?: string; capabilities?: ParticipantTokenCapability[]; attributes?: Record<string, string> } = {},
): Promise<Joined> {
  const t = (await ivs.send(new CreateParticipantTokenCommand({ stageArn, ...opts }))).participantToken!;
  const res = await http(emu, "POST", "/_emulator/join", { token: t.token });
  expect(res.status).toBe(200);
  return { participantId: t.participantId!, token: t.token!, sessionId: res.json.sessionId };
}

const client = (action: "leave" | "publish" | "unpublish", participantId: string, stageArn?: string) =>
  http(emu, "POST", `/_emulator/${action}`, { participantId, ...(stageArn ? { stageArn } : {}) });

const eventsOf = async (stageArn: string, sessionId: string, participantId: string) =>
  (await ivs.send(new ListParticipantEventsCommand({ stageArn, sessionId, participantId }))).events!;

/** The events the bus got for a stage, once the emulator has sent everything it released. */
async function busEvents(stageArn: string): Promise<any[]> {
  await emu.eventsSettled();
  return bus.events.filter((e) => e.resources?.[0] === stageArn);
}

// -----------------------------------------------------------------------------------------------------------------

describe("stage sessions", () => {
  it("begin at the first join and end after the last participant leaves", async () => {
    const stageArn = await newStage();
    expect((await ivs.send(new ListStageSessionsCommand({ stageArn }))).stageSessions).toEqual([]);

    const a = await joined(stageArn);
    const b = await joined(stageArn);
    expect(a.sessionId).toMatch(SESSION_ID);
    expect(b.sessionId).toBe(a.sessionId);
    expect((await ivs.send(new GetStageCommand({ arn: stageArn }))).stage?.activeSessionId).toBe(a.sessionId);
    const open = (await ivs.send(new GetStageSessionCommand({ stageArn, sessionId: a.sessionId }))).stageSession!;
    expect(open.sessionId).toBe(a.sessionId);
    expect(open.startTime).toBeInstanceOf(Date);
    expect(open.endTime).toBeUndefined();

    expect((await client("leave", a.participantId)).json).toMatchObject({
      state: "DISCONNECTED",
      sessionId: a.sessionId,
    });
    expect(
      (await ivs.send(new GetStageSessionCommand({ stageArn, sessionId: a.sessionId }))).stageSession?.endTime,
    ).toBeUndefined();

    // The last one out ends it (here through DisconnectParticipant).
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: b.participantId }));
    const ended = (await ivs.send(new GetStageSessionCommand({ stageArn, sessionId: a.sessionId }))).stageSession!;
    expect(ended.endTime).toBeInstanceOf(Date);
    expect(ended.endTime!.getTime()).toBeGreaterThanOrEqual(ended.startTime!.getTime());
    expect((await ivs.send(new GetStageCommand({ arn: stageArn }))).stage?.activeSessionId).toBeUndefined();

    // The same token joins again: a new session, in which it is a new participant.
    const again = await http(emu, "POST", "/_emulator/join", { token: a.token });
    const second = again.json.sessionId as string;
    expect(second).toMatch(SESSION_ID);
    expect(second).not.toBe(a.sessionId);
    const sessions = (await ivs.send(new ListStageSessionsCommand({ stageArn }))).stageSessions!;
    expect(sessions.map((s) => s.sessionId)).toEqual([second, a.sessionId]); // newest first
    expect(sessions[0]!.endTime).toBeUndefined();
    const paged: string[] = [];
    for await (const page of paginateListStageSessions({ client: ivs, pageSize: 1 }, { stageArn })) {
      expect(page.stageSessions).toHaveLength(1);
      paged.push(page.stageSessions![0]!.sessionId!);
    }
    expect(paged).toEqual([second, a.sessionId]);
    const inSecond = (await ivs.send(new ListParticipantsCommand({ stageArn, sessionId: second }))).participants!;
    expect(inSecond.map((p) => p.participantId)).toEqual([a.participantId]);
    expect((await eventsOf(stageArn, second, a.participantId)).map((e) => e.name)).toEqual(["JOINED"]);
    expect((await eventsOf(stageArn, a.sessionId, a.participantId)).map((e) => e.name)).toEqual(["JOINED", "LEFT"]);
  });

  it("end when the stage is deleted, and are gone with it", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    expect((await client("publish", a.participantId)).status).toBe(200);
    await ivs.send(new DeleteStageCommand({ arn: stageArn }));
    await expectAwsError(
      ivs.send(new GetStageSessionCommand({ stageArn, sessionId: a.sessionId })),
      "ResourceNotFoundException",
      404,
    );
    expect((await ivs.send(new ListStageSessionsCommand({ stageArn }))).stageSessions).toEqual([]);
    // The publisher stopped publishing when it was disconnected, and IVS said so.
    expect((await busEvents(stageArn)).map((e) => e.detail.event_name)).toEqual([
      "Participant Published",
      "Participant Unpublished",
    ]);
    expect((await client("publish", a.participantId)).status).toBe(404);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("GetParticipant and ListParticipants", () => {
  it("answer the model's shapes", async () => {
    const stageArn = await newStage();
    const host = await joined(stageArn, { userId: "host-1", attributes: { role: "host" } });
    const viewer = await joined(stageArn, { capabilities: ["SUBSCRIBE"] });
    await client("publish", host.participantId);

    const { participant } = await ivs.send(
      new GetParticipantCommand({ stageArn, sessionId: host.sessionId, participantId: host.participantId }),
    );
    expect(participant).toEqual({
      participantId: host.participantId,
      userId: "host-1",
      state: "CONNECTED",
      firstJoinTime: expect.any(Date),
      attributes: { role: "host" },
      published: true,
      recordingState: "DISABLED",
      recordingS3BucketName: "",
      recordingS3Prefix: "",
      replicationType: "NONE",
    });

    const listed = await ivs.send(new ListParticipantsCommand({ stageArn, sessionId: host.sessionId }));
    expect(listed.nextToken).toBeUndefined();
    expect(listed.participants).toEqual([
      {
        participantId: host.participantId,
        userId: "host-1",
        state: "CONNECTED",
        firstJoinTime: participant!.firstJoinTime,
        published: true,
        recordingState: "DISABLED",
        replicationType: "NONE",
      },
      {
        participantId: viewer.participantId,
        userId: "",
        state: "CONNECTED",
        firstJoinTime: expect.any(Date),
        published: false,
        recordingState: "DISABLED",
        replicationType: "NONE",
      },
    ]);
  });

  it("filter by one of user id, published, state or recording state, never two", async () => {
    const stageArn = await newStage({
      autoParticipantRecordingConfiguration: {
        storageConfigurationArn: `arn:aws:ivs:${REGION}:${ACCOUNT}:storage-configuration/AbCdEfGh1234`,
      },
    });
    const a = await joined(stageArn, { userId: "ann" });
    const b = await joined(stageArn, { userId: "bob" });
    const c = await joined(stageArn, { userId: "ann" });
    await client("publish", a.participantId);
    await client("publish", b.participantId);
    await client("unpublish", b.participantId);
    await client("leave", c.participantId);
    const sessionId = a.sessionId;
    const ids = async (filter: Partial<ListParticipantsCommandInput>) =>
      ((await ivs.send(new ListParticipantsCommand({ stageArn, sessionId, ...filter }))).participants ?? []).map(
        (p) => p.participantId,
      );

    expect(await ids({ filterByUserId: "ann" })).toEqual([a.participantId, c.participantId]);
    expect(await ids({ filterByUserId: "nobody" })).toEqual([]);
    expect(await ids({ filterByPublished: true })).toEqual([a.participantId, b.participantId]);
    expect(await ids({ filterByPublished: false })).toEqual([c.participantId]);
    expect(await ids({ filterByState: "DISCONNECTED" })).toEqual([c.participantId]);
    expect(await ids({ filterByState: "CONNECTED" })).toEqual([a.participantId, b.participantId]);
    expect(await ids({ filterByRecordingState: "ACTIVE" })).toEqual([a.participantId]);
    expect(await ids({ filterByRecordingState: "STOPPED" })).toEqual([b.participantId]);

    const two = await expectAwsError(
      ivs.send(new ListParticipantsCommand({ stageArn, sessionId, filterByUserId: "ann", filterByPublished: false })),
      "ValidationException",
      400,
    );
    expect(two.message).toMatch(
      /Only one of filterByUserId, filterByPublished, filterByState, or filterByRecordingState/,
    );
    await expectAwsError(
      ivs.send(
        new ListParticipantsCommand({
          stageArn,
          sessionId,
          filterByState: "CONNECTED",
          filterByRecordingState: "ACTIVE",
        }),
      ),
      "ValidationException",
      400,
    );
  });

  it("page in order of first join, with tokens good only for the listing they continue", async () => {
    const stageArn = await newStage();
    const everyone: Joined[] = [];
    for (let i = 0; i < 7; i++) everyone.push(await joined(stageArn, { userId: `u${i}` }));
    const sessionId = everyone[0]!.sessionId;

    const first = await ivs.send(new ListParticipantsCommand({ stageArn, sessionId, maxResults: 3 }));
    expect(first.participants).toHaveLength(3);
    expect(first.nextToken).toMatch(/^[a-zA-Z0-9+/=_-]{1,1024}$/);
    const paged: string[] = [];
    for await (const page of paginateListParticipants({ client: ivs, pageSize: 3 }, { stageArn, sessionId })) {
      expect(page.participants!.length).toBeLessThanOrEqual(3);
      paged.push(...page.participants!.map((p) => p.participantId!));
    }
    expect(paged).toEqual(everyone.map((p) => p.participantId));

    // A token continues only the listing it came from.
    await expectAwsError(
      ivs.send(
        new ListParticipantsCommand({ stageArn, sessionId, filterByState: "CONNECTED", nextToken: first.nextToken! }),
      ),
      "ValidationException",
      400,
    );
    await expectAwsError(
      ivs.send(new ListStageSessionsCommand({ stageArn, nextToken: first.nextToken! })),
      "ValidationException",
      400,
    );
    await expectAwsError(
      ivs.send(new ListParticipantsCommand({ stageArn, sessionId, nextToken: "bm90LWEtdG9rZW4" })),
      "ValidationException",
      400,
    );
  });

  it("answer ResourceNotFoundException (Get) and empty lists (List) for what does not exist", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    const notFound = [
      new GetParticipantCommand({ stageArn: UNKNOWN_STAGE, sessionId: a.sessionId, participantId: a.participantId }),
      new GetParticipantCommand({ stageArn, sessionId: UNKNOWN_SESSION, participantId: a.participantId }),
      new GetParticipantCommand({ stageArn, sessionId: a.sessionId, participantId: "nobody" }),
      new GetParticipantCommand({ stageArn, sessionId: a.sessionId, participantId: "" }),
    ];
    for (const command of notFound) await expectAwsError(ivs.send(command), "ResourceNotFoundException", 404);
    await expectAwsError(
      ivs.send(new GetStageSessionCommand({ stageArn: UNKNOWN_STAGE, sessionId: a.sessionId })),
      "ResourceNotFoundException",
      404,
    );
    await expectAwsError(
      ivs.send(new GetStageSessionCommand({ stageArn, sessionId: UNKNOWN_SESSION })),
      "ResourceNotFoundException",
      404,
    );

    // The model gives the List operations no ResourceNotFoundException.
    expect(
      (await ivs.send(new ListParticipantsCommand({ stageArn: UNKNOWN_STAGE, sessionId: a.sessionId }))).participants,
    ).toEqual([]);
    expect(
      (await ivs.send(new ListParticipantsCommand({ stageArn, sessionId: UNKNOWN_SESSION }))).participants,
    ).toEqual([]);
    expect(
      (await ivs.send(new ListParticipantEventsCommand({ stageArn, sessionId: a.sessionId, participantId: "nobody" })))
        .events,
    ).toEqual([]);
    expect((await ivs.send(new ListStageSessionsCommand({ stageArn: UNKNOWN_STAGE }))).stageSessions).toEqual([]);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("input constraints of the five operations", () => {
  it("are checked as the model states them, with ValidationException", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    const good = { stageArn, sessionId: a.sessionId, participantId: a.participantId };
    const invalid: Array<[string, Record<string, unknown>]> = [
      ["/GetParticipant", { ...good, sessionId: "st-short" }],
      ["/GetParticipant", { ...good, sessionId: "xx-AAAAAAAAAAAAA" }],
      ["/GetParticipant", { ...good, sessionId: "st-AAAAAAAAAAAAAA" }], // 17 characters
      ["/GetParticipant", { ...good, participantId: "has_underscore" }],
      ["/GetParticipant", { ...good, participantId: "a".repeat(65) }],
      ["/GetParticipant", { ...good, stageArn: "arn:aws:ivs:us-east-1:123456789012:channel/AAAA" }],
      ["/GetParticipant", { stageArn, sessionId: a.sessionId }],
      ["/ListParticipants", { stageArn }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, maxResults: 0 }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, maxResults: 101 }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, filterByState: "GONE" }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, filterByRecordingState: "DISABLED" }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, filterByPublished: "yes" }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, filterByUserId: "u".repeat(129) }],
      ["/ListParticipants", { stageArn, sessionId: a.sessionId, nextToken: "not a token!" }],
      ["/ListParticipantEvents", { stageArn, sessionId: a.sessionId }],
      ["/ListParticipantEvents", { ...good, maxResults: 101 }],
      ["/GetStageSession", { stageArn }],
      ["/GetStageSession", { sessionId: a.sessionId }],
      ["/ListStageSessions", {}],
      ["/ListStageSessions", { stageArn, maxResults: 0 }],
      ["/ListStageSessions", { stageArn, nextToken: "x".repeat(1025) }],
    ];
    for (const [path, body] of invalid) {
      const res = await http(emu, "POST", path, body);
      expect({ path, body, status: res.status, type: res.headers.get("x-amzn-errortype") }).toEqual({
        path,
        body,
        status: 400,
        type: "ValidationException",
      });
      expect(res.json.exceptionMessage).toMatch(/validation error/);
    }
    // The same bounds accept their edges.
    expect(
      (
        await http(emu, "POST", "/ListParticipants", {
          stageArn,
          sessionId: a.sessionId,
          maxResults: 100,
          filterByUserId: "u".repeat(128),
        })
      ).status,
    ).toBe(200);
    expect((await http(emu, "POST", "/ListStageSessions", { stageArn, maxResults: 1 })).status).toBe(200);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("what IVS records (ListParticipantEvents)", () => {
  it("joins, publishes and leaves, in order, with their times", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    const keep = await joined(stageArn); // keeps the session open
    expect((await client("publish", a.participantId)).json).toEqual({
      participantId: a.participantId,
      stageArn,
      sessionId: a.sessionId,
      state: "CONNECTED",
      publishing: true,
    });
    expect((await client("publish", a.participantId)).status).toBe(200); // already publishing: nothing new
    await client("unpublish", a.participantId);
    await client("unpublish", a.participantId); // not publishing: nothing new
    await client("publish", a.participantId);
    await client("leave", a.participantId); // stops publishing first
    await client("leave", a.participantId); // idempotent
    expect((await http(emu, "POST", "/_emulator/join", { token: a.token })).json.sessionId).toBe(a.sessionId);

    const events = await eventsOf(stageArn, a.sessionId, a.participantId);
    expect(events.map((e) => e.name)).toEqual([
      "JOINED",
      "PUBLISH_STARTED",
      "PUBLISH_STOPPED",
      "PUBLISH_STARTED",
      "PUBLISH_STOPPED",
      "LEFT",
      "JOINED",
    ]);
    for (const e of events) {
      expect(e.participantId).toBe(a.participantId);
      expect(e.eventTime).toBeInstanceOf(Date);
      expect(e.errorCode).toBeUndefined();
      expect(e.remoteParticipantId).toBeUndefined();
    }
    const times = events.map((e) => e.eventTime!.getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));

    // Paged the same way.
    const paged: string[] = [];
    for await (const page of paginateListParticipantEvents(
      { client: ivs, pageSize: 2 },
      { stageArn, sessionId: a.sessionId, participantId: a.participantId },
    )) {
      expect(page.events!.length).toBeLessThanOrEqual(2);
      paged.push(...page.events!.map((e) => e.name!));
    }
    expect(paged).toEqual(events.map((e) => e.name));

    // The participants route has the publishing state.
    const route = await http(emu, "GET", `/_emulator/stages/${stageArn.split("/")[1]}/participants`);
    expect(route.json.participants).toEqual([
      {
        participantId: a.participantId,
        userId: "",
        state: "CONNECTED",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        publishing: false,
      },
      {
        participantId: keep.participantId,
        userId: "",
        state: "CONNECTED",
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        publishing: false,
      },
    ]);
  });

  it("a publish by a subscribe-only token fails as the SDK fails it, recorded as PUBLISH_ERROR", async () => {
    const stageArn = await newStage();
    const viewer = await joined(stageArn, { capabilities: ["SUBSCRIBE"], userId: "v" });
    const refused = await client("publish", viewer.participantId);
    expect(refused.status).toBe(403);
    expect(refused.json.stageError).toEqual({ code: "TOKEN_NOT_ALLOWED", category: "PUBLISH_ERROR" });
    const events = await eventsOf(stageArn, viewer.sessionId, viewer.participantId);
    expect(events.map((e) => [e.name, e.errorCode])).toEqual([
      ["JOINED", undefined],
      ["PUBLISH_ERROR", "INSUFFICIENT_CAPABILITIES"],
    ]);
    const { participant } = await ivs.send(
      new GetParticipantCommand({ stageArn, sessionId: viewer.sessionId, participantId: viewer.participantId }),
    );
    expect(participant?.published).toBe(false);
  });

  it("the simulated client's routes refuse what a client cannot do", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    const keep = await joined(stageArn);
    await client("leave", a.participantId);
    expect((await client("publish", a.participantId)).status).toBe(409); // not connected
    expect((await client("publish", "nobody")).status).toBe(404);
    expect((await client("leave", keep.participantId, UNKNOWN_STAGE)).status).toBe(404);
    expect((await client("leave", keep.participantId, stageArn)).status).toBe(200);
    for (const body of [
      undefined,
      {},
      { participantId: 7 },
      { participantId: "" },
      { participantId: "x", stageArn: 3 },
      [],
    ]) {
      expect((await http(emu, "POST", "/_emulator/publish", body)).status).toBe(400);
    }
    expect((await http(emu, "POST", "/_emulator/leave", undefined, "{oops")).status).toBe(400);
    // A disconnected participant cannot join again.
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: a.participantId }));
    expect((await http(emu, "POST", "/_emulator/join", { token: a.token })).status).toBe(403);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("the publisher quota", () => {
  it("takes 12 publishers; the 13th publish fails (STAGE_AT_CAPACITY, QUOTA_EXCEEDED) until one stops", async () => {
    const stageArn = await newStage();
    const everyone: Joined[] = [];
    for (let i = 0; i < 13; i++) everyone.push(await joined(stageArn, { userId: `p${i}` }));
    for (const p of everyone.slice(0, 12)) expect((await client("publish", p.participantId)).status).toBe(200);
    // Publishing again does not count twice.
    expect((await client("publish", everyone[0]!.participantId)).status).toBe(200);

    const thirteenth = everyone[12]!;
    const refused = await client("publish", thirteenth.participantId);
    expect(refused.status).toBe(409);
    expect(refused.json.stageError).toEqual({ code: "STAGE_AT_CAPACITY", category: "PUBLISH_ERROR" });
    const recorded = await eventsOf(stageArn, thirteenth.sessionId, thirteenth.participantId);
    expect(recorded.map((e) => [e.name, e.errorCode])).toEqual([
      ["JOINED", undefined],
      ["PUBLISH_ERROR", "QUOTA_EXCEEDED"],
    ]);
    const published = await ivs.send(
      new ListParticipantsCommand({ stageArn, sessionId: thirteenth.sessionId, filterByPublished: true }),
    );
    expect(published.participants).toHaveLength(12);

    // IVS tells EventBridge too.
    const sent = await busEvents(stageArn);
    expect(sent.filter((e) => e.detail.event_name === "Participant Published")).toHaveLength(12);
    expect(sent.at(-1)!.detail).toMatchObject({
      event_name: "Participant Publish Error",
      participant_id: thirteenth.participantId,
      user_id: "p12",
    });

    // One stops (here by leaving): the 13th can publish.
    await client("leave", everyone[3]!.participantId);
    expect((await client("publish", thirteenth.participantId)).json.publishing).toBe(true);
    expect((await client("publish", everyone[3]!.participantId)).status).toBe(409); // it left: not connected
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("events to EventBridge", () => {
  it("are the IVS Stage Update events, in EventBridge's envelope, for publish changes only", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn, { userId: "alice" });
    await client("publish", a.participantId);
    await client("unpublish", a.participantId);
    await client("leave", a.participantId);

    const sent = await busEvents(stageArn);
    expect(sent).toHaveLength(2); // no event for a join, a leave, or a session's start and end
    const ids = new Set<string>();
    for (const [event, name] of [
      [sent[0], "Participant Published"],
      [sent[1], "Participant Unpublished"],
    ] as const) {
      expect(event).toEqual({
        version: "0",
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        "detail-type": "IVS Stage Update",
        source: "aws.ivs",
        account: ACCOUNT,
        time: expect.stringMatching(EVENT_TIME),
        region: REGION,
        resources: [stageArn],
        detail: {
          session_id: a.sessionId,
          event_name: name,
          event_time: expect.stringMatching(EVENT_TIME),
          user_id: "alice",
          participant_id: a.participantId,
        },
      });
      ids.add(event.id);
    }
    expect(ids.size).toBe(2);
    expect(emu.sentEvents().slice(-2)).toEqual(sent);
    expect((await http(emu, "GET", "/_emulator/events")).json).toMatchObject({
      eventBusUrl: bus.url,
      controls: [],
      held: [],
      undeliverable: 0,
    });
  });

  it("can be dropped, duplicated and reordered on purpose", async () => {
    const stageArn = await newStage();
    const p = await joined(stageArn);
    const keep = await joined(stageArn);
    const flip = async (n: number) => {
      for (let i = 0; i < n; i++) await client(i % 2 === 0 ? "publish" : "unpublish", p.participantId);
    };

    for (const control of [{ drop: 1 }, { duplicate: true }, { reorder: 3 }]) {
      expect((await http(emu, "POST", "/_emulator/events", control)).status).toBe(200);
    }
    expect((await http(emu, "GET", "/_emulator/events")).json.controls).toEqual([
      { mode: "drop", remaining: 1 },
      { mode: "duplicate", remaining: 1 },
      { mode: "reorder", remaining: 3 },
    ]);
    await flip(6); // published, unpublished, published, unpublished, published, unpublished
    const names = (await busEvents(stageArn)).map((e) => e.detail.event_name);
    expect(names).toEqual([
      // #1 dropped; #2 twice; #3, #4, #5 held and sent backwards; #6 as it comes
      "Participant Unpublished",
      "Participant Unpublished",
      "Participant Published",
      "Participant Unpublished",
      "Participant Published",
      "Participant Unpublished",
    ]);
    const sent = await busEvents(stageArn);
    expect(sent[0].id).toBe(sent[1].id); // a duplicate is the same event
    const log = (await http(emu, "GET", "/_emulator/events")).json;
    expect(log.dropped.map((e: any) => e.detail.event_name)).toEqual(["Participant Published"]);
    expect(log.controls).toEqual([]);
    // IVS still recorded all of them.
    expect((await eventsOf(stageArn, p.sessionId, p.participantId)).filter((e) => e.name !== "JOINED")).toHaveLength(6);

    // Held events wait for a flush when fewer come than the reorder asked for.
    await http(emu, "POST", "/_emulator/events", { reorder: 5 });
    await flip(2);
    expect((await http(emu, "GET", "/_emulator/events")).json.held).toHaveLength(2);
    expect(await busEvents(stageArn)).toHaveLength(6);
    expect((await http(emu, "POST", "/_emulator/events/flush")).json).toEqual({ controls: [] });
    expect((await busEvents(stageArn)).slice(6).map((e) => e.detail.event_name)).toEqual([
      "Participant Unpublished",
      "Participant Published",
    ]);
    expect(keep.sessionId).toBe(p.sessionId);

    for (const bad of [
      {},
      { drop: 0 },
      { drop: 1001 },
      { drop: 1, duplicate: 1 },
      { shuffle: 2 },
      { reorder: "3" },
      [],
      null,
    ]) {
      expect((await http(emu, "POST", "/_emulator/events", bad)).status).toBe(400);
    }
    await http(emu, "POST", "/_emulator/events", { drop: 4 });
    expect((await http(emu, "DELETE", "/_emulator/events")).json).toEqual({ controls: [] });
    expect((await http(emu, "GET", "/_emulator/events")).json).toMatchObject({
      controls: [],
      sent: [],
      dropped: [],
      held: [],
    });
  });

  it("that the bus refuses are retried, then counted as undeliverable; with no bus they are only logged", async () => {
    const stageArn = await newStage();
    const p = await joined(stageArn);
    bus.answer = 503;
    try {
      await client("publish", p.participantId);
      await emu.eventsSettled();
    } finally {
      bus.answer = 200;
    }
    expect((await http(emu, "GET", "/_emulator/events")).json.undeliverable).toBe(1);
    expect(await busEvents(stageArn)).toEqual([]);

    emu.setEventBusUrl(undefined);
    try {
      await client("unpublish", p.participantId);
      await emu.eventsSettled();
      expect(emu.sentEvents().at(-1)!.detail).toMatchObject({ event_name: "Participant Unpublished" });
      expect(await busEvents(stageArn)).toEqual([]);
      expect((await http(emu, "GET", "/_emulator/events")).json).toMatchObject({ eventBusUrl: null, undeliverable: 1 });
    } finally {
      emu.setEventBusUrl(bus.url);
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("API rates", () => {
  it("are IVS's published 5 TPS for each of the five operations when enforced", async () => {
    const fresh = await startIvsEmulator({ enforceRates: true });
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ["/GetParticipant", { stageArn: UNKNOWN_STAGE, sessionId: UNKNOWN_SESSION, participantId: "p" }],
        ["/ListParticipants", { stageArn: UNKNOWN_STAGE, sessionId: UNKNOWN_SESSION }],
        ["/ListParticipantEvents", { stageArn: UNKNOWN_STAGE, sessionId: UNKNOWN_SESSION, participantId: "p" }],
        ["/GetStageSession", { stageArn: UNKNOWN_STAGE, sessionId: UNKNOWN_SESSION }],
        ["/ListStageSessions", { stageArn: UNKNOWN_STAGE }],
      ];
      for (const [path, body] of calls) {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await http(fresh, "POST", path, body)).status);
        expect({ path, statuses: statuses.map((s) => (s === 429 ? 429 : "ok")) }).toEqual({
          path,
          statuses: ["ok", "ok", "ok", "ok", "ok", 429],
        });
      }
      expect(fresh.requestCounts()).toMatchObject({
        GetParticipant: 6,
        ListParticipants: 6,
        ListParticipantEvents: 6,
        GetStageSession: 6,
        ListStageSessions: 6,
      });
    } finally {
      await fresh.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("robustness", () => {
  it("never answers 500, whatever the request to the new operations and routes", async () => {
    const stageArn = await newStage();
    const a = await joined(stageArn);
    const paths = [
      "/GetParticipant",
      "/ListParticipants",
      "/ListParticipantEvents",
      "/GetStageSession",
      "/ListStageSessions",
      "/_emulator/leave",
      "/_emulator/publish",
      "/_emulator/unpublish",
      "/_emulator/events",
      "/_emulator/events/flush",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom("GET", "POST", "DELETE"),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string(),
          fc
            .record(
              {
                stageArn: fc.oneof(fc.constant(stageArn), fc.string()),
                sessionId: fc.oneof(fc.constant(a.sessionId), fc.string()),
                participantId: fc.oneof(fc.constant(a.participantId), fc.string()),
                nextToken: fc.oneof(fc.string(), fc.constant("eyJ2IjoxLCJrIjoicGFydGljaXBhbnRzIiwiYSI6LTF9")),
                maxResults: fc.oneof(fc.integer(), fc.double()),
                filterByPublished: fc.jsonValue(),
                reorder: fc.integer({ min: 1, max: 3 }),
              },
              { requiredKeys: [] },
            )
            .map((v) => JSON.stringify(v)),
        ),
        async (path, method, body) => {
          const res = await fetch(`${emu.url}${path}`, method === "GET" ? { method } : { method, body });
          await res.arrayBuffer();
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
    await http(emu, "DELETE", "/_emulator/events");
    expect((await http(emu, "POST", "/ListStageSessions", { stageArn })).status).toBe(200);
  });
});
