/**
 * The offline stack started with overrides in its environment, as `sam local --env-vars` would take them: each
 * function's environment is the template's, resolved, plus the local endpoints; a declared variable is overridden from
 * the stack's environment (TOKEN_RATE_PER_MINUTE, CORS_ALLOWED_ORIGINS, ROOM_CREATOR_GROUPS, each at work below);
 * nothing else from that environment leaks in. How local/template.ts reads the template: tests/unit/template.test.ts.
 */
import { ListStagesCommand } from "@aws-sdk/client-ivs-realtime";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BuiltFunction } from "../../local/build.ts";
import { startFunction } from "../../local/runtime.ts";
import { functionsOf, loadTemplate } from "../../local/template.ts";
import { useStack } from "../support/stack.ts";

const PROBE = "STAGEPASS_TEMPLATE_TEST_UNDECLARED";
const stack = useStack({
  env: {
    ...process.env,
    TOKEN_RATE_PER_MINUTE: "1000",
    CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173",
    ROOM_CREATOR_GROUPS: "creators, hosts",
    [PROBE]: "must-not-leak",
  },
});

const LOCAL_ENDPOINT_VARIABLES = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_ENDPOINT_URL_DYNAMODB",
  "AWS_ENDPOINT_URL_IVS_REALTIME",
  "AWS_ENDPOINT_URL_SQS",
  "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
  "JWKS_URI",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
];

