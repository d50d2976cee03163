// Participant tokens through the offline stack (docs/api.md § Participant tokens): who gets which capabilities, the
// bounds on duration and attributes, the token joining the emulator's stage, and the I/O one token costs.
import { describe, expect, it } from "vitest";
import { useStack, type ApiResponse, type Session, type TestStack } from "../support/stack.ts";

const stack = useStack();

const tokenPath = (roomId: string) => `/rooms/${roomId}/token`;
const post = (s: TestStack, as: Session, roomId: string, body?: unknown) =>
  s.api("POST", tokenPath(roomId), { as, ...(body !== undefined ? { body } : {}) });

function expectProblem(r: ApiResponse, status: number, code: string) {
  expect({ status: r.status, code: r.body?.code }, r.text).toEqual({ status, code });
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.headers.get("x-request-id")).toBeTruthy();
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
}

function expectToken(r: ApiResponse, want: { role: string; capabilities: string[] }) {
  expect({ status: r.status, role: r.body?.role, capabilities: r.body?.capabilities }, r.text).toEqual({
    status: 200,
    ...want,
  });
  expect(r.headers.get("cache-control")).toBe("no-store");
}

const participantItems = (items: Array<Record<string, any>>) =>
  items.filter((i) => /^(PART|PID|RATE)#/.test(String(i.sk?.S ?? i.sk)));

describe("the authorization matrix", () => {
  it("gives each kind of caller its role's capabilities, and nothing else", async () => {
    const s = stack();
    const owner = await s.login("m-owner");
    const admin = await s.login("m-admin", { groups: ["admin"] });
    const member = await s.login("m-member");
    const grouped = await s.login("m-grouped", { groups: ["stage-crew"] });
    const stranger = await s.login("m-stranger");
    const banned = await s.login("m-banned");
    const policy = { groupRoles: { "stage-crew": "speaker" } };
    const open = await s.createRoom(owner, { name: "matrix-open", policy: { ...policy, access: "open" } });
    const closed = await s.createRoom(owner, { name: "matrix-members", policy: { ...policy, access: "members" } });
    for (const room of [open, closed]) {
      expect(
        (await s.api("PUT", `/rooms/${room.roomId}/members/${member.sub}`, { as: owner, body: { role: "speaker" } }))
          .status,
      ).toBe(200);
      expect(
        (await s.api("PUT", `/rooms/${room.roomId}/members/${banned.sub}`, { as: owner, body: { role: "speaker" } }))
          .status,
      ).toBe(200);
      const ban = await s.api("POST", `/rooms/${room.roomId}/kick`, {
        as: owner,
        body: { userId: banned.sub, banMinutes: 30 },
      });
      expect(ban.status, ban.text).toBe(200);
    }

    const both = ["PUBLISH", "SUBSCRIBE"];
    const requests: Array<{ capabilities?: string[] }> = [
      {},
      { capabilities: ["SUBSCRIBE"] },
      { capabilities: ["PUBLISH"] },
      { capabilities: both },
    ];
    type Want = { role: string; capabilities: string[] } | { status: number; code: string; names?: string };
    const host = (c?: string[]): Want => ({ role: "host", capabilities: c ?? both });
    const speaker = (c?: string[]): Want => ({ role: "speaker", capabilities: c ?? both });
    const viewerOnly = (c?: string[]): Want =>
      c?.includes("PUBLISH")
        ? { status: 403, code: "forbidden", names: "PUBLISH" }
        : { role: "viewer", capabilities: ["SUBSCRIBE"] };
    const matrix: Array<[string, Session, any, (c?: string[]) => Want]> = [
      ["admin / open", admin, open, host],
      ["admin / members", admin, closed, host],
      ["owner / open", owner, open, host],
      ["owner / members", owner, closed, host],
      ["member / open", member, open, speaker],
      ["member / members", member, closed, speaker],
      ["group-mapped / open", grouped, open, speaker],
      ["group-mapped / members", grouped, closed, speaker],
      ["stranger / open", stranger, open, viewerOnly],
      ["stranger / members", stranger, closed, () => ({ status: 403, code: "forbidden" })],
      ["banned / open", banned, open, () => ({ status: 403, code: "banned" })],
      ["banned / members", banned, closed, () => ({ status: 403, code: "banned" })],
    ];
    for (const [label, who, room, want] of matrix) {
      for (const request of requests) {
        const r = await post(s, who, room.roomId, request);
        const expected = want(request.capabilities);
        const context = `${label} asking ${JSON.stringify(request)}: ${r.text}`;
        if ("role" in expected) {
          expect({ status: r.status, role: r.body.role, capabilities: r.body.capabilities }, context).toEqual({
            status: 200,
            ...expected,
          });
          expect(r.body.userId).toBe(who.sub);
          expect(r.body.attributes.role).toBe(expected.role);
        } else {
          expect({ status: r.status, code: r.body.code }, context).toEqual({
            status: expected.status,
            code: expected.code,
          });
          if (expected.names) expect(r.body.detail, context).toContain(expected.names);
          if (expected.code === "banned")
            expect(Date.parse(r.body.until), context).toBeGreaterThan(Date.now() + 29 * 60_000);
        }
      }
    }
  });

  it("answers 401 without a valid JWT, 404 for an unknown room and 400 for a malformed room id", async () => {
    const s = stack();
    const u = await s.login("t-basic");
    const r401 = await s.api("POST", tokenPath("abcdABCDefgh"), {});
    expectProblem(r401, 401, "unauthorized");
    expect(r401.headers.get("www-authenticate")).toContain("invalid_token");
    expectProblem(
      await s.api("GET", tokenPath("abcdABCDefgh"), { token: `${u.idToken.slice(0, -4)}AAAA` }),
      401,
      "unauthorized",
    );
    expectProblem(await post(s, u, "abcdABCDefgh"), 404, "not_found");
    expectProblem(await s.api("GET", tokenPath("abcdABCDefgh"), { as: u }), 404, "not_found");
    expectProblem(await post(s, u, "bad_id"), 400, "validation_failed");
    expectProblem(await post(s, u, "x".repeat(65)), 400, "validation_failed");
  });
});

describe("the token", () => {
  it("joins the emulator's stage with the capabilities granted and the caller's sub as userId", async () => {
    const s = stack();
    const owner = await s.login("j-owner");
    const viewer = await s.login("j-viewer");
    const room = await s.createRoom(owner, { name: "join" });
    const hostToken = await post(s, owner, room.roomId, { capabilities: ["PUBLISH"] });
    const viewerToken = await post(s, viewer, room.roomId);
    expectToken(hostToken, { role: "host", capabilities: ["PUBLISH"] });
    expectToken(viewerToken, { role: "viewer", capabilities: ["SUBSCRIBE"] });
    for (const t of [hostToken, viewerToken]) {
      const joined = await s.join(t.body.token);
      expect(joined.status, joined.text).toBe(200);
      expect(joined.body.participantId).toBe(t.body.participantId);
      expect(joined.body.stageArn).toBe(room.stageArn);
    }
    const participants = await s.participants(room.roomId);
    expect(participants).toEqual(
      expect.arrayContaining([
        {
          participantId: hostToken.body.participantId,
          userId: owner.sub,
          state: "CONNECTED",
          capabilities: ["PUBLISH"],
          publishing: false,
        },
        {
          participantId: viewerToken.body.participantId,
          userId: viewer.sub,
          state: "CONNECTED",
          capabilities: ["SUBSCRIBE"],
          publishing: false,
        },
      ]),
    );

    // The contract's body, exactly.
    const b = viewerToken.body;
    expect(Object.keys(b).sort()).toEqual([
      "attributes",
      "capabilities",
      "durationMinutes",
      "expirationTime",
      "participantId",
      "role",
      "roomId",
      "stageArn",
      "token",
      "userId",
    ]);
    expect(b).toMatchObject({
      roomId: room.roomId,
      stageArn: room.stageArn,
      userId: viewer.sub,
      durationMinutes: 60,
      attributes: { role: "viewer", displayName: "j-viewer" },
    });
    expect(Math.abs(Date.parse(b.expirationTime) - (Date.now() + 60 * 60_000))).toBeLessThan(30_000);
    // The token's own claims carry the same user, capabilities and attributes.
    const claims = JSON.parse(Buffer.from(b.token.split(".")[1], "base64url").toString("utf8"));
    expect(claims.user_id).toBe(viewer.sub);
    expect(claims.jti).toBe(b.participantId);
    expect(claims.attributes).toEqual({ role: "viewer", displayName: "j-viewer" });
  });

  it("is recorded until its expiry + 24 h, and nothing personal goes to IVS", async () => {
    const s = stack();
    const owner = await s.login("r-owner");
    const viewer = await s.login("r-viewer", { preferredUsername: "Rita" });
    const room = await s.createRoom(owner, { name: "record" });
    const t = await post(s, viewer, room.roomId, { durationMinutes: 5 });
    expectToken(t, { role: "viewer", capabilities: ["SUBSCRIBE"] });
    expect(t.body.attributes).toEqual({ role: "viewer", displayName: "Rita" });
    const items = await s.scanTable();
    const record = items.find((i: any) => i.sk.S === `PART#${viewer.sub}#${t.body.participantId}`) as any;
    const pointer = items.find((i: any) => i.sk.S === `PID#${t.body.participantId}`) as any;
    expect(record?.pk.S).toBe(`ROOM#${room.roomId}`);
    expect(pointer?.userId.S).toBe(viewer.sub);
    const expiresMs = Date.parse(t.body.expirationTime);
    expect(Number(record.tokenExpiresMs.N)).toBe(expiresMs);
    expect(Number(record.expiresAt.N)).toBe(Math.floor((expiresMs + 24 * 3600_000) / 1000));
    expect(Number(pointer.expiresAt.N)).toBe(Number(record.expiresAt.N));
    expect(record.capabilities.L.map((c: any) => c.S)).toEqual(["SUBSCRIBE"]);
  });

  it("GET and POST with no body agree", async () => {
    const s = stack();
    const owner = await s.login("g-owner");
    const viewer = await s.login("g-viewer");
    const room = await s.createRoom(owner, { name: "get-post" });
    const viaGet = await s.api("GET", tokenPath(room.roomId), { as: viewer });
    const viaPost = await post(s, viewer, room.roomId);
    const viaPostEmpty = await post(s, viewer, room.roomId, {});
    for (const r of [viaGet, viaPost, viaPostEmpty]) expectToken(r, { role: "viewer", capabilities: ["SUBSCRIBE"] });
    const shape = (r: ApiResponse) => {
      const { token: _t, participantId: _p, expirationTime: _e, ...rest } = r.body;
      return rest;
    };
    expect(shape(viaGet)).toEqual(shape(viaPost));
    expect(shape(viaPostEmpty)).toEqual(shape(viaPost));
    expect(new Set([viaGet, viaPost, viaPostEmpty].map((r) => r.body.participantId)).size).toBe(3);
    expect((await s.join(viaGet.body.token)).status).toBe(200);
  });

  it("takes displayName from preferred_username or the username, never from name or email", async () => {
    const s = stack();
    const owner = await s.login("d-owner");
    const room = await s.createRoom(owner, { name: "display" });
    const id = s.stack.identity;
    const now = Math.floor(Date.now() / 1000);
    const forge = (claims: Record<string, unknown>) =>
      id.signClaims({
        iss: id.issuer,
        aud: id.clientId,
        token_use: "id",
        iat: now,
        exp: now + 600,
        auth_time: now,
        ...claims,
      });
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        {
          sub: "0d1e2f30-0000-4000-a000-000000000001",
          "cognito:username": "dora",
          name: "Dora Real-Name",
          email: "dora@example.com",
        },
        "dora",
      ],
      [
        {
          sub: "0d1e2f30-0000-4000-a000-000000000002",
          "cognito:username": "eve",
          preferred_username: "Evie",
          name: "Eve Real",
          email: "eve@example.com",
        },
        "Evie",
      ],
      // Nothing but name and email to go on: the display name falls back to the sub, never to them.
      [
        { sub: "0d1e2f30-0000-4000-a000-000000000003", name: "Frank Real", email: "frank@example.com" },
        "0d1e2f30-0000-4000-a000-000000000003",
      ],
    ];
    for (const [claims, want] of cases) {
      const r = await s.api("POST", tokenPath(room.roomId), { token: forge(claims) });
      expectToken(r, { role: "viewer", capabilities: ["SUBSCRIBE"] });
      expect(r.body.attributes).toEqual({ role: "viewer", displayName: want });
      expect(r.body.userId).toBe(claims.sub);
      const tokenClaims = JSON.parse(Buffer.from(r.body.token.split(".")[1], "base64url").toString("utf8"));
      expect(JSON.stringify(tokenClaims)).not.toContain("example.com");
      expect(JSON.stringify(tokenClaims)).not.toContain("Real");
    }
  });
});

