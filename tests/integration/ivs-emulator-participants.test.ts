/**
 * The IVS Real-Time emulator (local/ivs), driven by the unmodified AWS SDK client: participant tokens, joining a
 * stage with them and being disconnected, and self-signed tokens with an imported public key. The other operations:
 * ivs-emulator.test.ts (helpers for both: tests/support/ivs-emulator.ts).
 */
import { randomUUID, verify, type KeyObject } from "node:crypto";
import {
  CreateParticipantTokenCommand,
  CreateStageCommand,
  DeletePublicKeyCommand,
  DeleteStageCommand,
  DisconnectParticipantCommand,
  GetStageCommand,
  ImportPublicKeyCommand,
  IVSRealTimeClient,
  ListStagesCommand,
  paginateListStages,
} from "@aws-sdk/client-ivs-realtime";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startIvsEmulator } from "../../local/ivs/index.ts";
import type { IvsEmulator } from "../../local/ivs/index.ts";
import {
  clientFor,
  decodeJwt,
  expectAwsError,
  http,
  join,
  p384,
  SESSION_ID,
  signEs384,
  stageIdOf,
  UNKNOWN_KEY,
  UNKNOWN_STAGE,
} from "../support/ivs-emulator.ts";

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

describe("participant tokens", () => {
  it("are ES384 JWTs that verify with the emulator's public key and carry the documented claims", async () => {
    const stage = (await ivs.send(new CreateStageCommand({}))).stage!;
    const issued = await newToken(stage.arn!, {
      userId: "carol",
      attributes: { seat: "7" },
      capabilities: ["SUBSCRIBE"],
      duration: 5,
    });
    const [h, c, s] = issued.token!.split(".") as [string, string, string];
    expect(
      verify(
        "sha384",
        Buffer.from(`${h}.${c}`),
        { key: emu.publicKeyPem, dsaEncoding: "ieee-p1363" },
        Buffer.from(s, "base64url"),
      ),
    ).toBe(true);

    const served = await http(emu, "GET", "/_emulator/public-key");
    expect(served.json).toMatchObject({ pem: emu.publicKeyPem, jwk: { kty: "EC", crv: "P-384" } });

    const { header, claims } = decodeJwt(issued.token!);
    expect(header).toMatchObject({ alg: "ES384", typ: "JWT" });
    expect(typeof header.kid).toBe("string");
    const again = decodeJwt((await newToken(stage.arn!)).token!);
    expect(again.header.kid).toBe(header.kid);

    expect(claims).toMatchObject({
      jti: issued.participantId,
      resource: stage.arn,
      topic: stageIdOf(stage.arn!),
      events_url: stage.endpoints!.events,
      whip_url: stage.endpoints!.whip,
      user_id: "carol",
      attributes: { seat: "7" },
      capabilities: { allow_publish: false, allow_subscribe: true },
      version: "1.0",
    });
    expect(claims.exp).toBe((claims.iat as number) + 5 * 60);
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(issued.expirationTime!.getTime()).toBe((claims.exp as number) * 1000);
  });

  it("have unique participant ids without '_'", async () => {
    const stageArn = await newStage();
    const ids = await Promise.all(Array.from({ length: 30 }, async () => (await newToken(stageArn)).participantId!));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9]{12,64}$/);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("join and disconnect", () => {
  it("join connects a participant and the stage gets an activeSessionId", async () => {
    const stageArn = await newStage();
    const { token, participantId } = await newToken(stageArn, { userId: "dave", capabilities: ["SUBSCRIBE"] });
    expect((await ivs.send(new GetStageCommand({ arn: stageArn }))).stage?.activeSessionId).toBeUndefined();

    const joined = await join(emu, token!);
    expect(joined.status).toBe(200);
    const body = joined.json as { participantId: string; stageArn: string; sessionId: string };
    expect(body).toEqual({ participantId, stageArn, sessionId: expect.stringMatching(SESSION_ID) });

    const stage = (await ivs.send(new GetStageCommand({ arn: stageArn }))).stage!;
    expect(stage.activeSessionId).toBe(body.sessionId);
    const listed = await ivs.send(new ListStagesCommand({ maxResults: 100 }));
    let summary = listed.stages?.find((s) => s.arn === stageArn);
    for await (const pageOut of paginateListStages({ client: ivs }, {})) {
      summary ??= pageOut.stages?.find((s) => s.arn === stageArn);
    }
    expect(summary?.activeSessionId).toBe(body.sessionId);

    const participants = await http(emu, "GET", `/_emulator/stages/${stageIdOf(stageArn)}/participants`);
    expect(participants.json).toEqual({
      participants: [
        { participantId, userId: "dave", state: "CONNECTED", capabilities: ["SUBSCRIBE"], publishing: false },
      ],
    });

    // After everyone is disconnected, the session ends.
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: participantId! }));
    const after = await http(emu, "GET", `/_emulator/stages/${stageIdOf(stageArn)}/participants`);
    expect(after.json).toEqual({
      participants: [
        { participantId, userId: "dave", state: "DISCONNECTED", capabilities: ["SUBSCRIBE"], publishing: false },
      ],
    });
    expect((await ivs.send(new GetStageCommand({ arn: stageArn }))).stage?.activeSessionId).toBeUndefined();
    // A second disconnect is fine; rejoining is not.
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: participantId! }));
    expect((await join(emu, token!)).status).toBe(403);
  });

  it("a token revoked before it joined can never join", async () => {
    const stageArn = await newStage();
    const { token, participantId } = await newToken(stageArn);
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: participantId!, reason: "banned" }));
    expect((await join(emu, token!)).status).toBe(403);
    expect((await http(emu, "GET", `/_emulator/stages/${stageIdOf(stageArn)}/participants`)).json).toEqual({
      participants: [],
    });
  });

  it("disconnecting an id the stage never issued answers ResourceNotFoundException (no public key imported)", async () => {
    const fresh = await startIvsEmulator();
    const client = clientFor(fresh);
    try {
      const stageArn = (await client.send(new CreateStageCommand({}))).stage!.arn!;
      const other = (await client.send(new CreateStageCommand({}))).stage!.arn!;
      const { participantId } = (await client.send(new CreateParticipantTokenCommand({ stageArn: other })))
        .participantToken!;
      for (const id of [participantId!, "neverIssued1", ""]) {
        await expectAwsError(
          client.send(new DisconnectParticipantCommand({ stageArn, participantId: id })),
          "ResourceNotFoundException",
          404,
        );
      }
      // Once the account has an imported public key, self-signed participant ids the emulator has not seen yet
      // can be revoked ahead of their join (documented choice of the emulator).
      await client.send(new ImportPublicKeyCommand({ publicKeyMaterial: p384().pem }));
      const out = await client.send(new DisconnectParticipantCommand({ stageArn, participantId: "neverIssued1" }));
      expect(out.$metadata.httpStatusCode).toBe(200);
      await expectAwsError(
        client.send(new DisconnectParticipantCommand({ stageArn, participantId: "" })),
        "ResourceNotFoundException",
        404,
      );
    } finally {
      client.destroy();
      await fresh.close();
    }
  });

  it("rejects bad, tampered and expired tokens with 401 and tokens of deleted stages with 404", async () => {
    const stageArn = await newStage();
    const { token } = await newToken(stageArn);
    expect((await join(emu, "not-a-jwt")).status).toBe(401);
    const [h, c, s] = token!.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(c, "base64url").toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, user_id: "mallory" })).toString("base64url")}.${s}`;
    expect((await join(emu, tampered)).status).toBe(401);
    expect((await http(emu, "POST", "/_emulator/join", {})).status).toBe(400);

    // An emulator token past its exp (the emulator reads the clock through Date.now()).
    const expiring = await newToken(stageArn, { duration: 1 });
    const { claims: ec } = decodeJwt(expiring.token!);
    expect(ec.exp).toBe((ec.iat as number) + 60);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime((ec.exp as number) * 1000 + 1_000);
      expect((await join(emu, expiring.token!)).status).toBe(401);
      vi.setSystemTime((ec.exp as number) * 1000 - 5_000);
      expect((await join(emu, expiring.token!)).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }

    const doomed = await newStage();
    const joinedBefore = await newToken(doomed);
    const notYet = await newToken(doomed);
    expect((await join(emu, joinedBefore.token!)).status).toBe(200);
    await ivs.send(new DeleteStageCommand({ arn: doomed }));
    expect((await join(emu, notYet.token!)).status).toBe(404);
    const after = (await http(emu, "GET", `/_emulator/stages/${stageIdOf(doomed)}/participants`)).json as {
      participants: Array<{ state: string }>;
    };
    expect(after.participants.map((p) => p.state)).toEqual(["DISCONNECTED"]);
    expect((await http(emu, "GET", "/_emulator/stages/AAAAAAAAAAAA/participants")).status).toBe(404);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("self-signed tokens with an imported public key", () => {
  let stageArn: string;
  let keyArn: string;
  let privateKey: KeyObject;

  beforeAll(async () => {
    stageArn = await newStage({ name: "self-signed" });
    const pair = p384();
    privateKey = pair.privateKey;
    keyArn = (await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pair.pem, name: "selfsigning" })))
      .publicKey!.arn!;
  });

  const claimsFor = (arn: string, overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      exp: now + 600,
      iat: now,
      jti: `self-${randomUUID().slice(0, 8)}`,
      resource: arn,
      topic: stageIdOf(arn),
      events_url: "wss://global.events.live-video.net",
      whip_url: "https://example.global-bm.whip.live-video.net",
      user_id: "erin",
      attributes: {},
      capabilities: { allow_publish: true, allow_subscribe: true },
      version: "1.0",
      ...overrides,
    };
  };
  const header = () => ({ alg: "ES384", typ: "JWT", kid: keyArn });

  it("joins with a token signed by the imported key", async () => {
    const claims = claimsFor(stageArn);
    const res = await join(emu, signEs384(privateKey, header(), claims));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      participantId: claims.jti,
      stageArn,
      sessionId: expect.stringMatching(SESSION_ID),
    });
    const listed = (await http(emu, "GET", `/_emulator/stages/${stageIdOf(stageArn)}/participants`)).json as {
      participants: unknown[];
    };
    expect(listed.participants).toContainEqual({
      participantId: claims.jti,
      userId: "erin",
      state: "CONNECTED",
      capabilities: ["PUBLISH", "SUBSCRIBE"],
      publishing: false,
    });
    // A joined self-signed participant can be disconnected.
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: claims.jti }));
    expect((await join(emu, signEs384(privateKey, header(), claims))).status).toBe(403);
  });

  it("a self-signed participant id disconnected before it joins can never join", async () => {
    const claims = claimsFor(stageArn);
    await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: claims.jti }));
    expect((await join(emu, signEs384(privateKey, header(), claims))).status).toBe(403);
  });

  it("refuses a wrong stage, a bad signature, an expired token, an unknown kid and a deleted key", async () => {
    const other = await newStage();
    // topic does not match resource
    expect(
      (await join(emu, signEs384(privateKey, header(), claimsFor(stageArn, { topic: stageIdOf(other) })))).status,
    ).toBe(401);
    // well-formed but no such stage
    expect((await join(emu, signEs384(privateKey, header(), claimsFor(UNKNOWN_STAGE)))).status).toBe(404);
    // signed by a key that was never imported, under the imported key's kid
    expect((await join(emu, signEs384(p384().privateKey, header(), claimsFor(stageArn)))).status).toBe(401);
    // expired
    const past = Math.floor(Date.now() / 1000) - 120;
    expect(
      (await join(emu, signEs384(privateKey, header(), claimsFor(stageArn, { iat: past - 60, exp: past })))).status,
    ).toBe(401);
    // unknown kid
    expect(
      (await join(emu, signEs384(privateKey, { ...header(), kid: UNKNOWN_KEY }, claimsFor(stageArn)))).status,
    ).toBe(401);
    // wrong algorithm
    expect((await join(emu, signEs384(privateKey, { ...header(), alg: "ES256" }, claimsFor(stageArn)))).status).toBe(
      401,
    );

    // deleted key
    const pair = p384();
    const arn = (await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pair.pem }))).publicKey!.arn!;
    const token = signEs384(pair.privateKey, { ...header(), kid: arn }, claimsFor(other));
    await ivs.send(new DeletePublicKeyCommand({ arn }));
    expect((await join(emu, token)).status).toBe(401);
  });
});
