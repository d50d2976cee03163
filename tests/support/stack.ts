// Test support: the offline stack, and small helpers to call it as a client would. The suites of one vitest project
// that runs through the stack share one stack, started by the first file that asks for it and closed after the last
// (vitest.config.ts, stack-environment.ts); a suite that needs other settings gets a stack of its own.
import { IVSRealTimeClient } from "@aws-sdk/client-ivs-realtime";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { buildAll, buildRoot, type BuiltFunction } from "../../local/build.ts";
import { startStack, type Stack, type StackOptions } from "../../local/stack.ts";
import { loadTemplate } from "../../local/template.ts";
import { atTeardown, canShare, register } from "./shared-stacks.ts";
import { sharedDynamoDbLocal, uniqueTableName } from "./table-names.ts";

export interface Session {
  username: string;
  sub: string;
  idToken: string;
  accessToken: string;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestStack {
  stack: Stack;
  url: string;
  /** The token function's TOKEN_MODE (the vitest project "self-signed" runs suites with TOKEN_MODE=self-signed). */
  tokenMode: "api" | "self-signed";
  login(username: string, opts?: { groups?: string[]; preferredUsername?: string }): Promise<Session>;
  api<T = any>(
    method: string,
    path: string,
    opts?: { as?: Session; token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  /** Creates a room as `owner` and returns its body (asserts 201). */
  createRoom(owner: Session, body?: Record<string, unknown>): Promise<any>;
  ivs: IVSRealTimeClient;
  /** POST /_emulator/join with a participant token. */
  join(token: string): Promise<ApiResponse>;
  participants(
    roomId: string,
  ): Promise<Array<{ participantId: string; userId: string; state: string; capabilities: string[] }>>;
  /** Every item in the table (for "nothing changed" checks). */
  scanTable(): Promise<Array<Record<string, unknown>>>;
}

let workerBuild: Promise<BuiltFunction[]> | undefined;

/**
 * The template's functions, built once for every stack of this worker that runs them (when the test environment
 * removes the build as the worker stops; else undefined: each stack builds its own).
 */
function builtOnce(): Promise<BuiltFunction[]> | undefined {
  if (!canShare()) return undefined;
  if (!workerBuild) {
    const dir = join(buildRoot, `tests-${process.pid}`);
    workerBuild = buildAll(loadTemplate(), dir);
    workerBuild.catch(() => {
      workerBuild = undefined;
    });
    atTeardown(() => rm(dir, { recursive: true, force: true }));
  }
  return workerBuild;
}

/**
 * A stack for tests: on the run's DynamoDB Local with a table of its own (when the project set one up), and with the
 * worker's build of the functions unless it runs a template of its own.
 */
export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const dynamoDbLocal = sharedDynamoDbLocal();
  const built = options.template || options.built ? undefined : await builtOnce();
  const stack = await startStack({
    port: 0,
    logLevel: "ERROR",
    ...(dynamoDbLocal ? { dynamoDbLocal, tableName: uniqueTableName("stagepass-local") } : {}),
    ...(built ? { built } : {}),
    ...options,
  });
  const url = stack.url;
  const sessions = new Map<string, Session>();
  const ivs = new IVSRealTimeClient({
    endpoint: stack.ivs.url,
    region: stack.info.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const ddb = new DynamoDBClient({
    endpoint: stack.dynamodb.directEndpoint,
    region: stack.info.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });

  const call = async (
    method: string,
    target: string,
    init: { headers?: Record<string, string>; body?: string },
  ): Promise<ApiResponse> => {
    const response = await fetch(target, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    const text = await response.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: response.status, headers: response.headers, body, text };
  };

  const t: TestStack = {
    stack,
    url,
    tokenMode: stack.environments.get("TokenFunction")?.TOKEN_MODE === "self-signed" ? "self-signed" : "api",
    ivs,
    async login(username, opts = {}) {
      const key = JSON.stringify([username, opts]);
      const cached = sessions.get(key);
      if (cached) return cached;
      const r = await call("POST", `${url}/dev/login`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, ...opts }),
      });
      if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
      const session = { username, sub: r.body.sub, idToken: r.body.idToken, accessToken: r.body.accessToken };
      sessions.set(key, session);
      return session;
    },
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token ?? opts.as?.idToken;
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers["content-type"] ??= "application/json";
      }
      return call(method, `${url}${path}`, { headers, ...(body !== undefined ? { body } : {}) });
    },
    async createRoom(owner, body = {}) {
      const r = await t.api("POST", "/rooms", { as: owner, body });
      if (r.status !== 201) throw new Error(`createRoom failed: ${r.status} ${r.text}`);
      return r.body;
    },
    join(token) {
      return call("POST", `${stack.ivs.url}/_emulator/join`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
    },
    async participants(roomId) {
      const r = await call("GET", `${stack.ivs.url}/_emulator/stages/${roomId}/participants`, {});
      return r.body.participants;
    },
    async scanTable() {
      const items: Array<Record<string, unknown>> = [];
      let start: Record<string, any> | undefined;
      do {
        const out = await ddb.send(
          new ScanCommand({
            TableName: stack.info.tableName,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      // Each item's JSON once, not once per comparison: a shared stack's table holds thousands of items.
      return items
        .map((item) => ({ item, json: JSON.stringify(item) }))
        .sort((a, b) => (a.json < b.json ? -1 : a.json > b.json ? 1 : 0))
        .map(({ item }) => item);
    },
  };
  return t;
}

/**
 * Stages the shared stack's IVS emulator allows: every suite of a run creates its rooms there, past IVS's default of
 * 100 (a suite that tests the quota fills the emulator up to this).
 */
export const SHARED_IVS_MAX_STAGES = 1_000;

const SHARED_OPTIONS: StackOptions = { ivsMaxStages: SHARED_IVS_MAX_STAGES };

export interface UseStackOptions extends StackOptions {
  /**
   * A stack of the suite's own even with the shared stack's settings: for a suite whose assertions take in everything
   * the stack holds (every room a listing shows), which other suites' rooms would change.
   */
  own?: boolean;
}

/** Whether `options` ask for nothing the shared stack does not have. */
function sharedSettings(options: UseStackOptions): boolean {
  const { own, env, port, logLevel, region, accountId, enforceIvsRates, ivsMaxStages, accessLog, template, ...rest } =
    options;
  const sameEnv =
    env === undefined ||
    (() => {
      const keys = new Set([...Object.keys(env), ...Object.keys(process.env)]);
      return [...keys].every((k) => env[k] === process.env[k]);
    })();
  return (
    !own &&
    sameEnv &&
    Object.keys(rest).length === 0 &&
    (port === undefined || port === 0) &&
    (logLevel === undefined || logLevel === "ERROR") &&
    (region === undefined || region === "us-east-1") &&
    (accountId === undefined || accountId === "123456789012") &&
    !enforceIvsRates &&
    (ivsMaxStages === undefined || ivsMaxStages === SHARED_IVS_MAX_STAGES) &&
    accessLog === undefined &&
    template === undefined
  );
}

let shared: Promise<TestStack> | undefined;

function sharedStack(): Promise<TestStack> {
  if (!shared) {
    shared = startTestStack(SHARED_OPTIONS);
    register(shared);
    // A stack that failed to start is not kept: the next file tries again.
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/**
 * Leaves the shared stack as a suite found it: no injected IVS faults, DynamoDB reachable, IVS's rates not enforced,
 * and no disconnect still queued (the next suite's request counts are its own).
 */
async function settle(s: TestStack): Promise<void> {
  await fetch(`${s.stack.ivs.url}/_emulator/faults`, { method: "DELETE" });
  s.stack.dynamodb.setReachable(true);
  s.stack.ivs.setEnforceRates(false);
  await s.stack.queues.queues.get("DisconnectQueue")?.drained(60_000);
}

/**
 * The stack for this file's tests; use the returned getter inside tests. With no options (or only the shared stack's
 * settings), the stack the suites of this run share, when the test environment shares one (vitest.config.ts): a
 * suite isolates itself by its own rooms and users. With other options (env overrides, enforceIvsRates, a template,
 * `own`), a stack of the file's own, started before its tests and stopped after.
 */
export function useStack(options: UseStackOptions = {}): () => TestStack {
  let current: TestStack | undefined;
  if (sharedSettings(options) && canShare()) {
    beforeAll(async () => {
      current = await sharedStack();
      await settle(current);
    }, 180_000);
    afterAll(async () => {
      if (current) await settle(current);
    }, 90_000);
  } else {
    const { own: _own, ...stackOptions } = options;
    beforeAll(async () => {
      current = await startTestStack(stackOptions);
    }, 180_000);
    afterAll(async () => {
      await current?.stack.close();
    }, 60_000);
  }
  return () => {
    if (!current) throw new Error("the stack is not started");
    return current;
  };
}