describe("bounds", () => {
  it("durationMinutes: 1 and the role's max are fine, 0 and max + 1 are 400; the default is min(default, max)", async () => {
    const s = stack();
    const owner = await s.login("b-owner");
    const viewer = await s.login("b-viewer");
    const room = await s.createRoom(owner, { name: "duration", policy: { defaultDurationMinutes: 300 } });
    const check = async (as: Session, body: unknown, want: number | "400") => {
      const r = await post(s, as, room.roomId, body);
      if (want === "400") {
        expectProblem(r, 400, "validation_failed");
        expect(r.body.errors[0].path).toBe("/durationMinutes");
      } else {
        expect(r.status, r.text).toBe(200);
        expect(r.body.durationMinutes).toBe(want);
        expect(Math.abs(Date.parse(r.body.expirationTime) - (Date.now() + want * 60_000))).toBeLessThan(30_000);
      }
    };
    await check(viewer, {}, 240);
    await check(owner, {}, 300);
    await check(viewer, { durationMinutes: 1 }, 1);
    await check(viewer, { durationMinutes: 240 }, 240);
    await check(viewer, { durationMinutes: 0 }, "400");
    await check(viewer, { durationMinutes: 241 }, "400");
    await check(owner, { durationMinutes: 720 }, 720);
    await check(owner, { durationMinutes: 721 }, "400");
    await check(owner, { durationMinutes: 20161 }, "400");
    await check(owner, { durationMinutes: 2.5 }, "400");
  });

  it("attributes: 1024 bytes of UTF-8 JSON pass, 1025 do not; only allowed keys; role is the service's", async () => {
    const s = stack();
    const owner = await s.login("a-owner");
    const viewer = await s.login("a-viewer");
    const room = await s.createRoom(owner, { name: "attributes" });
    const base = Buffer.byteLength(JSON.stringify({ avatarUrl: "", role: "viewer", displayName: "a-viewer" }));
    const fill = (total: number, unit: string) => {
      const n = total - base;
      const w = Buffer.byteLength(unit);
      return unit.repeat(Math.floor(n / w)) + "a".repeat(n % w);
    };
    for (const unit of ["a", "ü", "😀"]) {
      const ok = await post(s, viewer, room.roomId, { attributes: { avatarUrl: fill(1024, unit) } });
      expect(ok.status, `${unit}: ${ok.text}`).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(ok.body.attributes))).toBe(1024);
      expect(ok.body.attributes.avatarUrl).toBe(fill(1024, unit));
      expect((await s.join(ok.body.token)).status).toBe(200);
      const over = await post(s, viewer, room.roomId, { attributes: { avatarUrl: fill(1025, unit) } });
      expectProblem(over, 400, "validation_failed");
      expect(over.body.errors[0].path).toBe("/attributes");
    }
    const given = await post(s, viewer, room.roomId, { attributes: { displayName: "Zoë 🎤" } });
    expect(given.status).toBe(200);
    expect(given.body.attributes).toEqual({ displayName: "Zoë 🎤", role: "viewer" });
    const disallowed = await post(s, viewer, room.roomId, { attributes: { email: "a@b.c" } });
    expectProblem(disallowed, 400, "validation_failed");
    expect(disallowed.body.errors).toEqual([{ path: "/attributes/email", message: expect.any(String) }]);
    const role = await post(s, viewer, room.roomId, { attributes: { role: "host" } });
    expectProblem(role, 400, "validation_failed");
    expect(role.body.errors).toEqual([{ path: "/attributes/role", message: expect.any(String) }]);
  });

  it("bad input gets a clear 4xx and changes nothing", async () => {
    const s = stack();
    const owner = await s.login("x-owner");
    const viewer = await s.login("x-viewer");
    const room = await s.createRoom(owner, { name: "bad-input" });
    const before = participantItems(await s.scanTable());
    const path = tokenPath(room.roomId);
    const cases: Array<[Promise<ApiResponse>, number, string]> = [
      [s.api("POST", path, { as: viewer, body: { capabilities: [] } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: { capabilities: ["RECORD"] } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: { capabilities: "SUBSCRIBE" } }), 400, "validation_failed"],
      [
        s.api("POST", path, { as: viewer, body: { capabilities: ["SUBSCRIBE", "SUBSCRIBE"] } }),
        400,
        "validation_failed",
      ],
      [s.api("POST", path, { as: viewer, body: { capabilities: ["PUBLISH"] } }), 403, "forbidden"],
      [s.api("POST", path, { as: viewer, body: { durationMinutes: "60" } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: { attributes: { avatarUrl: 5 } } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: { attributes: "x" } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: { role: "host" } }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: [] }), 400, "validation_failed"],
      [s.api("POST", path, { as: viewer, body: null }), 400, "validation_failed"],
      [
        s.api("POST", path, { as: viewer, rawBody: "{not json", headers: { "content-type": "application/json" } }),
        400,
        "validation_failed",
      ],
      [
        s.api("POST", path, { as: viewer, rawBody: "{}", headers: { "content-type": "text/plain" } }),
        415,
        "unsupported_media_type",
      ],
      [
        s.api("POST", path, {
          as: viewer,
          rawBody: JSON.stringify({ attributes: { avatarUrl: "a".repeat(17_000) } }),
          headers: { "content-type": "application/json" },
        }),
        413,
        "payload_too_large",
      ],
    ];
    for (const [pending, status, code] of cases) {
      const r = await pending;
      expectProblem(r, status, code);
      if (status === 400) expect(r.body.errors?.length ?? 0, r.text).toBeGreaterThan(0);
    }
    expect(participantItems(await s.scanTable())).toEqual(before);
    // None of that counted against the caller's tokens this minute.
    expect((await post(s, viewer, room.roomId)).status).toBe(200);
  });
});

