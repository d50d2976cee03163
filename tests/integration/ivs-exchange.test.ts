/**
 * Token exchange in the IVS Real-Time emulator (local/ivs): `POST /_emulator/exchange`, what a broadcast SDK's
 * `exchangeToken` does on a stage. Tokens are signed here, with node:crypto and a P-384 key imported through the
 * unmodified AWS SDK client (ImportPublicKey); what IVS records is read back with ListParticipantEvents and
 * GetParticipant, and the "IVS Stage Update" events from a bare HTTP server standing in for the event bus.
 *
 * The rules are the IVS user guide's ("IVS Broadcast SDK: Token Exchange"): only tokens signed with a key pair can be
 * exchanged (not CreateParticipantToken's); topic, resource, jti, whip_url and events_url must not change; the new
 * capabilities are evaluated at once (a publisher that loses PUBLISH unpublishes).
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import {
  CreateParticipantTokenCommand,
  CreateStageCommand,
  DeletePublicKeyCommand,
  DisconnectParticipantCommand,
  GetParticipantCommand,
  GetStageCommand,
  ImportPublicKeyCommand,
  IVSRealTimeClient,
  ListParticipantEventsCommand,
} from "@aws-sdk/client-ivs-realtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startIvsEmulator, type IvsEmulator } from "../../local/ivs/index.ts";

const REGION = "us-east-1";

let emu: IvsEmulator;
let ivs: IVSRealTimeClient;
let bus: { url: string; events: any[]; close(): Promise<void> };
let key: { kid: string; privateKey: KeyObject };

async function startRecorder(): Promise<typeof bus> {
  const events: any[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    events,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function importKey(): Promise<typeof key> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
  const arn = (await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pem }))).publicKey!.arn!;
  return { kid: arn, privateKey };
}

beforeAll(async () => {
  bus = await startRecorder();
  emu = await startIvsEmulator({ eventBusUrl: bus.url });
  ivs = new IVSRealTimeClient({
    endpoint: emu.url,
    region: REGION,
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 1,
  });
  key = await importKey();
});

afterAll(async () => {
  ivs?.destroy();
  await emu?.close();
  await bus?.close();
});

afterEach(async () => {
  await post("/_emulator/events", undefined, "DELETE");
});

async function post(path: string, body?: unknown, method = "POST") {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function signToken(claims: Record<string, unknown>, signer: { kid: string; privateKey: KeyObject } = key): string {
  const input = `${b64url({ alg: "ES384", typ: "JWT", kid: signer.kid })}.${b64url(claims)}`;
  const signature = sign("sha384", Buffer.from(input), { key: signer.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

interface Stage {
  arn: string;
  claims: (participantId: string, over?: Record<string, unknown>) => Record<string, unknown>;
}

async function newStage(): Promise<Stage> {
  const stage = (await ivs.send(new CreateStageCommand({}))).stage!;
  const now = Math.floor(Date.now() / 1000);
  return {
    arn: stage.arn!,
    claims: (participantId, over = {}) => ({
      exp: now + 3600,
      iat: now,
      jti: participantId,
      resource: stage.arn,
      topic: stage.arn!.split("/")[1],
      events_url: stage.endpoints!.events,
      whip_url: stage.endpoints!.whip,
      user_id: "user-1",
      attributes: { role: "viewer" },
      capabilities: { allow_publish: false, allow_subscribe: true },
      version: "1.0",
      ...over,
    }),
  };
}

let counter = 0;
/** A self-signed participant that has joined `stage`, SUBSCRIBE-only unless told otherwise. */
async function joinedSelfSigned(stage: Stage, over: Record<string, unknown> = {}) {
  const participantId = `pExchange${++counter}`;
  const joined = await post("/_emulator/join", { token: signToken(stage.claims(participantId, over)) });
  expect(joined.status).toBe(200);
  return { participantId, sessionId: joined.json.sessionId as string };
}

const exchange = (participantId: string, token: string, stageArn?: string) =>
  post("/_emulator/exchange", { participantId, token, ...(stageArn ? { stageArn } : {}) });

const PUBLISHER = { capabilities: { allow_publish: true, allow_subscribe: true } };

async function busEvents(stageArn: string): Promise<any[]> {
  await emu.eventsSettled();
  return bus.events.filter((e) => e.resources?.[0] === stageArn);
}

