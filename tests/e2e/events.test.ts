/**
 * events/ and env.json, for `sam local invoke <Function> -e events/<file>.json --env-vars env.json`:
 * - every file is a real API Gateway HTTP API payload 2.0 event (or, for the worker, an SQS event), one at least for
 *   every route of template.yaml, named `<function>-<route>-<status>.json`;
 * - each goes through its function in the offline stack (the same bundle and runtime the HTTP API uses) and gets the
 *   status its name says, its placeholders ({{idToken}}, {{adminIdToken}}, {{roomId}}) filled as
 *   scripts/fill-event.ts fills them: a fresh sign-in and a fresh room;
 * - env.json, which scripts/env-json.ts writes for a running stack (it is not committed: its ports change at every
 *   start), sets only variables the functions declare (sam local ignores the others), and is enough, under sam
 *   local's rules, for the functions to work.
 */
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startFunction } from "../../local/runtime.ts";
import { functionsOf, loadTemplate, projectRoot, routesOf } from "../../local/template.ts";
import {
  envJsonFor,
  onHost,
  samLocalEnvironment,
  writeEnvJson,
  type DevInfo,
  type EnvJson,
} from "../../scripts/env-json.ts";
import { fillEvent, placeholdersOf } from "../../scripts/fill-event.ts";
import { useStack, type TestStack } from "../support/stack.ts";

const stack = useStack();
const template = loadTemplate();
const functions = functionsOf(template);
const eventsDir = join(projectRoot, "events");
const files = readdirSync(eventsDir)
  .filter((f) => f.endsWith(".json"))
  .sort();
const readEvent = (file: string): any => JSON.parse(readFileSync(join(eventsDir, file), "utf8"));

/** `token-post-200.json` → TokenFunction; `disconnect-worker-sqs-ok.json` → DisconnectWorkerFunction. */
const kebab = (logicalId: string) =>
  logicalId
    .replace(/Function$/, "")
    .replace(/(?<!^)(?=[A-Z])/g, "-")
    .toLowerCase();
function parseName(file: string): { logicalId: string; expected: string } {
  const fn = functions.find((f) => file.startsWith(`${kebab(f.logicalId)}-`));
  const m = /-(\d{3}|ok)\.json$/.exec(file);
  if (!fn || !m) throw new Error(`${file}: not named <function>-<route>-<status>.json`);
  return { logicalId: fn.logicalId, expected: m[1]! };
}

const PAYLOAD_V2_KEYS = [
  "version",
  "routeKey",
  "rawPath",
  "rawQueryString",
  "cookies",
  "headers",
  "queryStringParameters",
  "requestContext",
  "body",
  "pathParameters",
  "isBase64Encoded",
  "stageVariables",
];
const USER = "alice";

