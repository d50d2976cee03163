/**
 * The offline stack's identity (local/identity.ts, POST /dev/login) and GET /dev/info: Cognito-shaped RS256 tokens
 * that aws-jwt-verify's CognitoJwtVerifier accepts exactly as it would Cognito's, and endpoints that answer.
 */
import { createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
} from "@aws-sdk/client-dynamodb";
import { IVSRealTimeClient, ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  JwtExpiredError,
  JwtInvalidSignatureError,
} from "aws-jwt-verify/error";
import type { Jwks } from "aws-jwt-verify/jwk";
import { describe, expect, it } from "vitest";
import { createLocalIdentity, subFor } from "../../local/identity.ts";
import { loadTemplate, tableOf } from "../../local/template.ts";
import { useStack } from "../support/stack.ts";

const stack = useStack();

const UUID_V4_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

const decode = (token: string) => {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")),
    signature,
  };
};
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

async function devInfo(s: ReturnType<typeof stack>) {
  const r = await s.api("GET", "/dev/info");
  expect(r.status).toBe(200);
  return r.body as {
    region: string;
    userPoolId: string;
    clientId: string;
    ivsEndpoint: string;
    dynamodbEndpoint: string;
    tableName: string;
    jwksUri: string;
  };
}

/** Verifiers built as a handler builds them, with the JWKS the stack publishes at /dev/info's jwksUri. */
async function verifiers(s: ReturnType<typeof stack>) {
  const info = await devInfo(s);
  const jwks = (await (await fetch(info.jwksUri)).json()) as Jwks;
  const id = CognitoJwtVerifier.create({ userPoolId: info.userPoolId, tokenUse: "id", clientId: info.clientId });
  const access = CognitoJwtVerifier.create({
    userPoolId: info.userPoolId,
    tokenUse: "access",
    clientId: info.clientId,
  });
  id.cacheJwks(jwks);
  access.cacheJwks(jwks);
  return { id, access, info, jwks };
}

async function login(s: ReturnType<typeof stack>, body: unknown) {
  const r = await s.api("POST", "/dev/login", { body });
  expect(r.status, r.text).toBe(200);
  return r.body as { idToken: string; accessToken: string; expiresIn: number; sub: string };
}

