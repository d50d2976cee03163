// Authentication shared by every handler: each way a bearer token can fail answers 401 with a problem document
// and WWW-Authenticate, through the real offline stack (aws-jwt-verify against the local identity's JWKS).
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadTemplate, routesOf } from "../../local/template.ts";
import { useStack, type ApiResponse } from "../support/stack.ts";

const stack = useStack();

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Claims shaped like the local identity's id token for `username`, valid now. */
function idClaims(username: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const s = stack();
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: `00000000-0000-4000-a000-${createHash("sha256").update(username).digest("hex").slice(0, 12)}`,
    iss: s.stack.identity.issuer,
    aud: s.stack.identity.clientId,
    token_use: "id",
    "cognito:username": username,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
}

/** The pool's own key id (from its JWKS). */
const poolKid = () => String(stack().stack.identity.jwks.keys[0]!.kid);

function signWithForeignKey(claims: Record<string, unknown>, kid: string): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const input = `${b64url(JSON.stringify({ kid, alg: "RS256" }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), privateKey))}`;
}

function expectUnauthorized(r: ApiResponse, secret?: string) {
  expect(r.status, r.text).toBe(401);
  expect(r.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({
    status: 401,
    code: "unauthorized",
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
  expect(r.headers.get("x-request-id")).toBeTruthy();
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  expect(r.headers.get("referrer-policy")).toBe("no-referrer");
  expect(r.headers.get("strict-transport-security")).toBeTruthy();
  if (secret) expect(r.text).not.toContain(secret);
}

describe("a valid id token", () => {
  it("is accepted, with the Bearer scheme in any case", async () => {
    const s = stack();
    const alice = await s.login("auth-alice");
    expect((await s.api("GET", "/rooms", { as: alice })).status).toBe(200);
    const lower = await s.api("GET", "/rooms", { headers: { authorization: `bearer ${alice.idToken}` } });
    expect(lower.status).toBe(200);
  });

  it("forged with the pool's key and valid claims is accepted (the forging helper is sound)", async () => {
    const s = stack();
    const token = s.stack.identity.signClaims(idClaims("auth-forged-ok"));
    expect((await s.api("GET", "/rooms", { token })).status).toBe(200);
  });

  it("the issuer spelling Cognito also uses (issuer-cognito-idp) is accepted", async () => {
    const s = stack();
    const iss = s.stack.identity.issuer.replace("https://cognito-idp.", "https://issuer-cognito-idp.");
    const token = s.stack.identity.signClaims(idClaims("auth-global-issuer", { iss }));
    expect((await s.api("GET", "/rooms", { token })).status).toBe(200);
  });
});

describe("every failure mode answers 401 with WWW-Authenticate", () => {
  const modes: Array<[string, () => Record<string, string>]> = [
    ["no Authorization header", () => ({})],
    ["an empty Authorization header", () => ({ authorization: "" })],
    ["the Basic scheme", () => ({ authorization: `Basic ${Buffer.from("alice:secret").toString("base64")}` })],
    ["Bearer with no token", () => ({ authorization: "Bearer" })],
    ["Bearer with two tokens", () => ({ authorization: "Bearer a.b.c d.e.f" })],
    ["a token that is not a JWT", () => ({ authorization: "Bearer not-a-jwt" })],
    ["three parts that are not JSON", () => ({ authorization: "Bearer aaaa.bbbb.cccc" })],
    [
      "a JWT with alg none",
      () => ({
        authorization: `Bearer ${b64url(JSON.stringify({ alg: "none", kid: poolKid() }))}.${b64url(JSON.stringify(idClaims("x")))}.`,
      }),
    ],
    [
      "a JWT signed by another RSA key with the pool's kid",
      () => ({ authorization: `Bearer ${signWithForeignKey(idClaims("x"), poolKid())}` }),
    ],
    [
      "a JWT signed by another RSA key with an unknown kid",
      () => ({ authorization: `Bearer ${signWithForeignKey(idClaims("x"), "unknown-kid")}` }),
    ],
    [
      "a JWT whose signature was altered",
      () => {
        const t = stack().stack.identity.signClaims(idClaims("x"));
        const sig = t.slice(t.lastIndexOf(".") + 1);
        return {
          authorization: `Bearer ${t.slice(0, t.lastIndexOf(".") + 1)}${sig.startsWith("A") ? "B" : "A"}${sig.slice(1)}`,
        };
      },
    ],
    [
      "a JWT whose claims were altered after signing",
      () => {
        const [h, , sig] = stack().stack.identity.signClaims(idClaims("x")).split(".");
        return {
          authorization: `Bearer ${h}.${b64url(JSON.stringify(idClaims("x", { "cognito:groups": ["admin"] })))}.${sig}`,
        };
      },
    ],
    [
      "an expired JWT",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }))}`,
      }),
    ],
    [
      "a JWT with no exp",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { exp: undefined }))}` }),
    ],
    [
      "a JWT from another user pool (wrong issuer)",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool" }))}`,
      }),
    ],
    [
      "a JWT from another region's pool of the same id",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { iss: stack().stack.identity.issuer.replace("us-east-1.amazonaws", "eu-west-1.amazonaws") }))}`,
      }),
    ],
    [
      "a JWT for another app client (wrong aud)",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { aud: "someotherclient0000000001" }))}`,
      }),
    ],
    [
      "a JWT with no aud",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { aud: undefined }))}` }),
    ],
    [
      "an access token where id tokens are configured (wrong token_use)",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { token_use: "access", aud: undefined, client_id: stack().stack.identity.clientId }))}`,
      }),
    ],
    [
      "an id token with token_use access",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { token_use: "access" }))}` }),
    ],
    [
      "a JWT with no token_use",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { token_use: undefined }))}` }),
    ],
    [
      "a JWT with no sub",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { sub: undefined }))}` }),
    ],
    [
      "a JWT whose sub is not an id",
      () => ({ authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { sub: "../../etc" }))}` }),
    ],
    [
      "a JWT issued in the future",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 }))}`,
      }),
    ],
    [
      "a JWT of more than 8 KiB",
      () => ({
        authorization: `Bearer ${stack().stack.identity.signClaims(idClaims("x", { padding: "p".repeat(9000) }))}`,
      }),
    ],
  ];

  it.each(modes)("%s", async (_name, headers) => {
    const s = stack();
    const h = headers();
    const token = h.authorization?.replace(/^\S+\s*/, "");
    const r = await s.api("GET", "/rooms", { headers: h });
    expectUnauthorized(r, token && token.length > 20 ? token : undefined);
  });

  it("the access token from /dev/login is refused while TOKEN_USE=id", async () => {
    const s = stack();
    const alice = await s.login("auth-access");
    expectUnauthorized(await s.api("GET", "/rooms", { token: alice.accessToken }), alice.accessToken);
  });

  it("an unknown kid does not lock out valid tokens afterwards", async () => {
    const s = stack();
    for (let i = 0; i < 3; i++) {
      expectUnauthorized(await s.api("GET", "/rooms", { token: signWithForeignKey(idClaims("x"), `kid-${i}`) }));
    }
    const bob = await s.login("auth-bob");
    expect((await s.api("GET", "/rooms", { as: bob })).status).toBe(200);
  });
});

describe("every route of the template but /health requires a bearer token", () => {
  const routes = routesOf(loadTemplate()).filter((r) => r.path !== "/health");
  const concrete = (path: string) => path.replace("{roomId}", "abcdABCD1234").replace("{userId}", "some-user");

  it.each(routes.map((r) => [r.routeKey, r] as const))("%s without a token → 401", async (_key, route) => {
    const s = stack();
    const body = ["POST", "PUT", "PATCH"].includes(route.method) ? {} : undefined;
    expectUnauthorized(await s.api(route.method, concrete(route.path), body === undefined ? {} : { body }));
  });

  it.each(routes.map((r) => [r.routeKey, r] as const))("%s with an expired token → 401", async (_key, route) => {
    const s = stack();
    const token = s.stack.identity.signClaims(
      idClaims("x", { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 60 }),
    );
    expectUnauthorized(await s.api(route.method, concrete(route.path), { token }), token);
  });

  it("GET /health needs none", async () => {
    const r = await stack().api("GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok" });
  });
});
