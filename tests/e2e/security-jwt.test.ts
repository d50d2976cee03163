// JWT attacks: each is answered 401 with WWW-Authenticate, and neither IVS nor DynamoDB is touched.
import { createHmac, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startFunction } from "../../local/runtime.ts";
import { useStack } from "../support/stack.ts";

const stack = useStack();

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function claimsFor(s: ReturnType<typeof stack>, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: "0b0c4a1e-1111-4222-a333-444455556666",
    iss: s.stack.identity.issuer,
    aud: s.stack.identity.clientId,
    token_use: "id",
    "cognito:username": "mallory",
    iat: now,
    exp: now + 3600,
    auth_time: now,
    ...overrides,
  };
}

const kidOf = (s: ReturnType<typeof stack>) => String(s.stack.identity.jwks.keys[0]!.kid);

const attacks: Array<[string, (s: ReturnType<typeof stack>) => { header?: string; query?: string }]> = [
  ["alg none", (s) => ({ header: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64(claimsFor(s))}.` })],
  [
    "HS256 signed with the public key as the secret",
    (s) => {
      const publicPem = createPublicKey({ key: s.stack.identity.jwks.keys[0] as never, format: "jwk" }).export({
        type: "spki",
        format: "pem",
      });
      const input = `${b64({ alg: "HS256", typ: "JWT", kid: kidOf(s) })}.${b64(claimsFor(s))}`;
      return { header: `Bearer ${input}.${createHmac("sha256", publicPem).update(input).digest("base64url")}` };
    },
  ],
  [
    "an unknown kid",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s), { alg: "RS256", kid: "not-a-key-of-this-pool" })}`,
    }),
  ],
  [
    "a valid signature from another key",
    (s) => {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const input = `${b64({ alg: "RS256", kid: kidOf(s) })}.${b64(claimsFor(s))}`;
      return { header: `Bearer ${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}` };
    },
  ],
  [
    "expired",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { exp: Math.floor(Date.now() / 1000) - 10 }))}`,
    }),
  ],
  [
    "nbf in the future",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { nbf: Math.floor(Date.now() / 1000) + 600 }))}`,
    }),
  ],
  [
    "iat in the future beyond skew",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { iat: Math.floor(Date.now() / 1000) + 600 }))}`,
    }),
  ],
  [
    "another issuer",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" }))}`,
    }),
  ],
  [
    "another client id",
    (s) => ({ header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { aud: "someoneelsesclient" }))}` }),
  ],
  [
    "wrong token_use",
    (s) => ({
      header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { token_use: "access", client_id: s.stack.identity.clientId }))}`,
    }),
  ],
  [
    "a tampered payload",
    (s) => {
      const [h, , sig] = s.stack.identity.signClaims(claimsFor(s)).split(".");
      return { header: `Bearer ${h}.${b64(claimsFor(s, { "cognito:groups": ["admin"] }))}.${sig}` };
    },
  ],
  [
    "a token over 8 KiB",
    (s) => ({ header: `Bearer ${s.stack.identity.signClaims(claimsFor(s, { padding: "x".repeat(9000) }))}` }),
  ],
  ["garbage in the header", () => ({ header: "Bearer ¿¡garbage!?.." })],
  ["not a JWT at all", () => ({ header: "Bearer abc" })],
  ["the Basic scheme", () => ({ header: `Basic ${Buffer.from("alice:secret").toString("base64")}` })],
  [
    "the token in a query string instead of the header",
    (s) => ({ query: `access_token=${s.stack.identity.signClaims(claimsFor(s))}` }),
  ],
];

describe("the user pool's JWKS", () => {
  it("is fetched once per container, at init, and never on a request's path", async () => {
    const s = stack();
    // Each function that verifies JWTs (rooms, token, moderation) fetches it while its container starts: a fresh
    // container of each, from the stack's own bundle and environment, fetches it once before it serves anything.
    // (Counted from here: the stack is shared, and other suites start containers of their own.)
    const authenticating = [...s.stack.built].filter((f) =>
      /functions\/(rooms|token|moderation)\//.test(f.definition.entryPoint),
    );
    expect(authenticating).toHaveLength(3);
    for (const built of authenticating) {
      const before = s.stack.jwksRequests();
      const container = await startFunction(built, s.stack.environments.get(built.definition.logicalId)!);
      try {
        expect(s.stack.jwksRequests(), built.definition.logicalId).toBe(before + 1);
      } finally {
        await container.close();
      }
    }
    const fetched = s.stack.jwksRequests();
    const alice = await s.login("jwks-alice");
    const room = await s.createRoom(alice);
    for (let i = 0; i < 3; i++) {
      expect((await s.api("GET", `/rooms/${room.roomId}`, { as: alice })).status).toBe(200);
      expect((await s.api("GET", `/rooms/${room.roomId}/token`, { as: alice })).status).toBe(200);
      expect((await s.api("GET", `/rooms/${room.roomId}/bans`, { as: alice })).status).toBe(200);
    }
    expect(s.stack.jwksRequests()).toBe(fetched);
  });
});

describe("JWT attacks", () => {
  it.each(attacks)("%s → 401, no IVS or DynamoDB request", async (_name, make) => {
    const s = stack();
    const owner = await s.login("jwt-owner");
    const room = await s.createRoom(owner);
    const attack = make(s);
    s.stack.dynamodb.resetCounts();
    s.stack.ivs.resetCounts();
    for (const [method, path] of [
      ["POST", `/rooms/${room.roomId}/token`],
      ["GET", "/rooms"],
      ["POST", `/rooms/${room.roomId}/kick`],
    ] as const) {
      const r = await s.api(method, `${path}${attack.query ? `?${attack.query}` : ""}`, {
        headers: attack.header ? { authorization: attack.header } : {},
        ...(method === "POST" ? { body: {} } : {}),
      });
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(401);
      expect(r.body.code).toBe("unauthorized");
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(r.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    }
    expect(s.stack.dynamodb.requestCounts()).toEqual({});
    expect(s.stack.ivs.requestCounts()).toEqual({});
  });

  it.each([
    ["not JSON", { "content-type": "application/json" }, "{not json"],
    ["another content type", { "content-type": "text/plain" }, "hello"],
    ["over 16 KiB", { "content-type": "application/json" }, JSON.stringify({ name: "x".repeat(20_000) })],
  ])(
    "an anonymous request with a body %s gets 401: authentication comes before the body is read",
    async (_name, headers, rawBody) => {
      const s = stack();
      const r = await s.api("POST", "/rooms", { headers, rawBody });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe("unauthorized");
    },
  );

  it("a well-formed token built the same way is accepted (the attacks above fail for their own reason)", async () => {
    const s = stack();
    const owner = await s.login("jwt-owner");
    const room = await s.createRoom(owner);
    const r = await s.api("POST", `/rooms/${room.roomId}/token`, { token: s.stack.identity.signClaims(claimsFor(s)) });
    expect(r.status).toBe(200);
  });
});