describe("POST /dev/login", () => {
  it("returns {idToken, accessToken, expiresIn: 3600, sub}", async () => {
    const s = stack();
    const r = await s.api("POST", "/dev/login", { body: { username: "alice" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(Object.keys(r.body).sort()).toEqual(["accessToken", "expiresIn", "idToken", "sub"]);
    expect(r.body.expiresIn).toBe(3600);
    expect(r.body.sub).toMatch(UUID_V4_SHAPE);
  });

  it("tokens are RS256 with the pool's kid, and carry Cognito's claims for each token use", async () => {
    const s = stack();
    const { info, jwks } = await verifiers(s);
    const before = Math.floor(Date.now() / 1000);
    const out = await login(s, { username: "claims.user-1", groups: ["admin", "hosts"], preferredUsername: "Claire" });
    const after = Math.floor(Date.now() / 1000);
    const issuer = `https://cognito-idp.${info.region}.amazonaws.com/${info.userPoolId}`;
    const id = decode(out.idToken);
    const access = decode(out.accessToken);
    for (const t of [id, access]) {
      expect(t.header.alg).toBe("RS256");
      expect(t.header.kid).toBe(jwks.keys[0]!.kid);
      expect(t.payload.iss).toBe(issuer);
      expect(t.payload.sub).toBe(out.sub);
      expect(t.payload["cognito:groups"]).toEqual(["admin", "hosts"]);
      expect(t.payload.iat).toBeGreaterThanOrEqual(before);
      expect(t.payload.iat).toBeLessThanOrEqual(after);
      expect(t.payload.auth_time).toBe(t.payload.iat);
      expect(t.payload.exp).toBe(t.payload.iat + 3600);
    }
    expect(id.payload).toMatchObject({
      token_use: "id",
      aud: info.clientId,
      "cognito:username": "claims.user-1",
      preferred_username: "Claire",
    });
    expect(id.payload).not.toHaveProperty("client_id");
    expect(access.payload).toMatchObject({ token_use: "access", client_id: info.clientId, username: "claims.user-1" });
    expect(access.payload).not.toHaveProperty("aud");
    expect(access.payload).not.toHaveProperty("preferred_username");
  });

  it("leaves out cognito:groups and preferred_username when not given", async () => {
    const s = stack();
    const out = await login(s, { username: "plain" });
    for (const token of [out.idToken, out.accessToken]) {
      expect(decode(token).payload).not.toHaveProperty("cognito:groups");
      expect(decode(token).payload).not.toHaveProperty("preferred_username");
    }
    const empty = await login(s, { username: "plain", groups: [] });
    expect(decode(empty.idToken).payload).not.toHaveProperty("cognito:groups");
  });

  it("sub is UUID-shaped, stable for a username (across logins and restarts) and differs between users", async () => {
    const s = stack();
    const a1 = await login(s, { username: "stable-sam" });
    const a2 = await login(s, { username: "stable-sam", groups: ["admin"] });
    const b = await login(s, { username: "stable-sue" });
    expect(a1.sub).toBe(a2.sub);
    expect(a1.sub).not.toBe(b.sub);
    expect(a1.sub).toMatch(UUID_V4_SHAPE);
    expect(b.sub).toMatch(UUID_V4_SHAPE);
    expect(a1.idToken).not.toBe(a2.idToken);
    // A restarted stack (a fresh key pair, the same local pool) gives the user the same sub.
    const restarted = createLocalIdentity({ region: s.stack.info.region });
    expect(restarted.userPoolId).toBe(s.stack.info.userPoolId);
    expect(restarted.login({ username: "stable-sam" }).sub).toBe(a1.sub);
    expect(subFor("stable-sam", s.stack.info.userPoolId)).toBe(a1.sub);
  });

  it("usernames are case-insensitive, as template.yaml's user pool says (UsernameConfiguration.CaseSensitive: false)", async () => {
    const s = stack();
    const pool = Object.values(loadTemplate().Resources).find((r) => r.Type === "AWS::Cognito::UserPool")!;
    expect(pool.Properties?.UsernameConfiguration).toEqual({ CaseSensitive: false });
    const lower = await login(s, { username: "case.user" });
    const mixed = await login(s, { username: "Case.User" });
    expect(mixed.sub).toBe(lower.sub);
    // A case-sensitive pool keeps them apart.
    const sensitive = createLocalIdentity({ caseSensitiveUsernames: true });
    expect(sensitive.login({ username: "Case.User" }).sub).not.toBe(sensitive.login({ username: "case.user" }).sub);
  });

  it("both tokens pass aws-jwt-verify's CognitoJwtVerifier for their token use, and only for it", async () => {
    const s = stack();
    const v = await verifiers(s);
    const out = await login(s, { username: "verified", groups: ["admin"] });
    const idPayload = await v.id.verify(out.idToken);
    expect(idPayload.sub).toBe(out.sub);
    expect(idPayload["cognito:groups"]).toEqual(["admin"]);
    const accessPayload = await v.access.verify(out.accessToken);
    expect(accessPayload.sub).toBe(out.sub);
    await expect(v.id.verify(out.accessToken)).rejects.toBeInstanceOf(CognitoJwtInvalidTokenUseError);
    await expect(v.access.verify(out.idToken)).rejects.toBeInstanceOf(CognitoJwtInvalidTokenUseError);
    // Another app client or another pool does not accept them.
    const otherClient = CognitoJwtVerifier.create({
      userPoolId: v.info.userPoolId,
      tokenUse: "id",
      clientId: "someotherclient",
    });
    otherClient.cacheJwks(v.jwks);
    await expect(otherClient.verify(out.idToken)).rejects.toBeInstanceOf(CognitoJwtInvalidClientIdError);
    const otherPool = CognitoJwtVerifier.create({
      userPoolId: "us-east-1_OtherPool",
      tokenUse: "id",
      clientId: v.info.clientId,
    });
    otherPool.cacheJwks(v.jwks);
    await expect(otherPool.verify(out.idToken)).rejects.toThrow(/issuer/);
  });

  it("a token that was tampered with, signed by another key or expired fails verification", async () => {
    const s = stack();
    const v = await verifiers(s);
    const out = await login(s, { username: "tamper" });
    const [header, payload, signature] = out.idToken.split(".") as [string, string, string];

    const claims = decode(out.idToken).payload;
    const changedPayload = `${header}.${b64({ ...claims, "cognito:groups": ["admin"] })}.${signature}`;
    await expect(v.id.verify(changedPayload)).rejects.toBeInstanceOf(JwtInvalidSignatureError);

    const sig = Buffer.from(signature, "base64url");
    sig[10] = sig[10]! ^ 0xff;
    const changedSignature = `${header}.${payload}.${sig.toString("base64url")}`;
    await expect(v.id.verify(changedSignature)).rejects.toBeInstanceOf(JwtInvalidSignatureError);

    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const input = `${header}.${payload}`;
    const otherKey = `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
    await expect(v.id.verify(otherKey)).rejects.toBeInstanceOf(JwtInvalidSignatureError);

    const now = Math.floor(Date.now() / 1000);
    const expired = s.stack.identity.signClaims({ ...claims, iat: now - 7200, auth_time: now - 7200, exp: now - 3600 });
    await expect(v.id.verify(expired)).rejects.toBeInstanceOf(JwtExpiredError);
    // The same claims, not expired, do verify: what failed above was the expiry alone.
    await expect(v.id.verify(s.stack.identity.signClaims({ ...claims, exp: now + 60 }))).resolves.toMatchObject({
      sub: out.sub,
    });
  });

  it("the stack's functions accept its id tokens and refuse access, tampered and expired ones (TOKEN_USE=id)", async () => {
    const s = stack();
    const out = await login(s, { username: "fn-user" });
    expect((await s.api("GET", "/rooms", { token: out.idToken })).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const claims = decode(out.idToken).payload;
    const [header, , signature] = out.idToken.split(".") as [string, string, string];
    for (const [label, token] of [
      ["access token", out.accessToken],
      ["tampered", `${header}.${b64({ ...claims, sub: "00000000-0000-4000-a000-000000000000" })}.${signature}`],
      ["expired", s.stack.identity.signClaims({ ...claims, exp: now - 60 })],
    ] as const) {
      const r = await s.api("GET", "/rooms", { token });
      expect(r.status, label).toBe(401);
      expect(r.body.code, label).toBe("unauthorized");
      expect(r.headers.get("www-authenticate"), label).toContain("invalid_token");
    }
  });

  it("rejects bad bodies with 400 and a message, and issues nothing", async () => {
    const s = stack();
    const bad: Array<[string, string, RegExp]> = [
      ["username with a space", JSON.stringify({ username: "bad name" }), /username/],
      ["username with a slash", JSON.stringify({ username: "a/b" }), /username/],
      ["username of 65 characters", JSON.stringify({ username: "a".repeat(65) }), /username/],
      ["empty username", JSON.stringify({ username: "" }), /username/],
      ["username not a string", JSON.stringify({ username: 42 }), /username/],
      ["no username", JSON.stringify({}), /username/],
      ["unknown field", JSON.stringify({ username: "alice", password: "x" }), /unknown fields: password/],
      ["groups not an array", JSON.stringify({ username: "alice", groups: "admin" }), /groups/],
      ["groups with a non-string", JSON.stringify({ username: "alice", groups: ["admin", 1] }), /groups/],
      ["groups with an empty name", JSON.stringify({ username: "alice", groups: [""] }), /groups/],
      [
        "preferredUsername not a string",
        JSON.stringify({ username: "alice", preferredUsername: 7 }),
        /preferredUsername/,
      ],
      ["not JSON", "username=alice", /JSON/],
      ["a JSON array", "[]", /username/],
      ["a JSON string", '"alice"', /username/],
      ["JSON null", "null", /username/],
      ["an empty body", "", /JSON/],
    ];
    for (const [label, rawBody, message] of bad) {
      const r = await s.api("POST", "/dev/login", { rawBody, headers: { "content-type": "application/json" } });
      expect(r.status, label).toBe(400);
      expect(r.body.message, label).toMatch(message);
      expect(r.body, label).not.toHaveProperty("idToken");
    }
    const wrongMethod = await s.api("GET", "/dev/login");
    expect(wrongMethod.status).toBe(405);
  });

  it("accepts the whole username alphabet at its bounds", async () => {
    const s = stack();
    for (const username of ["a", "A.b_c-9", "x".repeat(64)]) {
      const out = await login(s, { username });
      expect(decode(out.idToken).payload["cognito:username"]).toBe(username);
    }
  });
});

describe("GET /dev/info", () => {
  it("lists region, userPoolId, clientId, ivsEndpoint, dynamodbEndpoint, tableName and jwksUri", async () => {
    const s = stack();
    const info = await devInfo(s);
    expect(info).toMatchObject({
      region: "us-east-1",
      userPoolId: s.stack.identity.userPoolId,
      clientId: s.stack.identity.clientId,
      ivsEndpoint: s.stack.ivs.url,
      dynamodbEndpoint: s.stack.dynamodb.endpoint,
      // "stagepass-local" under npm start (stack-process.test.ts); a table of the stack's own in the run's DynamoDB Local.
      tableName: expect.stringMatching(/^stagepass-local(-[0-9a-f]{12})?$/),
      jwksUri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.+\/\.well-known\/jwks\.json$/),
    });
    expect(info.userPoolId).toMatch(/^us-east-1_[0-9a-zA-Z]+$/);
    expect(info.jwksUri).toContain(`/${info.userPoolId}/.well-known/jwks.json`);
    expect((await s.api("POST", "/dev/info")).status).toBe(405);
  });

  it("jwksUri serves the pool's public RSA key, and only it", async () => {
    const s = stack();
    const info = await devInfo(s);
    const r = await fetch(info.jwksUri);
    expect(r.status).toBe(200);
    const jwks = (await r.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    const key = jwks.keys[0]!;
    expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(key.kid).toBeTruthy();
    expect(key).not.toHaveProperty("d");
    expect(createPublicKey({ key: key as never, format: "jwk" }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect((await fetch(info.jwksUri.replace(info.userPoolId, "us-east-1_Other"))).status).toBe(404);
  });

  it("ivsEndpoint answers the real IVSRealTimeClient", async () => {
    const s = stack();
    const info = await devInfo(s);
    const ivs = new IVSRealTimeClient({ endpoint: info.ivsEndpoint, region: info.region, credentials, maxAttempts: 1 });
    const owner = await s.login("info-owner");
    const room = await s.createRoom(owner, { name: "info" });
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await ivs.send(new ListStagesCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      arns.push(...out.stages!.map((st) => st.arn!));
      nextToken = out.nextToken || undefined;
    } while (nextToken);
    expect(arns).toContain(`arn:aws:ivs:${info.region}:123456789012:stage/${room.roomId}`);
    ivs.destroy();
  });

  it("dynamodbEndpoint serves the table, created with template.yaml's keys, index and TTL", async () => {
    const s = stack();
    const info = await devInfo(s);
    const ddb = new DynamoDBClient({
      endpoint: info.dynamodbEndpoint,
      region: info.region,
      credentials,
      maxAttempts: 1,
    });
    try {
      expect((await ddb.send(new ListTablesCommand({}))).TableNames).toContain(info.tableName);
      const props = tableOf(loadTemplate()).properties as {
        KeySchema: unknown[];
        AttributeDefinitions: unknown[];
        GlobalSecondaryIndexes: Array<{
          IndexName: string;
          KeySchema: unknown[];
          Projection: { ProjectionType: string };
        }>;
        TimeToLiveSpecification: { AttributeName: string; Enabled: boolean };
      };
      const table = (await ddb.send(new DescribeTableCommand({ TableName: info.tableName }))).Table!;
      expect(table.KeySchema).toEqual(props.KeySchema);
      expect(new Set(table.AttributeDefinitions)).toEqual(new Set(props.AttributeDefinitions));
      expect(
        table.GlobalSecondaryIndexes?.map((g) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: { ProjectionType: g.Projection?.ProjectionType },
        })),
      ).toEqual(
        props.GlobalSecondaryIndexes.map((g) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: { ProjectionType: g.Projection.ProjectionType },
        })),
      );
      expect(table.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
      const ttl = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: info.tableName }))).TimeToLiveDescription!;
      expect(ttl).toEqual({ AttributeName: props.TimeToLiveSpecification.AttributeName, TimeToLiveStatus: "ENABLED" });
    } finally {
      ddb.destroy();
    }
  });
});
