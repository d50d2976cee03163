// The authenticator's use of its JWKS (shared/auth/authenticator.ts): fetched once at init and then checked
// synchronously; fetched again only for a JWT whose key the cached JWKS lacks (the pool's keys changed) or when the
// init fetch failed. Real RS256 keys and a real JWKS endpoint; the attack cases run through the stack in
// tests/e2e/auth.test.ts and tests/e2e/security-jwt.test.ts.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLocalIdentity } from "../../local/identity.ts";
import { createCognitoAuthenticator } from "../../shared/auth/authenticator.ts";
import { loadConfig } from "../../shared/config.ts";
import { UnauthorizedError } from "../../shared/errors.ts";
import { logger } from "../../shared/logger.ts";

const pool = { userPoolId: "us-east-1_KeysTest1", clientId: "keystestclient0000000000001" };
const first = createLocalIdentity(pool);
const second = createLocalIdentity(pool);

let served: { status: number; keys: Array<Record<string, unknown>> } = { status: 200, keys: first.jwks.keys };
let fetches = 0;
let server: Server;
let jwksUri = "";

beforeAll(async () => {
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(served.status, { "content-type": "application/json" }).end(JSON.stringify({ keys: served.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const authenticator = () =>
  createCognitoAuthenticator(
    loadConfig({
      TABLE_NAME: "t",
      USER_POOL_ID: pool.userPoolId,
      USER_POOL_CLIENT_IDS: pool.clientId,
      JWKS_URI: jwksUri,
    }),
  );
const bearer = (idToken: string) => ({ authorization: `Bearer ${idToken}` });

describe("the authenticator's JWKS", () => {
  it("is fetched once at init; a JWT of a key it holds is checked without fetching again", async () => {
    served = { status: 200, keys: first.jwks.keys };
    fetches = 0;
    const auth = authenticator();
    await auth.ready;
    expect(fetches).toBe(1);
    for (let i = 0; i < 3; i++)
      expect((await auth.authenticate(bearer(first.login({ username: "alice" }).idToken))).userId).toBeTruthy();
    expect(fetches).toBe(1);
  });

  it("is fetched again for a JWT signed with a key added to the pool after init, which then verifies", async () => {
    served = { status: 200, keys: first.jwks.keys };
    fetches = 0;
    const auth = authenticator();
    await auth.ready;
    served = { status: 200, keys: [...first.jwks.keys, ...second.jwks.keys] };
    const caller = await auth.authenticate(bearer(second.login({ username: "bob" }).idToken));
    expect(caller.userId).toBe(second.login({ username: "bob" }).sub);
    expect(fetches).toBe(2);
    await auth.authenticate(bearer(first.login({ username: "alice" }).idToken));
    await auth.authenticate(bearer(second.login({ username: "bob" }).idToken));
    expect(fetches).toBe(2);
  });

  it("is fetched on the first request when the init fetch failed, and a forged key is still refused", async () => {
    served = { status: 503, keys: [] };
    fetches = 0;
    const warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
    const auth = authenticator();
    await auth.ready;
    expect(warn).toHaveBeenCalledWith("the user pool's JWKS could not be fetched at init", expect.anything());
    warn.mockRestore();
    served = { status: 200, keys: first.jwks.keys };
    expect((await auth.authenticate(bearer(first.login({ username: "carol" }).idToken))).userId).toBeTruthy();
    expect(fetches).toBe(2);
    // A JWT whose kid names the pool's key but whose signature is another key's: refused, with no further fetch.
    const forged = second.signClaims(
      JSON.parse(Buffer.from(first.login({ username: "mallory" }).idToken.split(".")[1]!, "base64url").toString()),
      { kid: first.jwks.keys[0]!.kid, alg: "RS256" },
    );
    await expect(auth.authenticate(bearer(forged))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(fetches).toBe(2);
  });
});
