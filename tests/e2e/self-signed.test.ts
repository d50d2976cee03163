// TOKEN_MODE=self-signed: tokens signed by the token function with the P-384 key from the secret store, joining
// the emulator's stage through the imported public key; no IVS call on the token path; kicks and bans as in the
// API mode; and rotation that keeps old tokens valid until their key is retired.
import { createPublicKey, verify } from "node:crypto";
import {
  GetPublicKeyCommand,
  GetStageCommand,
  IVSRealTimeClient,
  ListPublicKeysCommand,
} from "@aws-sdk/client-ivs-realtime";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { retireExpiredKeys, RETIRE_AFTER_MS, rotateSigningKey, type KeyDeps } from "../../shared/keys/rotate.ts";
import { readSigningKeySecret } from "../../shared/keys/signing-key.ts";
import { useStack, type TestStack } from "../support/stack.ts";

const stack = useStack({ env: { ...process.env, TOKEN_MODE: "self-signed" } });

const decode = (token: string) => {
  const [h, p, sig] = token.split(".") as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    claims: JSON.parse(Buffer.from(p, "base64url").toString()),
    input: `${h}.${p}`,
    signature: Buffer.from(sig, "base64url"),
  };
};

const keyDeps = (s: TestStack, now = Date.now): KeyDeps => {
  const local = { region: s.stack.info.region, credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  return {
    ivs: new IVSRealTimeClient({ ...local, endpoint: s.stack.ivs.url }),
    secrets: new SecretsManagerClient({ ...local, endpoint: s.stack.secrets.endpoint }),
    secretId: s.stack.environments.get("TokenFunction")!.SIGNING_KEY_SECRET_ID!,
    now,
  };
};

describe("self-signed participant tokens", () => {
  it("runs the token function in self-signed mode with a key imported at start", async () => {
    const s = stack();
    expect(s.tokenMode).toBe("self-signed");
    const keys = await s.ivs.send(new ListPublicKeysCommand({}));
    expect(keys.publicKeys).toHaveLength(1);
    const secret = await readSigningKeySecret(keyDeps(s).secrets, keyDeps(s).secretId);
    expect(secret.current?.publicKeyArn).toBe(keys.publicKeys![0]!.arn);
  });

  it("signs ES384 tokens with the documented header and claims, verifiable with the imported public key", async () => {
    const s = stack();
    const owner = await s.login("ss-owner");
    const viewer = await s.login("ss-viewer", { preferredUsername: "Vee" });
    const room = await s.createRoom(owner, { name: "ss" });
    const r = await s.api("POST", `/rooms/${room.roomId}/token`, {
      as: viewer,
      body: { attributes: { avatarUrl: "https://x/a.png" }, durationMinutes: 30 },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const { header, claims, input, signature } = decode(r.body.token);
    expect(header).toEqual({
      alg: "ES384",
      typ: "JWT",
      kid: expect.stringMatching(/^arn:aws:ivs:us-east-1:123456789012:public-key\/[A-Za-z0-9]+$/),
    });
    const stage = (await s.ivs.send(new GetStageCommand({ arn: room.stageArn }))).stage!;
    expect(claims).toEqual({
      exp: claims.iat + 30 * 60,
      iat: expect.any(Number),
      jti: r.body.participantId,
      resource: room.stageArn,
      topic: room.roomId,
      events_url: stage.endpoints!.events,
      whip_url: stage.endpoints!.whip,
      user_id: viewer.sub,
      attributes: { avatarUrl: "https://x/a.png", role: "viewer", displayName: "Vee" },
      capabilities: { allow_publish: false, allow_subscribe: true },
      version: "1.0",
    });
    expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(30);
    expect(r.body.participantId).toMatch(/^[A-Za-z0-9-]{1,64}$/);
    expect(r.body.expirationTime).toBe(new Date(claims.exp * 1000).toISOString());
    const pem = (await s.ivs.send(new GetPublicKeyCommand({ arn: header.kid }))).publicKey!.publicKeyMaterial!;
    expect(
      verify("sha384", Buffer.from(input), { key: createPublicKey(pem), dsaEncoding: "ieee-p1363" }, signature),
    ).toBe(true);

    const joined = await s.join(r.body.token);
    expect(joined.status, joined.text).toBe(200);
    const seen = (await s.participants(room.roomId)).find((p) => p.participantId === r.body.participantId);
    expect(seen).toMatchObject({ userId: viewer.sub, state: "CONNECTED", capabilities: ["SUBSCRIBE"] });
  });

  it("participant ids are unique and unguessable", async () => {
    const s = stack();
    const owner = await s.login("ss-ids", { groups: ["admin"] });
    const room = await s.createRoom(owner);
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add((await s.api("GET", `/rooms/${room.roomId}/token`, { as: owner })).body.participantId);
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{20}$/);
  });

  it("a viewer's token request touches DynamoDB to read, to charge the caller and to record, and nothing of IVS", async () => {
    const s = stack();
    const owner = await s.login("ss-io-owner");
    const viewer = await s.login("ss-io-viewer");
    const room = await s.createRoom(owner);
    s.stack.dynamodb.resetCounts();
    s.stack.ivs.resetCounts();
    expect((await s.api("POST", `/rooms/${room.roomId}/token`, { as: viewer })).status).toBe(200);
    expect(s.stack.dynamodb.requestCounts()).toEqual({ BatchGetItem: 1, UpdateItem: 1, TransactWriteItems: 1 });
    expect(s.stack.ivs.requestCounts()).toEqual({});
  });

  it("a kicked and banned user stays out: the old token cannot join, a new one is refused; after unban they are back", async () => {
    const s = stack();
    const owner = await s.login("ss-mod-owner");
    const viewer = await s.login("ss-mod-viewer");
    const room = await s.createRoom(owner);
    const first = await s.api("POST", `/rooms/${room.roomId}/token`, { as: viewer });
    const unused = await s.api("POST", `/rooms/${room.roomId}/token`, { as: viewer });
    expect((await s.join(first.body.token)).status).toBe(200);
    const kick = await s.api("POST", `/rooms/${room.roomId}/kick`, {
      as: owner,
      body: { userId: viewer.sub, banMinutes: 10, reason: "spam" },
    });
    expect(kick.status, kick.text).toBe(200);
    expect([...kick.body.disconnected, ...kick.body.pending].sort()).toEqual(
      [first.body.participantId, unused.body.participantId].sort(),
    );
    expect((await s.join(first.body.token)).status).toBe(403);
    expect((await s.join(unused.body.token)).status).toBe(403);
    const refused = await s.api("POST", `/rooms/${room.roomId}/token`, { as: viewer });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("banned");
    expect(refused.body.until).toBe(kick.body.ban.until);
    expect((await s.api("DELETE", `/rooms/${room.roomId}/bans/${viewer.sub}`, { as: owner })).status).toBe(204);
    const back = await s.api("POST", `/rooms/${room.roomId}/token`, { as: viewer });
    expect(back.status).toBe(200);
    expect((await s.join(back.body.token)).status).toBe(200);
  });

  it("rotation: tokens of the old key keep joining until it is retired, then the old key is deleted and they are refused", async () => {
    const s = stack();
    const owner = await s.login("ss-rot-owner", { groups: ["admin"] });
    const room = await s.createRoom(owner);
    const before = await s.api("POST", `/rooms/${room.roomId}/token`, { as: owner });
    const oldKid = decode(before.body.token).header.kid;

    const rotated = await rotateSigningKey(keyDeps(s));
    expect(rotated.publicKeyArn).not.toBe(oldKid);
    expect(rotated.retired).toEqual([]);
    const secret = await readSigningKeySecret(keyDeps(s).secrets, keyDeps(s).secretId);
    expect(secret.current?.publicKeyArn).toBe(rotated.publicKeyArn);
    expect(secret.previous.map((p) => p.publicKeyArn)).toEqual([oldKid]);
    expect(Date.parse(secret.previous[0]!.retireAfter) - Date.now()).toBeGreaterThan(RETIRE_AFTER_MS - 60_000);

    // Before its retirement time nothing is deleted, and the old key's tokens still join.
    expect(await retireExpiredKeys(keyDeps(s))).toEqual([]);
    expect((await s.join(before.body.token)).status).toBe(200);

    // Past it, the old public key goes from IVS; a token it signed can no longer join.
    const later = await s.api("POST", `/rooms/${room.roomId}/token`, { as: owner });
    expect(decode(later.body.token).header.kid).toBe(oldKid); // a warm container signs with the key it read, until its refresh
    expect(await retireExpiredKeys(keyDeps(s, () => Date.now() + RETIRE_AFTER_MS + 1_000))).toEqual([oldKid]);
    expect((await s.join(later.body.token)).status).toBe(401);
    const keys = await s.ivs.send(new ListPublicKeysCommand({}));
    expect(keys.publicKeys!.map((k) => k.arn)).toEqual([rotated.publicKeyArn]);
  });
});