/** CloudFormation's side of a custom resource: the URL the handler PUTs its answer to, and what it PUT. */
async function responseCatcher() {
  const bodies: any[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString();
    });
    req.on("end", () => {
      bodies.push({ method: req.method, ...JSON.parse(text) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/cfn-response`,
    bodies,
    close: () => server.close(),
  };
}

async function valuesFor(s: TestStack, event: unknown) {
  const needed = placeholdersOf(event);
  const alice = await s.login(USER);
  const admin = await s.login("root", { groups: ["admin"] });
  return {
    idToken: alice.idToken,
    adminIdToken: admin.idToken,
    ...(needed.includes("roomId")
      ? { roomId: (await s.createRoom(alice, { name: "event", title: "For an event" })).roomId as string }
      : {}),
  };
}

describe("events/", () => {
  it("names a function and a status, and covers every route of template.yaml and every function", () => {
    expect(files.length).toBeGreaterThan(0);
    const covered = new Set<string>();
    const functionsCovered = new Set<string>();
    for (const file of files) {
      const { logicalId } = parseName(file);
      functionsCovered.add(logicalId);
      const event = readEvent(file);
      if (event.routeKey) covered.add(`${logicalId} ${event.routeKey}`);
    }
    const routes = routesOf(template).map((r) => `${r.functionLogicalId} ${r.routeKey}`);
    expect(
      routes.filter((r) => !covered.has(r)),
      "routes without an event",
    ).toEqual([]);
    expect(
      [...covered].filter((r) => !routes.includes(r)),
      "events for routes the template does not route to that function",
    ).toEqual([]);
    expect(
      functions.map((f) => f.logicalId).filter((id) => !functionsCovered.has(id)),
      "functions without an event",
    ).toEqual([]);
  });

  it.each(files.filter((f) => readEvent(f).version === "2.0"))(
    "%s is an HTTP API payload 2.0 event of its route",
    (file) => {
      const e = readEvent(file);
      expect(Object.keys(e).filter((k) => !PAYLOAD_V2_KEYS.includes(k))).toEqual([]);
      const [method, path] = e.routeKey.split(" ");
      const params: string[] = [...path.matchAll(/\{(\w+)\}/g)].map((m: RegExpMatchArray) => m[1]!);
      expect(Object.keys(e.pathParameters ?? {}).sort()).toEqual(params.sort());
      expect(e.rawPath).toBe(path.replace(/\{(\w+)\}/g, (_: string, k: string) => e.pathParameters[k]));
      expect(e.requestContext).toMatchObject({
        routeKey: e.routeKey,
        stage: "$default",
        http: { method, path: e.rawPath },
      });
      expect(e.requestContext.accountId).toMatch(/^\d{12}$/);
      expect(typeof e.requestContext.requestId).toBe("string");
      expect(e.requestContext.timeEpoch).toBe(
        Date.parse(e.requestContext.time.replace(/^(\d\d)\/(\w+)\/(\d{4}):([\d:]+) \+0000$/, "$2 $1 $3 $4 UTC")),
      );
      for (const name of Object.keys(e.headers)) expect(name).toBe(name.toLowerCase());
      expect(e.rawQueryString).toBe(new URLSearchParams(e.queryStringParameters ?? {}).toString());
      if (e.body !== undefined) {
        expect(e.headers["content-type"]).toBe("application/json");
        expect(Number(e.headers["content-length"])).toBe(Buffer.byteLength(e.body));
        expect(e.isBase64Encoded).toBe(false);
      }
      const needsAuth = e.routeKey !== "GET /health" && !file.endsWith("-401.json");
      expect(e.headers.authorization === undefined, "authorization header").toBe(!needsAuth);
    },
  );

  it.each(files)("%s gets the status its name says from its function", async (file) => {
    const s = stack();
    const { logicalId, expected } = parseName(file);
    const raw = readEvent(file);
    const catcher = placeholdersOf(raw).includes("responseUrl") ? await responseCatcher() : undefined;
    const event = fillEvent(raw, { ...(await valuesFor(s, raw)), ...(catcher ? { responseUrl: catcher.url } : {}) });
    expect(placeholdersOf(event)).toEqual([]);
    const result: any = await s.stack.functions.get(logicalId)!.invoke(event);
    if (expected === "ok" && catcher) {
      // A custom resource answers CloudFormation through its response URL.
      catcher.close();
      expect(catcher.bodies).toHaveLength(1);
      expect(catcher.bodies[0]).toMatchObject({
        method: "PUT",
        Status: "SUCCESS",
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
      });
      return;
    }
    if (expected === "ok") {
      expect(result).toEqual({ batchItemFailures: [] });
      return;
    }
    expect(result.statusCode, result.body).toBe(Number(expected));
    expect(result.headers["x-request-id"]).toBe(event.requestContext.requestId);
    if (Number(expected) >= 400) expect(result.headers["content-type"]).toBe("application/problem+json");
  });
});

describe("env.json", () => {
  /** What `npx tsx scripts/env-json.ts` writes for the running stack (into a scratch directory, not the project's). */
  async function written(): Promise<EnvJson> {
    const dir = mkdtempSync(join(tmpdir(), "env-json-"));
    try {
      const returned = await writeEnvJson({ api: stack().url, out: join(dir, "env.json") });
      const file = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as EnvJson;
      expect(file).toEqual(returned);
      return file;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("as scripts/env-json.ts writes it, sets for each function of the template only variables that function declares", async () => {
    const envJson = await written();
    for (const [section, vars] of Object.entries(envJson)) {
      const fn = functions.find((f) => f.logicalId === section);
      expect(fn, `env.json section ${section} is no function of template.yaml`).toBeDefined();
      for (const name of Object.keys(vars))
        expect(Object.keys(fn!.environment), `${section}.${name} is not declared, sam local would ignore it`).toContain(
          name,
        );
    }
    // What points the functions at the offline stack is there for each function that calls the service.
    for (const id of ["RoomsFunction", "TokenFunction", "ModerationFunction"]) {
      expect(Object.keys(envJson[id]!)).toEqual(
        expect.arrayContaining([
          "AWS_ENDPOINT_URL_DYNAMODB",
          "AWS_ENDPOINT_URL_IVS_REALTIME",
          "JWKS_URI",
          "TABLE_NAME",
          "USER_POOL_ID",
          "USER_POOL_CLIENT_IDS",
        ]),
      );
    }
    expect(Object.keys(envJson.DisconnectWorkerFunction!)).toContain("AWS_ENDPOINT_URL_IVS_REALTIME");
    // sam local's containers reach the stack on the host, by default as Docker Desktop names it.
    for (const vars of Object.values(envJson)) {
      for (const value of Object.values(vars))
        if (value.startsWith("http")) expect(value).toMatch(/^http:\/\/host\.docker\.internal:\d+/);
    }
  });

  it("is enough under sam local's rules: only declared variables are set, and the functions work with them", async () => {
    const s = stack();
    const info = (await (await fetch(`${s.url}/dev/info`)).json()) as DevInfo;
    // No Docker here: the same env.json, with the services reached on 127.0.0.1.
    const envJson = envJsonFor(template, info, "127.0.0.1");
    expect(envJson.TokenFunction!.JWKS_URI).toBe(onHost(info.jwksUri, "127.0.0.1"));
    for (const [logicalId, file] of [
      ["TokenFunction", "token-post-200.json"],
      ["RoomsFunction", "rooms-create-201.json"],
      ["ModerationFunction", "moderation-audit-200.json"],
    ] as const) {
      const fn = functions.find((f) => f.logicalId === logicalId)!;
      const env = samLocalEnvironment(fn, template, {
        ...envJson,
        [logicalId]: { ...envJson[logicalId], POWERTOOLS_LOG_LEVEL: "ERROR", NOT_DECLARED: "ignored" },
      });
      expect(env.NOT_DECLARED).toBeUndefined();
      // Without env.json, sam local would hand the code the logical ids and empty endpoints.
      expect(samLocalEnvironment(fn, template, {})).toMatchObject({
        TABLE_NAME: "Table",
        USER_POOL_ID: "UserPool",
        AWS_ENDPOINT_URL_DYNAMODB: "",
      });
      const runtime = await startFunction(
        s.stack.built.find((b) => b.definition.logicalId === logicalId)!,
        env,
      );
      try {
        const raw = readEvent(file);
        const result: any = await runtime.invoke(fillEvent(raw, await valuesFor(s, raw)));
        expect(result.statusCode, `${logicalId}: ${result.body}`).toBe(Number(/-(\d{3})\.json$/.exec(file)![1]));
      } finally {
        await runtime.close();
      }
    }
  });
});