describe("the token function", () => {
  it("has its own bundle, routed at POST and GET /rooms/{roomId}/token, holding nothing it does not need", async () => {
    const s = stack();
    const built = s.stack.built.find((b) => b.definition.logicalId === "TokenFunction");
    expect(built).toBeDefined();
    expect(built!.definition.routes.map((r) => r.routeKey).sort()).toEqual([
      "GET /rooms/{roomId}/token",
      "POST /rooms/{roomId}/token",
    ]);
    const inputs = Object.keys(built!.metafile.inputs);
    expect(inputs.some((i) => i.includes("functions/token/"))).toBe(true);
    for (const unwanted of [
      "functions/rooms/",
      "functions/moderation/",
      "shared/moderation/",
      "client-sqs",
      "shared/store/audit",
      "shared/store/members",
    ]) {
      expect(
        inputs.filter((i) => i.includes(unwanted)),
        unwanted,
      ).toEqual([]);
    }
    // No other function answers the token routes.
    const others = s.stack.built.filter((b) => b !== built).flatMap((b) => b.definition.routes.map((r) => r.routeKey));
    expect(others.filter((k) => k.endsWith("/token"))).toEqual([]);
  });
});

describe("I/O per token", () => {
  it("one DynamoDB read, the caller's charge, one IVS call, one DynamoDB write, and nothing else", async () => {
    const s = stack();
    const owner = await s.login("io-owner");
    const viewer = await s.login("io-viewer");
    const member = await s.login("io-member");
    const room = await s.createRoom(owner, { name: "io" });
    await s.api("PUT", `/rooms/${room.roomId}/members/${member.sub}`, { as: owner, body: { role: "speaker" } });
    for (const [who, method] of [
      [viewer, "POST"],
      [member, "POST"],
      [owner, "GET"],
      [viewer, "GET"],
    ] as const) {
      s.stack.dynamodb.resetCounts();
      s.stack.ivs.resetCounts();
      const r = await s.api(method, tokenPath(room.roomId), { as: who });
      expect(r.status, r.text).toBe(200);
      // The charge (UpdateItem) comes before IVS is asked: docs/performance.md, "The token path under overload".
      expect(s.stack.dynamodb.requestCounts()).toEqual({ BatchGetItem: 1, UpdateItem: 1, TransactWriteItems: 1 });
      // TOKEN_MODE=self-signed signs in the function: the token path touches nothing of IVS.
      expect(s.stack.ivs.requestCounts()).toEqual(s.tokenMode === "api" ? { CreateParticipantToken: 1 } : {});
    }
    // A refusal decided from the first read costs that read only.
    s.stack.dynamodb.resetCounts();
    s.stack.ivs.resetCounts();
    expect((await post(s, viewer, room.roomId, { capabilities: ["PUBLISH"] })).status).toBe(403);
    expect(s.stack.dynamodb.requestCounts()).toEqual({ BatchGetItem: 1 });
    expect(s.stack.ivs.requestCounts()).toEqual({});
  });
});