describe("POST /_emulator/exchange", () => {
  it("promotes a viewer in place: same participant, same session, PUBLISH at once; IVS records and reports it", async () => {
    const stage = await newStage();
    const viewer = await joinedSelfSigned(stage);
    expect((await post("/_emulator/publish", { participantId: viewer.participantId })).json.stageError?.code).toBe(
      "TOKEN_NOT_ALLOWED",
    );

    const exp = Math.floor(Date.now() / 1000) + 7200;
    const promoted = signToken(
      stage.claims(viewer.participantId, { ...PUBLISHER, exp, attributes: { role: "speaker" }, user_id: "user-1b" }),
    );
    const r = await exchange(viewer.participantId, promoted);
    expect(r).toEqual({
      status: 200,
      json: {
        participantId: viewer.participantId,
        stageArn: stage.arn,
        sessionId: viewer.sessionId,
        state: "CONNECTED",
        publishing: false,
        userId: "user-1b",
        attributes: { role: "speaker" },
        capabilities: ["PUBLISH", "SUBSCRIBE"],
        expirationTime: new Date(exp * 1000).toISOString(),
      },
    });
    const published = await post("/_emulator/publish", { participantId: viewer.participantId });
    expect(published.json).toMatchObject({ sessionId: viewer.sessionId, publishing: true });

    // ListParticipantEvents, through the AWS SDK: one JOINED, the exchange with both tokens, then the publish.
    const { events } = await ivs.send(
      new ListParticipantEventsCommand({
        stageArn: stage.arn,
        sessionId: viewer.sessionId,
        participantId: viewer.participantId,
      }),
    );
    expect(events!.map((e) => e.name)).toEqual(["JOINED", "PUBLISH_ERROR", "TOKEN_EXCHANGED", "PUBLISH_STARTED"]);
    const exchanged = events![2]!;
    expect(exchanged.previousToken).toEqual({
      capabilities: ["SUBSCRIBE"],
      attributes: { role: "viewer" },
      userId: "user-1",
      expirationTime: expect.any(Date),
    });
    expect(exchanged.newToken).toEqual({
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      attributes: { role: "speaker" },
      userId: "user-1b",
      expirationTime: new Date(exp * 1000),
    });
    expect(exchanged.eventTime).toBeInstanceOf(Date);
    const { participant } = await ivs.send(
      new GetParticipantCommand({
        stageArn: stage.arn,
        sessionId: viewer.sessionId,
        participantId: viewer.participantId,
      }),
    );
    expect(participant).toMatchObject({
      userId: "user-1b",
      attributes: { role: "speaker" },
      state: "CONNECTED",
      published: true,
    });

    const sent = await busEvents(stage.arn);
    expect(sent.map((e) => e.detail.event_name)).toEqual([
      "Participant Publish Error",
      "Token Exchanged",
      "Participant Published",
    ]);
    expect(sent[1]).toMatchObject({
      "detail-type": "IVS Stage Update",
      source: "aws.ivs",
      resources: [stage.arn],
      detail: { session_id: viewer.sessionId, participant_id: viewer.participantId, user_id: "user-1b" },
    });
  });

  it("a publisher whose new token lacks PUBLISH stops publishing at once", async () => {
    const stage = await newStage();
    const host = await joinedSelfSigned(stage, PUBLISHER);
    expect((await post("/_emulator/publish", { participantId: host.participantId })).status).toBe(200);
    const r = await exchange(host.participantId, signToken(stage.claims(host.participantId)));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ publishing: false, capabilities: ["SUBSCRIBE"] });
    expect((await post("/_emulator/publish", { participantId: host.participantId })).status).toBe(403);
    const { events } = await ivs.send(
      new ListParticipantEventsCommand({
        stageArn: stage.arn,
        sessionId: host.sessionId,
        participantId: host.participantId,
      }),
    );
    expect(events!.map((e) => e.name)).toEqual([
      "JOINED",
      "PUBLISH_STARTED",
      "TOKEN_EXCHANGED",
      "PUBLISH_STOPPED",
      "PUBLISH_ERROR",
    ]);
    expect((await busEvents(stage.arn)).map((e) => e.detail.event_name)).toEqual([
      "Participant Published",
      "Token Exchanged",
      "Participant Unpublished",
      "Participant Publish Error",
    ]);
  });

  it("renews a token: a later expiry, nothing else changed, and the participant stays", async () => {
    const stage = await newStage();
    const near = Math.floor(Date.now() / 1000) + 30;
    const p = await joinedSelfSigned(stage, { exp: near });
    const r = await exchange(p.participantId, signToken(stage.claims(p.participantId, { exp: near + 3600 })));
    expect(r.status).toBe(200);
    expect(r.json.expirationTime).toBe(new Date((near + 3600) * 1000).toISOString());
    const { events } = await ivs.send(
      new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId: p.sessionId, participantId: p.participantId }),
    );
    expect(events!.map((e) => [e.name, e.previousToken?.expirationTime, e.newToken?.expirationTime])).toEqual([
      ["JOINED", undefined, undefined],
      ["TOKEN_EXCHANGED", new Date(near * 1000), new Date((near + 3600) * 1000)],
    ]);
  });

  it.each(["topic", "resource", "jti", "whip_url", "events_url"])(
    "refuses a token that changes %s, and changes nothing",
    async (claim) => {
      const stage = await newStage();
      const other = await newStage();
      const p = await joinedSelfSigned(stage);
      const changed = {
        topic: other.arn.split("/")[1],
        resource: other.arn,
        jti: `${p.participantId}x`,
        whip_url: "https://elsewhere.global-bm.whip.live-video.net",
        events_url: "wss://elsewhere.events.live-video.net",
      }[claim];
      // topic and resource are changed together too (a token naming one other stage), as the SDK still refuses it.
      const overrides =
        claim === "topic" || claim === "resource"
          ? { topic: other.arn.split("/")[1], resource: other.arn }
          : { [claim]: changed };
      const r = await exchange(
        p.participantId,
        signToken(stage.claims(p.participantId, { ...PUBLISHER, ...overrides })),
      );
      expect(r.status).toBe(409);
      expect(r.json.reason).toBe("IMMUTABLE_CLAIM_CHANGED");
      expect(r.json.message).toContain(claim);
      const { events } = await ivs.send(
        new ListParticipantEventsCommand({
          stageArn: stage.arn,
          sessionId: p.sessionId,
          participantId: p.participantId,
        }),
      );
      expect(events!.map((e) => e.name)).toEqual(["JOINED"]);
      expect((await post("/_emulator/publish", { participantId: p.participantId })).status).toBe(403);
    },
  );

  it("refuses tokens from CreateParticipantToken, either way round", async () => {
    const stage = await newStage();
    const made = (
      await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, capabilities: ["SUBSCRIBE"] }))
    ).participantToken!;
    const joined = await post("/_emulator/join", { token: made.token });
    expect(joined.status).toBe(200);
    // A participant that joined with an IVS-made token cannot exchange, even for a well-formed self-signed one.
    const selfSigned = signToken(stage.claims(made.participantId!, PUBLISHER));
    expect(await exchange(made.participantId!, selfSigned)).toMatchObject({
      status: 409,
      json: { reason: "NOT_KEY_PAIR_TOKEN" },
    });

    // A self-signed participant cannot take an IVS-made token.
    const p = await joinedSelfSigned(stage);
    const other = (await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn }))).participantToken!;
    expect(await exchange(p.participantId, other.token!)).toMatchObject({
      status: 409,
      json: { reason: "NOT_KEY_PAIR_TOKEN" },
    });
  });

  it("refuses a token signed with a key that was never imported, or was deleted", async () => {
    const stage = await newStage();
    const p = await joinedSelfSigned(stage);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const neverImported = signToken(stage.claims(p.participantId, PUBLISHER), {
      kid: `arn:aws:ivs:${REGION}:123456789012:public-key/NeverImported`,
      privateKey,
    });
    expect(await exchange(p.participantId, neverImported)).toMatchObject({
      status: 401,
      json: { reason: "INVALID_TOKEN" },
    });
    // Signed by a key other than the one its kid names.
    const forged = signToken(stage.claims(p.participantId, PUBLISHER), { kid: key.kid, privateKey });
    expect(await exchange(p.participantId, forged)).toMatchObject({ status: 401, json: { reason: "INVALID_TOKEN" } });

    const retired = await importKey();
    const q = await joinedSelfSigned(stage);
    await ivs.send(new DeletePublicKeyCommand({ arn: retired.kid }));
    const byRetired = signToken(stage.claims(q.participantId, PUBLISHER), retired);
    expect(await exchange(q.participantId, byRetired)).toMatchObject({
      status: 401,
      json: { reason: "INVALID_TOKEN" },
    });
    expect(await exchange(q.participantId, "not-a-jwt")).toMatchObject({
      status: 401,
      json: { reason: "INVALID_TOKEN" },
    });
  });

  it("refuses an expired token", async () => {
    const stage = await newStage();
    const p = await joinedSelfSigned(stage);
    const past = Math.floor(Date.now() / 1000) - 1;
    const r = await exchange(p.participantId, signToken(stage.claims(p.participantId, { ...PUBLISHER, exp: past })));
    expect(r).toMatchObject({ status: 401, json: { reason: "EXPIRED" } });
  });

  it("refuses a participant that was disconnected, left, or never joined", async () => {
    const stage = await newStage();
    const kicked = await joinedSelfSigned(stage);
    const stays = await joinedSelfSigned(stage);
    await ivs.send(new DisconnectParticipantCommand({ stageArn: stage.arn, participantId: kicked.participantId }));
    const kickedAgain = signToken(stage.claims(kicked.participantId, PUBLISHER));
    expect(await exchange(kicked.participantId, kickedAgain)).toMatchObject({
      status: 403,
      json: { reason: "DISCONNECTED" },
    });

    const left = await joinedSelfSigned(stage);
    expect((await post("/_emulator/leave", { participantId: left.participantId })).status).toBe(200);
    expect(await exchange(left.participantId, signToken(stage.claims(left.participantId)))).toMatchObject({
      status: 409,
      json: { reason: "NOT_CONNECTED" },
    });

    expect(await exchange("pNeverJoined", signToken(stage.claims("pNeverJoined")))).toMatchObject({
      status: 404,
      json: { reason: "NOT_JOINED" },
    });
    expect(await post("/_emulator/exchange", { participantId: stays.participantId })).toMatchObject({
      status: 400,
      json: { reason: "BAD_REQUEST" },
    });
    expect(await post("/_emulator/exchange", { token: "x" })).toMatchObject({
      status: 400,
      json: { reason: "BAD_REQUEST" },
    });
    // Nothing of that reached the participant still there, nor IVS's event stream.
    expect((await busEvents(stage.arn)).map((e) => e.detail.event_name)).toEqual([]);
    expect((await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage!.activeSessionId).toBe(stays.sessionId);
  });
});