describe("the environment each function runs with", () => {
  it("is the template's Globals + function variables, resolved to the local resources", () => {
    const s = stack();
    const template = loadTemplate();
    const queueUrl = s.stack.queues.queues.get("DisconnectQueue")!.url;
    expect(s.stack.environments.size).toBe(functionsOf(template).length);
    for (const fn of functionsOf(template)) {
      const env = s.stack.environments.get(fn.logicalId)!;
      expect(env, fn.logicalId).toMatchObject({
        TABLE_NAME: s.stack.info.tableName,
        USER_POOL_ID: s.stack.info.userPoolId,
        USER_POOL_CLIENT_IDS: s.stack.info.clientId,
        ADMIN_GROUP: "admin",
        ROOM_CREATOR_GROUPS: "creators, hosts",
        TOKEN_USE: "id",
        TOKEN_MODE: "api",
        // The global queue URL, but where a function sets it to "" (the webhook function knows no disconnect queue).
        DISCONNECT_QUEUE_URL: fn.environment.DISCONNECT_QUEUE_URL === "" ? "" : queueUrl,
        // The stack's name (AWS::StackName), the `service` of every log line and metric.
        POWERTOOLS_SERVICE_NAME: "stagepass-local",
        POWERTOOLS_LOG_LEVEL: "ERROR",
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_ENDPOINT_URL_DYNAMODB: s.stack.info.dynamodbEndpoint,
        AWS_ENDPOINT_URL_IVS_REALTIME: s.stack.info.ivsEndpoint,
        JWKS_URI: s.stack.info.jwksUri,
      });
      // The stack's own table ("stagepass-local" under npm start; here one of the run's shared DynamoDB Local).
      expect(s.stack.info.tableName).toMatch(/^stagepass-local(-[0-9a-f]{12})?$/);
      // Exactly the declared variables (less those declared as AWS::NoValue) and the local endpoints: nothing else
      // from the stack's environment.
      const declared = Object.entries(fn.environment)
        .filter(([, v]) => JSON.stringify(v) !== JSON.stringify({ Ref: "AWS::NoValue" }))
        .map(([k]) => k);
      expect(Object.keys(env).sort(), fn.logicalId).toEqual(
        [...new Set([...declared, ...LOCAL_ENDPOINT_VARIABLES])].sort(),
      );
      expect(env[PROBE]).toBeUndefined();
      expect(env.PATH).toBeUndefined();
    }
  });

  it("a declared variable is overridden from the stack's environment (TOKEN_RATE_PER_MINUTE=1000)", async () => {
    const s = stack();
    for (const env of s.stack.environments.values()) expect(env.TOKEN_RATE_PER_MINUTE).toBe("1000");
    // The token function really runs with it: past the template's default of 10 tokens per minute.
    const alice = await s.login("env-alice", { groups: ["creators"] });
    const room = await s.createRoom(alice, { name: "rate" });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await s.api("POST", `/rooms/${room.roomId}/token`, { as: alice })).status);
    expect(statuses).toEqual(Array(12).fill(200));
  });

  it("CORS_ALLOWED_ORIGINS replaces the template's CorsAllowedOrigins (trimmed)", async () => {
    const s = stack();
    expect(s.stack.info.corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
    const preflight = (origin: string) =>
      fetch(`${s.url}/rooms`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    for (const origin of ["https://app.example.com", "http://localhost:5173"]) {
      const r = await preflight(origin);
      expect(r.status).toBe(204);
      expect(r.headers.get("access-control-allow-origin")).toBe(origin);
    }
    const denied = await preflight("https://evil.example");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await fetch(`${s.url}/health`, { headers: { origin: "https://app.example.com" } });
    expect(simple.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });
});

describe("the function sandbox sees exactly the environment it is given", () => {
  const dir = mkdtempSync(join(tmpdir(), "stagepass-env-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("process.env inside the worker is the stack's environment for the function, not the parent's", async () => {
    const s = stack();
    const bundlePath = join(dir, "env.mjs");
    writeFileSync(bundlePath, "export const handler = async () => ({ ...process.env });\n");
    const env = s.stack.environments.get("TokenFunction")!;
    const definition = functionsOf(loadTemplate()).find((f) => f.logicalId === "TokenFunction")!;
    const built = {
      definition,
      bundlePath,
      exportName: "handler",
      bytes: 0,
      metafile: { inputs: {}, outputs: {} },
    } satisfies BuiltFunction;
    process.env[PROBE] = "in-the-parent";
    const runtime = await startFunction(built, env);
    try {
      expect(await runtime.invoke({})).toEqual(env);
    } finally {
      delete process.env[PROBE];
      await runtime.close();
    }
  });
});

// ROOM_CREATOR_GROUPS=creators,hosts: only its members (and admins) may create rooms.
describe("POST /rooms with ROOM_CREATOR_GROUPS=creators,hosts", () => {
  it("403 for a user in neither group, and nothing is created", async () => {
    const s = stack();
    const outsider = await s.login("cr-outsider", { groups: ["viewers", "Creators"] });
    const before = await s.scanTable();
    const stages = (await s.ivs.send(new ListStagesCommand({}))).stages?.length ?? 0;
    s.stack.ivs.resetCounts();
    const r = await s.api("POST", "/rooms", { as: outsider, body: { name: "nope" } });
    expect(r.status, r.text).toBe(403);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ status: 403, code: "forbidden" });
    expect(await s.scanTable()).toEqual(before);
    expect((await s.ivs.send(new ListStagesCommand({}))).stages?.length ?? 0).toBe(stages);
    expect(s.stack.ivs.requestCounts().CreateStage ?? 0).toBe(0);
  });

  it("201 for a member of either group and for an admin", async () => {
    const s = stack();
    for (const [name, groups] of [
      ["cr-creator", ["creators"]],
      ["cr-host", ["x", "hosts"]],
      ["cr-admin", ["admin"]],
    ] as const) {
      const user = await s.login(name, { groups: [...groups] });
      const r = await s.api("POST", "/rooms", { as: user, body: { title: name } });
      expect(r.status, `${name}: ${r.text}`).toBe(201);
      expect(r.body.ownerId).toBe(user.sub);
    }
  });

  it("does not restrict anything else: an outsider still reads and lists open rooms", async () => {
    const s = stack();
    const creator = await s.login("cr-creator", { groups: ["creators"] });
    const outsider = await s.login("cr-outsider2");
    const room = await s.createRoom(creator);
    expect((await s.api("GET", `/rooms/${room.roomId}`, { as: outsider })).body.yourRole).toBe("viewer");
    expect((await s.api("GET", "/rooms?limit=100", { as: outsider })).body.rooms.map((r: any) => r.roomId)).toContain(
      room.roomId,
    );
  });
});
